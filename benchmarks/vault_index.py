"""The Vault index: how long `radar index vault` takes for 10,000 values in a local OpenBao, and
what `--vault-index` adds to a directory scan.

Usage: .venv/bin/python benchmarks/vault_index.py [--write] [--rounds N]

1. A dev-mode OpenBao on 127.0.0.1 (tests/vault_fixtures.py) gets 10,000 values: 2,500 KV v2
   secrets in 3 versions and 750 in 2 (one field each), 10 of them PEM private keys, and 1,000
   KV v1 secrets, under nested folders. Values are random, never printed.
2. `radar index vault --output INDEX` runs as a user would run it (a subprocess, root token):
   wall time from spawn to exit and the child's peak RSS (wait4), --rounds times, median.
3. A directory to scan: the labelled corpus (corpus/files), radar's own source tree, copies of
   the pip, pygments, hypothesis, setuptools, cryptography and regex packages from this virtualenv, and 300 `.env` files: 200 holding a value Vault has (latest or older version), 100 one it has not.
   `radar scan DIR --format json` runs with and without `--vault-index INDEX`, interleaved,
   after one warm-up of each; the medians of wall and CPU time and the differences are reported
   (on a shared machine wall time varies by tens of per cent from run to run), and the marked
   findings are counted (so the index is known to have been used).
4. In process: loading the index (`load_index`): its time (median of --rounds), and the memory
   it holds (tracemalloc, another load), per entry, and what that makes for a million entries.

With --write, rewrites its section of benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import tracemalloc
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import results  # benchmarks/results.py: the shared RESULTS.md writer

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "tests"))

import requests  # noqa: E402
from cryptography.hazmat.primitives import serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import rsa  # noqa: E402

from radar.scan.findings import FingerprintKey  # noqa: E402
from radar.scan.vault_index import load_index  # noqa: E402
from vault_fixtures import ROOT_TOKEN, mount, start_bao, stop_bao  # noqa: E402

SECTION = "vault-index"
KEY_TEXT = "vault-index-benchmark-key"
THREE_VERSIONS, TWO_VERSIONS, V1_SECRETS, PEM_KEYS = 2_500, 750, 1_000, 10  # 10,000 values


def populate(url: str) -> tuple[int, list[tuple[str, bool]]]:
    """Write the values; return how many, and (value, latest) samples for the scanned files."""
    local = threading.local()

    def post(path: str, body: dict) -> dict:
        if not hasattr(local, "session"):
            local.session = requests.Session()
        session = local.session
        r = session.post(f"{url}/v1/{path}", json=body, headers={"X-Vault-Token": ROOT_TOKEN}, timeout=30)
        if r.status_code not in (200, 204):
            raise SystemExit(f"populating Vault: POST {path}: HTTP {r.status_code}")
        return r.json() if r.content else {}

    pems = [rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
        for _ in range(PEM_KEYS)]

    def v2_secret(i: int) -> list[tuple[str, bool]]:
        versions = 3 if i < THREE_VERSIONS else 2
        written = []
        for n in range(versions):
            value = pems[i] if i < PEM_KEYS and n == versions - 1 else "s3cr3t-" + secrets.token_urlsafe(18)
            post(f"secret/data/team{i % 20:02d}/app{i % 7}/svc{i:05d}", {"data": {"password": value}})
            written.append((value, n == versions - 1))
        return written

    def v1_secret(i: int) -> list[tuple[str, bool]]:
        value = "l3gacy-" + secrets.token_urlsafe(18)  # a digit: the generic token rule wants one
        post(f"legacy/ci/group{i % 10}/token{i:05d}", {"token": value})
        return [(value, True)]

    with ThreadPoolExecutor(16) as pool:
        v2 = list(pool.map(v2_secret, range(THREE_VERSIONS + TWO_VERSIONS)))
        v1 = list(pool.map(v1_secret, range(V1_SECRETS)))
    written = [w for ws in v2 + v1 for w in ws]
    samples = [w for w in written[PEM_KEYS * 3::40] if not w[0].startswith("-----")][:200]
    return len(written), samples


def timed(argv: list[str], env: dict[str, str]) -> tuple[int, float, float, bytes, float]:
    """(exit status, wall s, peak RSS MB, stdout, CPU s) of one run; CPU time (user + system, the
    scan's worker processes included: radar waits for them) is what a loaded machine disturbs least."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    return (os.waitstatus_to_exitcode(status), time.perf_counter() - start, usage.ru_maxrss / 1024, out,
            usage.ru_utime + usage.ru_stime)


