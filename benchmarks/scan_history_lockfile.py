"""radar scan --history beside betterleaks and kingfisher on a history with a large, often-changed lockfile.

Run `python benchmarks/scan_history_lockfile.py` (after `pip install -r benchmarks/requirements.txt`).

JavaScript, Python and Rust projects commit a lockfile of 0.5-3 MB (package-lock.json, poetry.lock,
Cargo.lock) and change a few lines of it in many commits. radar scans each unique blob whole, so
every version of the lockfile costs its whole size; a scanner of diffs pays for the changed lines
only. This builds, once, under benchmarks/work/history-lockfile/ (git-ignored), with git
fast-import and a fixed seed: `--commits` commits over a ~2 MB package-lock.json of 8,000 entries
and 20 small source files; every `--lock-every`th commit bumps 1-5 lockfile entries, the others edit
a source file, and one credential is added to a source file and removed later. The repository is
packed as a clone's pack is (`git repack -a -d -f`). Measured as scan_history_shapes.py measures:
one warm-up round, then `--rounds` interleaved rounds, median wall time, highest peak RSS summed
over the process tree. `--write` puts the table into RESULTS.md.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import time
from pathlib import Path
from typing import IO

import results
from scan_benchmark import measure
from scan_history import TOOLS, unique_blob_bytes
from scan_history_shapes import imported_repository, row_cells, write_file

from radar.scan.examples import expand

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "benchmarks" / "work" / "history-lockfile"
SECTION = "scan-history-lockfile"
SEED = 20261205
ENTRIES = 8_000
SOURCES = 20
PLANTED = "GITLAB_TOKEN=glpat-{b64url:20}"
_B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


def _entry(rng: random.Random, i: int, version: str) -> list[str]:
    """One package of a lockfile version 3, as npm writes it (5 lines)."""
    integrity = "".join(rng.choice(_B64) for _ in range(86))
    return [f'    "node_modules/pkg-{i}": {{\n', f'      "version": "{version}",\n',
            f'      "resolved": "https://registry.npmjs.org/pkg-{i}/-/pkg-{i}-{version}.tgz",\n',
            f'      "integrity": "sha512-{integrity}=="\n', "    },\n"]


def build(commits: int, lock_every: int) -> Path:
    repo = WORK / f"repo-{commits}-every-{lock_every}.git"
    if repo.exists():
        return repo
    rng = random.Random(SEED)
    lock = ['{\n', '  "name": "app",\n', '  "lockfileVersion": 3,\n', '  "packages": {\n']
    for i in range(ENTRIES):
        lock += _entry(rng, i, f"1.{rng.randrange(50)}.{rng.randrange(50)}")
    lock += ['    "": {}\n', '  }\n', '}\n']
    sources = {f"src/module_{k}.js": [f"export const value{k}_{j} = {j};\n" for j in range(40)]
               for k in range(SOURCES)}
    with imported_repository(repo) as out:
        _write_history(out, commits, lock_every, rng, lock, sources)
    return repo


def _write_history(out: IO[bytes], commits: int, lock_every: int, rng: random.Random, lock: list[str],
                   sources: dict[str, list[str]]) -> None:
    plant_at, remove_at = commits // 3, commits // 3 + commits // 10
    planted: tuple[str, str] | None = None
    for c in range(commits):
        out.write(f"commit refs/heads/main\ncommitter Dev <dev@example.invalid> {1500000000 + c * 3600} +0000\n"
                  f"data 7\nc{c:05d}\n".encode())
        if c == 0:
            write_file(out, "package-lock.json", lock)
            for path, lines in sources.items():
                write_file(out, path, lines)
        elif c % lock_every == 0:
            for _ in range(rng.randint(1, 5)):
                i = rng.randrange(ENTRIES)
                lock[4 + i * 5: 9 + i * 5] = _entry(rng, i, f"2.{c}.{rng.randrange(50)}")
            write_file(out, "package-lock.json", lock)
        else:
            path = rng.choice(sorted(sources))
            if c == plant_at:
                planted = (path, f'const token = "{expand(PLANTED, (SEED, c))}";\n')
                sources[path].insert(rng.randrange(len(sources[path])), planted[1])
            elif c == remove_at and planted and planted[1] in sources[planted[0]]:
                path = planted[0]
                sources[path].remove(planted[1])
            else:
                at = rng.randrange(len(sources[path]))
                sources[path][at] = sources[path][at].rstrip("\n") + f" // r{c}\n"
            write_file(out, path, sources[path])
        out.write(b"\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commits", type=int, default=2_000)
    parser.add_argument("--lock-every", type=int, default=4, metavar="N",
                        help="every Nth commit changes the lockfile (default 4)")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--write", action="store_true", help="write the table to benchmarks/RESULTS.md")
    args = parser.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    repo = build(args.commits, args.lock_every)
    print(f"repository: {time.perf_counter() - started:.1f} s", flush=True)
    _, blob_bytes = unique_blob_bytes(repo)
    env = dict(os.environ, RADAR_FINGERPRINT_KEY="benchmark")
    runs: dict[str, list[tuple[float, int, int]]] = {name: [] for name in TOOLS}
    for round_ in range(args.rounds + 1):
        for name, (command, _) in TOOLS.items():
            measured = measure(command(repo, WORK / f"{name.split()[0]}.json"), env)
            if round_:  # round 0 warms the page cache
                runs[name].append(measured)
    base = statistics.median(r[0] for r in runs["betterleaks git"])
    lines = [
        "## radar scan --history on a history with a large lockfile",
        "",
        f"`python benchmarks/scan_history_lockfile.py`, {time.strftime('%Y-%m-%d')}. A synthetic bare repository "
        f"(git fast-import, seed {SEED}) of {args.commits:,} commits: a package-lock.json of {ENTRIES:,} entries "
        f"(~2 MB) that every {args.lock_every}th commit changes in 1-5 entries, {SOURCES} small source files that "
        "the other commits edit, one credential added and removed later; packed as a clone's pack is (`git "
        f"repack -a -d -f`); {blob_bytes / 1e6:,.0f} MB of unique blobs. One warm-up round, then {args.rounds} "
        "interleaved rounds; wall = median, peak RSS = highest, summed over the process tree.",
        "",
        f"Machine: {results.machine()}",
        "",
        "| Tool | Wall s | x betterleaks | Peak RSS MB | Reported | Unique | Exit |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, (_, counts) in TOOLS.items():
        lines.append(f"| {name} | {row_cells(runs[name], counts(WORK / f'{name.split()[0]}.json'), base)}")
    results.publish(SECTION, lines, args.write)


if __name__ == "__main__":
    main()
