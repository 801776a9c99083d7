"""radar scan on a tree of archives, against betterleaks and kingfisher; and on compression bombs.

Run `python benchmarks/scan_archives.py [--archives N] [--write]` (the peers come from
benchmarks/requirements.txt, as `make bench` installs them).

1. A tree of N archives (default 200), a quarter each zip, jar (a zip holding a nested jar),
   tar.gz and tar.xz, each with 20 text members of about 4 KB and one planted GitLab personal
   access token (`glpat-` and 20 characters, a format all three tools know). Each tool scans
   the tree once after a warm-up run; measured: wall time, peak RSS of the process tree (sampled
   every 20 ms, as scan_benchmark.py does), and how many of the N tokens it reports (a finding
   whose value is a planted token, matched by the member's file name in its path).
2. Bombs, each alone in a directory: a zip whose one member is 1 GiB of zeros (1 MB on disk), a
   tar.gz of 1 GiB of zeros, and a 42.zip-shaped nest (16 zips of 16 zips of 16 zips of 16 zips
   of a 16 MiB member). Each tool runs once with a 120 s bound; measured: wall time, peak RSS,
   exit status.

betterleaks runs with `--max-archive-depth 3` (its default is 8), the same depth as
radar's default; kingfisher with its defaults. `--write` puts the tables in
benchmarks/RESULTS.md (section scan-archives).
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import os
import random
import string
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from results import machine, write_section  # noqa: E402
from scan_benchmark import kingfisher_command, measure, radar_command, tool  # noqa: E402

SECTION = "scan-archives"
BOUND = 120.0


def token(rng: random.Random) -> str:
    return "glpat-" + "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(20))


def text_member(rng: random.Random) -> bytes:
    words = ["service", "port", "timeout", "retries", "region", "bucket", "logging", "feature"]
    return "".join(f"{rng.choice(words)}_{n} = {rng.randint(0, 99999)}\n" for n in range(280)).encode()


def build_tree(root: Path, n: int) -> dict[str, str]:
    """N archives under `root`; returns {member file name holding the token: token}."""
    rng = random.Random(7)
    planted = {}
    for i in range(n):
        members = {f"conf/settings-{i}-{m}.ini": text_member(rng) for m in range(19)}
        secret = token(rng)
        name = f"secrets-{i}.env"
        members[f"conf/{name}"] = f"GITLAB_TOKEN={secret}\n".encode()
        planted[name] = secret
        kind = ("zip", "jar", "tgz", "txz")[i % 4]
        target = root / f"pkg{i % 10}" / f"bundle-{i}.{ 'tar.xz' if kind == 'txz' else kind}"
        target.parent.mkdir(parents=True, exist_ok=True)
        if kind in ("zip", "jar"):
            if kind == "jar":  # the token one level down, in a jar inside the jar
                inner = _zip({f"conf/{name}": members.pop(f"conf/{name}")})
                members[f"lib/inner-{i}.jar"] = inner
            target.write_bytes(_zip(members))
        else:
            target.write_bytes(_tar(members, "w:gz" if kind == "tgz" else "w:xz"))
    return planted


def _zip(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


def _tar(members: dict[str, bytes], mode: str) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode=mode) as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return out.getvalue()


def build_bombs(root: Path) -> dict[str, Path]:
    zeros = b"\0" * (1 << 20)
    bombs = {}
    d = root / "zip-1gib"
    d.mkdir(parents=True)
    with zipfile.ZipFile(d / "bomb.zip", "w", zipfile.ZIP_DEFLATED) as archive:
        with archive.open("zeros.txt", "w", force_zip64=True) as f:
            for _ in range(1024):
                f.write(zeros)
    bombs["zip, one 1 GiB member"] = d
    d = root / "tgz-1gib"
    d.mkdir()
    with tarfile.open(d / "bomb.tgz", "w:gz") as archive:
        info = tarfile.TarInfo("zeros.txt")
        info.size = 1 << 30
        archive.addfile(info, _Zeros(1 << 30))
    bombs["tar.gz, one 1 GiB member"] = d
    d = root / "42-shaped"
    d.mkdir()
    layer = _zip({"0.txt": b"\0" * (16 << 20)})
    for _ in range(4):
        layer = _zip({f"{n}.zip": layer for n in range(16)})
    (d / "42.zip").write_bytes(layer)
    bombs["42.zip-shaped, 16^4 x 16 MiB"] = d
    return bombs


class _Zeros(io.RawIOBase):
    def __init__(self, n: int) -> None:
        self.left = n

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def]
        n = min(len(buffer), self.left)
        buffer[:n] = bytes(n)
        self.left -= n
        return n


def betterleaks_command(target: Path, output: Path) -> list[str]:
    return [tool("betterleaks"), "fs", str(target), "-o", str(output), "-s", "--no-banner", "-l", "error",
            "--max-archive-depth", "3"]


COMMANDS = {"radar": radar_command, "betterleaks": betterleaks_command, "kingfisher": kingfisher_command}


def found(name: str, output: Path, planted: dict[str, str]) -> int:
    """How many planted tokens the tool's report names, by the member file holding each."""
    try:
        text = output.read_text()
    except OSError:
        return 0
    return sum(1 for member in planted if member in text)