def make_tree(root: Path, samples: list[tuple[str, bool]]) -> None:
    shutil.copytree(ROOT / "corpus" / "files", root / "corpus")
    shutil.copytree(ROOT / "radar", root / "radar", ignore=shutil.ignore_patterns("__pycache__"))
    site = Path(requests.__file__).resolve().parent.parent
    for package in ("pip", "pygments", "hypothesis", "setuptools", "cryptography", "regex"):
        if (site / package).is_dir():
            shutil.copytree(site / package, root / "site" / package, ignore=shutil.ignore_patterns("__pycache__"))
    for i, (value, _) in enumerate(samples):
        (root / "env" / f"in-vault-{i:03d}.env").parent.mkdir(parents=True, exist_ok=True)
        (root / "env" / f"in-vault-{i:03d}.env").write_text(f'DB_PASSWORD="{value}"\n')
    for i in range(100):
        (root / "env" / f"elsewhere-{i:03d}.env").write_text(f'DB_PASSWORD="s3cr3t-{secrets.token_urlsafe(18)}"\n')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="rewrite this benchmark's section of RESULTS.md")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    radar = [sys.executable, "-m", "radar"]
    with tempfile.TemporaryDirectory(prefix="radar-bench-index-") as tmp:
        work = Path(tmp)
        server = start_bao(work / "bao")
        try:
            mount(server, "legacy", 1)
            start = time.perf_counter()
            values, samples = populate(server.url)
            print(f"populated {values} values in {time.perf_counter() - start:.1f} s", file=sys.stderr)
            env = {"PATH": os.environ["PATH"], "HOME": str(work), "VAULT_ADDR": server.url,
                   "VAULT_TOKEN": ROOT_TOKEN, "RADAR_FINGERPRINT_KEY": KEY_TEXT}
            index = work / "vault.index"
            builds = []
            for _ in range(args.rounds):
                status, wall, rss, _, _ = timed([*radar, "index", "vault", "--output", str(index)], env)
                if status != 0:
                    raise SystemExit(f"radar index vault exited {status}")
                builds.append((wall, rss))
                print(f"index build: {wall:.2f} s, {rss:.0f} MB", file=sys.stderr)
        finally:
            stop_bao(server)
        header = json.loads(index.read_text().split("\n", 1)[0])
        size_mb = index.stat().st_size / 1e6

        tree = work / "tree"
        make_tree(tree, samples)
        scans: dict[str, list[float]] = {"without": [], "with": []}
        cpu: dict[str, list[float]] = {"without": [], "with": []}
        marked = 0
        plain = [*radar, "scan", str(tree), "--format", "json"]
        for round_ in range(args.rounds + 1):  # round 0 warms up both
            for kind, argv in (("without", plain), ("with", [*plain, "--vault-index", str(index)])):
                status, wall, _, out, used = timed(argv, env)
                if status not in (0, 1):
                    raise SystemExit(f"radar scan ({kind} the index) exited {status}")
                if kind == "with":
                    marked = sum(1 for f in json.loads(out)["findings"] if f.get("in_vault"))
                if round_:
                    scans[kind].append(wall)
                    cpu[kind].append(used)
                    print(f"scan {kind} the index: {wall:.2f} s, CPU {used:.2f} s", file=sys.stderr)

        key = FingerprintKey(KEY_TEXT.encode())
        loads = []
        for _ in range(args.rounds):
            start = time.perf_counter()
            load_index(str(index), key)
            loads.append(time.perf_counter() - start)
        load_s = statistics.median(loads)
        tracemalloc.start()  # apart from the timing: tracing slows allocation several times over
        loaded = load_index(str(index), key)
        held, _ = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        digests = len(loaded)
        files = sum(1 for _ in tree.rglob("*") if _.is_file())
        tree_mb = sum(p.stat().st_size for p in tree.rglob("*") if p.is_file()) / 1e6

    build_s = statistics.median(w for w, _ in builds)
    build_rss = max(r for _, r in builds)
    without, with_ = statistics.median(scans["without"]), statistics.median(scans["with"])
    cpu_without, cpu_with = statistics.median(cpu["without"]), statistics.median(cpu["with"])
    per_entry = held / header["entries"]
    section = "\n".join([
        "## Vault index (`benchmarks/vault_index.py`)",
        "",
        f"Machine: {results.machine()}. Local dev-mode OpenBao on 127.0.0.1, root token; "
        f"median of {args.rounds} runs each, scans interleaved after a warm-up.",
        "",
        "| measure | result |",
        "|---|---|",
        f"| values in Vault (KV v2: {THREE_VERSIONS:,} secrets x 3 versions, {TWO_VERSIONS:,} x 2; "
        f"KV v1: {V1_SECRETS:,}; {PEM_KEYS} PEM keys) | {values:,} |",
        f"| `radar index vault` wall time (target <= 30 s) | {build_s:.1f} s "
        f"(runs: {', '.join(f'{w:.1f}' for w, _ in builds)}) |",
        f"| its peak RSS | {build_rss:.0f} MB |",
        f"| index: entries / file size | {header['entries']:,} / {size_mb:.1f} MB |",
        f"| scanned tree | {files:,} files, {tree_mb:.1f} MB; {len(samples)} hold a Vault value, 100 another |",
        f"| `radar scan` without `--vault-index` | {without:.2f} s |",
        f"| `radar scan` with `--vault-index` (target <= +5 %) | {with_:.2f} s "
        f"({(with_ / without - 1) * 100:+.1f} %, {(with_ - without) * 1000:+.0f} ms) |",
        f"| CPU time (user + system, workers included) without / with | {cpu_without:.2f} s / {cpu_with:.2f} s "
        f"({(cpu_with / cpu_without - 1) * 100:+.1f} %, {(cpu_with - cpu_without) * 1000:+.0f} ms) |",
        f"| findings marked `in_vault` | {marked} |",
        f"| `load_index` in process: time (median) / memory held | {load_s * 1000:.0f} ms / {held / 1e6:.1f} MB "
        f"({per_entry:.0f} bytes per entry, {digests:,} digests) |",
        f"| so 1,000,000 entries would hold about | {per_entry:.0f} MB |",
    ])
    print(section)
    if args.write:
        results.write_section(SECTION, section)


if __name__ == "__main__":
    main()
