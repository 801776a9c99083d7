"""radar scan --history against `betterleaks git` and `kingfisher scan --git-history full`, one run.

Run `python benchmarks/scan_history.py` (after `pip install -r benchmarks/requirements.txt`).

The repository: under benchmarks/work/ (git-ignored), `pip download --no-deps --no-binary :all:`
fetches the sdists of several released versions of one PyPI package (Django by default), and
each version's unpacked source becomes one commit (files replaced wholesale, so deletions and
renames between releases are real), on one branch, with a tag per version. All three tools scan a
bare clone of it, so none of them reads a working tree: only history.

Measured for each tool, offline (no validation), in `--rounds` interleaved rounds after a warm-up
round: median wall time; MB/s =
total size of the unique blobs reachable from the refs (`git cat-file --batch-all-objects`,
blobs only) over wall time; peak RSS summed over the process tree (sampled every 20 ms, as in
scan_benchmark.py); findings as the tool reports them (betterleaks and kingfisher: one per
commit/location) and after de-duplication by secret value (radar's fingerprint, betterleaks'
and kingfisher's own fingerprint/secret hash fields where they have them, else rule + path +
line). `--write` puts the table into benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import results
from scan_benchmark import measure, tool

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "benchmarks" / "work" / "history"
SECTION = "scan-history"
DEFAULT_PACKAGE = "django"
DEFAULT_VERSIONS = ("3.0", "3.1", "3.2", "4.0", "4.1", "4.2", "4.2.1", "5.0", "5.1", "5.2")


def build_repository(package: str, versions: tuple[str, ...]) -> Path:
    sdists = WORK / "sdists"
    sdists.mkdir(parents=True, exist_ok=True)
    repo = WORK / f"{package}-repo"
    bare = WORK / f"{package}-bare.git"
    if bare.exists():
        return bare
    subprocess.run(["rm", "-rf", str(repo)], check=True)
    repo.mkdir(parents=True)
    git = lambda *args, **env: subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True,  # noqa: E731
                                              env=dict(os.environ, **env))
    git("init", "-q", "-b", "main")
    git("config", "user.name", "Release Importer")
    git("config", "user.email", "importer@example.invalid")
    for day, version in enumerate(versions):
        subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--no-binary", ":all:",
                        "-d", str(sdists), f"{package}=={version}"], check=True, capture_output=True)
        [archive] = [p for p in sdists.iterdir()
                     if p.name.lower().startswith(f"{package}-{version}.tar".lower())]
        for entry in repo.iterdir():
            if entry.name != ".git":
                subprocess.run(["rm", "-rf", str(entry)], check=True)
        with tarfile.open(archive) as tar:
            tar.extractall(repo, filter="data")
        [top] = [p for p in repo.iterdir() if p.name != ".git"]
        for entry in top.iterdir():
            entry.rename(repo / entry.name)
        top.rmdir()
        date = f"2024-01-{day + 1:02d}T12:00:00+00:00"
        git("add", "-A")
        git("commit", "-q", "-m", f"{package} {version}", GIT_AUTHOR_DATE=date, GIT_COMMITTER_DATE=date)
        git("tag", f"v{version}")
    # --no-local: through git's transport, so the bare copy holds the packed, deltified objects a
    # clone from a server would (a local clone hard-links the work repository's loose objects).
    subprocess.run(["git", "clone", "-q", "--bare", "--no-local", str(repo), str(bare)], check=True)
    return bare


def build_long_history(commits: int) -> Path:
    """A repository of `commits` commits, each changing one of 500 small files (git fast-import)."""
    repo = WORK / f"long-{commits}"
    if repo.exists():
        return repo
    subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True)
    stream = []
    for i in range(commits):
        data = f"version = {i}\nname = file{i % 500}\n"
        stream.append(f"commit refs/heads/main\ncommitter Bench <bench@example.invalid> {1600000000 + i} +0000\n"
                      f"data 3\nc{i % 10}\nM 100644 inline src/f{i % 500}.txt\ndata {len(data)}\n{data}\n")
    subprocess.run(["git", "-C", str(repo), "fast-import", "--quiet"], input="".join(stream).encode(), check=True)
    return repo


def unique_blob_bytes(repo: Path) -> tuple[int, int]:
    out = subprocess.run(["git", "-C", str(repo), "cat-file", "--batch-all-objects",
                          "--batch-check=%(objecttype) %(objectsize)"], check=True, capture_output=True).stdout
    sizes = [int(line.split()[1]) for line in out.decode().splitlines() if line.startswith("blob ")]
    return len(sizes), sum(sizes)


def radar_command(repo: Path, output: Path) -> list[str]:
    return ["sh", "-c", f'exec "{tool("radar")}" scan "{repo}" --history --format json > "{output}"']


def betterleaks_command(repo: Path, output: Path) -> list[str]:
    return [tool("betterleaks"), "git", str(repo), "-o", str(output), "-s", "--no-banner", "-l", "error"]


def kingfisher_command(repo: Path, output: Path) -> list[str]:
    return [tool("kingfisher"), "scan", str(repo), "--git-history", "full", "--no-validate", "-f", "json",
            "-o", str(output), "--no-update-check"]


def radar_counts(output: Path) -> tuple[int, int]:
    findings = json.loads(output.read_text())["findings"]
    return sum(len(f["locations"]) for f in findings), len({f["fingerprint"] for f in findings})


def betterleaks_counts(output: Path) -> tuple[int, int]:
    data = json.loads(output.read_text() or "{}")
    findings = data.get("findings") or [] if isinstance(data, dict) else data
    keys = {_value_key(f) for f in findings}
    return len(findings), len(keys)


def _value_key(finding: dict) -> str:
    # betterleaks' match fingerprint is a hash of the matched value, the same in every commit.
    return finding["match"]["fingerprint"]


def kingfisher_counts(output: Path) -> tuple[int, int]:
    data = json.loads(output.read_text() or "{}")
    findings = data.get("findings") or []
    # kingfisher's per-finding fingerprint; where absent, rule + snippet location as a stand-in.
    keys = {f["finding"].get("fingerprint") or json.dumps([f["rule"]["id"], f["finding"].get("path"), f["finding"].get("line")])
            for f in findings}
    return len(findings), len(keys)


TOOLS = {
    "radar scan --history": (radar_command, radar_counts),
    "betterleaks git": (betterleaks_command, betterleaks_counts),
    "kingfisher scan --git-history full": (kingfisher_command, kingfisher_counts),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--package", default=DEFAULT_PACKAGE)
    parser.add_argument("--versions", nargs="+", default=list(DEFAULT_VERSIONS))
    parser.add_argument("--long-history", type=int, default=100_000, metavar="N",
                        help="also time radar alone on a synthetic N-commit repository (0: skip)")
    parser.add_argument("--rounds", type=int, default=3, help="measured rounds, interleaved (median time counts)")
    parser.add_argument("--write", action="store_true", help="write the table to benchmarks/RESULTS.md")
    args = parser.parse_args()
    repo = build_repository(args.package, tuple(args.versions))
    blobs, blob_bytes = unique_blob_bytes(repo)
    commits = subprocess.run(["git", "-C", str(repo), "rev-list", "--all", "--count"], check=True,
                             capture_output=True).stdout.decode().strip()
    env = dict(os.environ, RADAR_FINGERPRINT_KEY="benchmark")
    runs: dict[str, list[tuple[float, int, int]]] = {name: [] for name in TOOLS}
    for round_ in range(args.rounds + 1):
        for name, (command, _) in TOOLS.items():
            output = WORK / f"{name.split()[0]}.json"
            measured = measure(command(repo, output), env)
            if round_:  # round 0 warms up the page cache and compiled-rule caches
                runs[name].append(measured)
    rows = []
    for name, (_, counts) in TOOLS.items():
        output = WORK / f"{name.split()[0]}.json"
        seconds = statistics.median(r[0] for r in runs[name])
        peak = max(r[1] for r in runs[name])
        status = runs[name][-1][2]
        reported, unique = counts(output)
        rows.append((name, seconds, blob_bytes / 1e6 / seconds, peak / 1e6, reported, unique, status))
        print(f"{name}: {seconds:.2f} s, {blob_bytes / 1e6 / seconds:.1f} MB/s, {peak / 1e6:.0f} MB, "
              f"{reported} reported, {unique} unique, exit {status}", flush=True)
    versions = subprocess.run([tool("betterleaks"), "version"], capture_output=True).stdout.decode().strip()
    kingfisher = subprocess.run([tool("kingfisher"), "--version"], capture_output=True).stdout.decode().strip()
    lines = [
        "## radar scan --history",
        "",
        f"`python benchmarks/scan_history.py --write`, {time.strftime('%Y-%m-%d')}. A bare repository of "
        f"{len(args.versions)} {args.package} sdists ({', '.join(args.versions)}), one commit and tag per "
        f"version: {commits} commits, {blobs} unique blobs, {blob_bytes / 1e6:.1f} MB of unique blob data, "
        "cloned through git's transport (packed as a server sends it). "
        f"One warm-up round, then {args.rounds} measured rounds, the tools interleaved; all offline "
        "(no validation). Wall s = median; MB/s = unique blob bytes / median wall time; peak RSS = "
        "the highest over the rounds, summed over the process tree. "
        "Reported = findings as the tool lists them (radar: locations); unique = after de-duplication "
        "by secret value (radar's fingerprint; betterleaks: its match fingerprint, a hash of the value; "
        "kingfisher: its finding fingerprint).",
        "",
        f"Machine: {results.machine(f'betterleaks {versions}', kingfisher)}",
        "",
        "| Tool | Wall s | MB/s | Peak RSS MB | Findings reported | Unique values | Exit |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, seconds, rate, peak, reported, unique, status in rows:
        lines.append(f"| {name} | {seconds:.2f} | {rate:.1f} | {peak:.0f} | {reported} | {unique} | {status} |")
    if args.long_history:
        long_repo = build_long_history(args.long_history)
        seconds, peak, status = measure(radar_command(long_repo, WORK / "radar-long.json"), env)
        lines += [
            "",
            f"Memory on a long history: radar alone on a synthetic repository of {args.long_history:,} commits "
            f"(git fast-import; each commit changes one of 500 small files, so {args.long_history:,} unique blobs): "
            f"{seconds:.1f} s, peak RSS {peak / 1e6:.0f} MB summed over the process tree (the workers are forked "
            "before the history is read, so only the parent holds its index), exit "
            f"{status}. Most of the time is `git log --raw` itself.",
        ]
    results.publish(SECTION, lines, args.write)


if __name__ == "__main__":
    main()