def version(name: str) -> str:
    argv = [tool(name), "--version"] if name != "radar" else [sys.executable, "-m", "radar", "--version"]
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=30).stdout.strip().splitlines()
    except OSError:
        return f"{name} not found"
    return out[0] if out else name


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--archives", type=int, default=200)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    env = dict(os.environ, RADAR_FINGERPRINT_KEY="benchmark")
    with tempfile.TemporaryDirectory(prefix="radar-archives-") as work:
        root = Path(work)
        tree = root / "tree"
        planted = build_tree(tree, args.archives)
        size = sum(p.stat().st_size for p in tree.rglob("*") if p.is_file())
        rows = []
        for name, command in COMMANDS.items():
            output = root / f"{name}.json"
            measure(command(tree, output), env=env, timeout=BOUND * 5)  # warm-up
            seconds, peak, status = measure(command(tree, output), env=env, timeout=BOUND * 5)
            rows.append(f"| {name} | {seconds:.2f} | {peak / 2**20:.0f} | {status} | "
                        f"{found(name, output, planted)} of {len(planted)} |")
            print(rows[-1], flush=True)
        bomb_rows = []
        for label, directory in build_bombs(root / "bombs").items():
            for name, command in COMMANDS.items():
                output = root / f"{name}-bomb.json"
                seconds, peak, status = measure(command(directory, output), env=env, timeout=BOUND)
                shown = "killed at the bound" if status == -9 else f"exit {status}"
                bomb_rows.append(f"| {label} | {name} | {seconds:.2f} | {peak / 2**20:.0f} | {shown} |")
                print(bomb_rows[-1], flush=True)
    section = "\n".join([
        "## radar scan: archives (`benchmarks/scan_archives.py`)",
        "",
        f"{args.archives} archives ({size / 1e6:.1f} MB: zip, jar with a nested jar, tar.gz, tar.xz), each with 20 "
        "text members and one planted GitLab token; one run after a warm-up.",
        f"Machine: {machine(*(version(n) for n in COMMANDS))}.",
        "",
        "| tool | wall s | peak RSS MiB | exit | planted tokens found |",
        "|---|---:|---:|---:|---:|",
        *rows,
        "",
        f"Compression bombs, each alone in a directory, one run each, killed after {BOUND:g} s:",
        "",
        "| bomb | tool | wall s | peak RSS MiB | outcome |",
        "|---|---|---:|---:|---|",
        *bomb_rows,
    ])
    print(section)
    if args.write:
        write_section(SECTION, section)


if __name__ == "__main__":
    main()
