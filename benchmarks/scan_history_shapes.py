"""radar scan --history beside `betterleaks git` and `kingfisher scan --git-history full` on long histories.

Run `python benchmarks/scan_history_shapes.py` (after `pip install -r benchmarks/requirements.txt`).

`scan_history.py` times a few large commits (sdists); a project's real history is thousands of
small edits. This builds, once, under benchmarks/work/history-shapes/ (git-ignored), with
`git fast-import` and a fixed seed, repositories shaped like psf/requests: about 150 Python and
text files of 2-40 KB picked from the real code in benchmarks/work/site-packages-tree, each commit
editing 1-3 files by a few lines, now and then adding or deleting a file, and a handful of
credentials (fresh values from the rules' example templates, radar/scan/examples.py) added in one
commit and removed some commits later, so they live only in history. Each is then packed as a
server packs what a clone receives (`git repack -a -d -f`: 99% of the blobs stored as deltas of
another version; fast-import alone leaves two thirds whole). Shapes: 100 commits (start-up
must not dominate), 6,700 (psf/requests), and with `--large` 20,000 (sqlalchemy-sized).

Measured per repository and tool, offline, one warm-up round then `--rounds` interleaved rounds
(radar's cache of compiled keywords and expressions, and `--cache`'s clean blobs, are filled in the
warm-up round; a row of radar with an empty cache each run stands for a fresh CI runner):
median wall time, peak RSS summed over the process tree (highest round), findings reported and
unique values (the same counting as scan_history.py). A reference row times git alone writing the
diffs betterleaks scans, split over two processes as betterleaks splits them: what a scanner of
diffs cannot go below. `--write` puts the table into
RESULTS.md.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Iterator

import results
from scan_benchmark import measure, tool
from scan_history import TOOLS as PEERS, radar_counts

from radar.scan.examples import expand

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "benchmarks" / "work" / "history-shapes"
TREE = ROOT / "benchmarks" / "work" / "site-packages-tree"
SECTION = "scan-history-shapes"
SEED = 20261204
FILES = 150
# Templates from the rules' true examples (radar/detectors/rules/*.toml), expanded with the seed.
PLANTED = (
    "GITHUB_TOKEN=ghp_{ghcrc:30}",
    "aws_access_key_id = AKIA{awskeyid}",
    "GITLAB_TOKEN=glpat-{b64url:20}",
    "SLACK_BOT_TOKEN=xoxb-{digits:12}-{digits:13}-{alnum:24}",
    "GITHUB_TOKEN=ghp_{ghcrc:30}",
    "GITLAB_TOKEN=glpat-{b64url:20}",
)


CACHED = "radar scan --history --cache, a later run"


def _cached_command(repo: Path, output: Path) -> list[str]:
    # Its own cache directory per repository, filled by the warm-up round: every measured round is
    # a scheduled re-scan of an unchanged history (the report must be the same as without --cache).
    cache = WORK / f"cache-{repo.stem}"
    return ["sh", "-c", f'XDG_CACHE_HOME="{cache}" exec "{tool("radar")}" scan "{repo}" --history --cache '
                        f'--format json > "{output}"']


FIRST = "radar scan --history, first run (empty cache)"


def _first_run_command(repo: Path, output: Path) -> list[str]:
    # A fresh CI runner: no keyword database, plan or compiled expressions in the cache yet. Every
    # other radar row finds them there, filled by the warm-up round, as a developer's machine does.
    return ["sh", "-c", f'cache=$(mktemp -d) && XDG_CACHE_HOME="$cache" "{tool("radar")}" scan "{repo}" '
                        f'--history --format json > "{output}"; status=$?; rm -rf "$cache"; exit $status']


DIFFS = "git log -p -U0 alone, on two cores (the diffs betterleaks reads, not scanned)"


def _diffs_command(repo: Path, output: Path) -> list[str]:
    # The floor of scanning what commits change through git: what betterleaks runs (seen through a
    # logging git on PATH): the commits listed, then `git log -p -U0 --no-walk --stdin
    # --diff-filter=tuxdb` twice at once, each given part of them; here every other commit each,
    # their output thrown away. A 0.5x-betterleaks target below this row is out of reach of a
    # scanner that asks git for diffs.
    log = f'git -C "{repo}" log -p -U0 --no-walk --stdin --diff-filter=tuxdb > /dev/null'
    return ["sh", "-c", f's=1; c=$(mktemp -d) && git -C "{repo}" log --all --format=%H --no-patch > "$c/all" '
                        f'&& awk "NR % 2" "$c/all" > "$c/a" && awk "NR % 2 == 0" "$c/all" > "$c/b" '
                        f'&& {{ {log} < "$c/a" & {log} < "$c/b"; s=$?; wait $! || s=1; }}; rm -rf "$c"; exit $s']


def _no_counts(output: Path) -> None:
    return None


TOOLS = {**PEERS, CACHED: (_cached_command, radar_counts), FIRST: (_first_run_command, radar_counts),
         DIFFS: (_diffs_command, _no_counts)}
_OUTPUTS = {CACHED: "radar-cached", FIRST: "radar-first", DIFFS: "git-diffs"}


def _output(name: str, commits: int) -> Path:
    return WORK / f"{_OUTPUTS.get(name, name.split()[0])}-{commits}.json"


def _pick_sources(rng: random.Random, count: int) -> list[Path]:
    candidates = sorted(p for p in TREE.rglob("*") if p.suffix in (".py", ".txt", ".rst", ".cfg", ".toml")
                        and p.is_file() and not p.is_symlink() and 2_000 <= p.stat().st_size <= 40_000)
    return rng.sample(candidates, count)


def write_file(out: IO[bytes], path: str, lines: list[str]) -> None:
    """A fast-import `M` command setting `path` to `lines`."""
    data = "".join(lines).encode()
    out.write(f"M 100644 inline {path}\ndata {len(data)}\n".encode())
    out.write(data)
    out.write(b"\n")


@contextmanager
def imported_repository(repo: Path) -> Iterator[IO[bytes]]:
    """The stream written to the yielded pipe, imported by git fast-import into a bare repository that
    becomes `repo` once it is packed as a clone's pack is."""
    tmp = repo.with_suffix(".tmp")
    subprocess.run(["rm", "-rf", str(tmp)], check=True)
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(tmp)], check=True)
    proc = subprocess.Popen(["git", "-C", str(tmp), "fast-import", "--quiet"], stdin=subprocess.PIPE)
    assert proc.stdin is not None
    yield proc.stdin
    proc.stdin.close()
    if proc.wait():
        raise SystemExit("git fast-import failed")
    # fast-import's own pack stores most blobs whole (a third as deltas): a clone's pack, made by the
    # server's repack, stores nearly all as deltas of another version, and how a scanner reads them
    # decides its time (git's documentation of fast-import asks for this repack after an import).
    subprocess.run(["git", "-C", str(tmp), "repack", "-a", "-d", "-f", "-q"], check=True)
    subprocess.run(["git", "-C", str(tmp), "gc", "-q"], check=True)
    tmp.rename(repo)


def build(commits: int) -> Path:
    """A bare repository of `commits` commits shaped like a small, long-lived Python project."""
    repo = WORK / f"repo-{commits}-packed.git"
    if repo.exists():
        return repo
    rng = random.Random(SEED)
    pool = _pick_sources(rng, FILES + 40)
    tree: dict[str, list[str]] = {}
    for source in pool[:FILES]:
        tree[f"src/{source.parent.name}/{source.name}"] = source.read_text(errors="replace").splitlines(True)
    spare = pool[FILES:]
    plants = {int(commits * (k + 1) / (len(PLANTED) + 1)): template for k, template in enumerate(PLANTED)}
    lifetime = max(1, commits // 50)
    with imported_repository(repo) as out:
        _write_history(out, commits, rng, tree, spare, plants, lifetime)
    return repo


def _write_history(out: IO[bytes], commits: int, rng: random.Random, tree: dict[str, list[str]],
                   spare: list[Path], plants: dict[int, str], lifetime: int) -> None:
    removals: dict[int, tuple[str, str]] = {}
    for i in range(commits):
        out.write(f"commit refs/heads/main\ncommitter Dev{i % 7} <dev{i % 7}@example.invalid> "
                  f"{1500000000 + i * 3600} +0000\ndata 10\nchange {i % 1000:03d}\n".encode())
        if i == 0:
            for path, lines in tree.items():
                write_file(out, path, lines)
        else:
            if i in plants:
                path = rng.choice(sorted(tree))
                line = expand(plants[i], (SEED, i)) + "\n"
                tree[path].insert(rng.randrange(len(tree[path]) + 1), line)
                removals[i + lifetime] = (path, line)
                write_file(out, path, tree[path])
            elif i in removals:
                path, line = removals.pop(i)
                if path in tree and line in tree[path]:
                    tree[path].remove(line)
                    write_file(out, path, tree[path])
            roll = rng.random()
            if roll < 0.01 and spare:
                source = spare.pop()
                path = f"src/{source.parent.name}/new_{i}_{source.name}"
                tree[path] = source.read_text(errors="replace").splitlines(True)
                write_file(out, path, tree[path])
            elif roll < 0.02 and len(tree) > FILES // 2:
                path = rng.choice(sorted(tree))
                if all(path != p for p, _ in removals.values()):
                    del tree[path]
                    out.write(f"D {path}\n".encode())
            for path in rng.sample(sorted(tree), rng.randint(1, 3)):
                lines = tree[path]
                for _ in range(rng.randint(1, 4)):
                    at = rng.randrange(len(lines) + 1)
                    if at < len(lines) and rng.random() < 0.5:
                        lines[at] = lines[at].rstrip("\n") + f"  # r{i}\n"
                    else:
                        lines.insert(at, f"value_{i}_{at} = {rng.randrange(10**6)}\n")
                write_file(out, path, lines)
        out.write(b"\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shapes", type=int, nargs="+", default=[100, 6700], metavar="COMMITS")
    parser.add_argument("--large", action="store_true", help="also a 20,000-commit repository")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--tools", nargs="+", default=[name.split()[0] for name in TOOLS],
                        help="first word of each tool to run (radar, betterleaks, kingfisher, git)")
    parser.add_argument("--write", action="store_true", help="write the table to benchmarks/RESULTS.md")
    args = parser.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    shapes = args.shapes + ([20_000] if args.large else [])
    repos = {}
    for commits in shapes:
        start = time.perf_counter()
        repos[commits] = build(commits)
        print(f"repository of {commits} commits: {time.perf_counter() - start:.1f} s", flush=True)
    env = dict(os.environ, RADAR_FINGERPRINT_KEY="benchmark")
    names = [name for name in TOOLS if name.split()[0] in args.tools]
    runs: dict[tuple[int, str], list[tuple[float, int, int]]] = {(c, n): [] for c in shapes for n in names}
    for round_ in range(args.rounds + 1):
        for commits in shapes:
            for name in names:
                command = TOOLS[name][0]
                if round_ == 0 and name == CACHED:
                    shutil.rmtree(WORK / f"cache-{repos[commits].stem}", ignore_errors=True)  # filled afresh
                measured = measure(command(repos[commits], _output(name, commits)), env)
                if round_:  # round 0 warms the page cache
                    runs[(commits, name)].append(measured)
    lines = [
        "## radar scan --history on long histories of small changes",
        "",
        f"`python benchmarks/scan_history_shapes.py`, {time.strftime('%Y-%m-%d')}. Synthetic bare repositories "
        f"(git fast-import, seed {SEED}): {FILES} real Python/text files of 2-40 KB, each commit editing 1-3 "
        f"files by a few lines, about 1% adding and 1% deleting a file, {len(PLANTED)} credentials added and "
        "removed later; packed as a clone's pack is (`git repack -a -d -f`: 99% of blobs stored as deltas). "
        "One warm-up round (it fills radar's cache of compiled keywords and expressions; the *first run* row "
        "empties it before each run), then "
        f"{args.rounds} interleaved rounds; wall = median, peak RSS = highest, summed over the process tree.",
        "",
        f"Machine: {results.machine()}",
        "",
        "| Commits | Tool | Wall s | x betterleaks | Peak RSS MB | Reported | Unique | Exit |",
        "|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    for commits in shapes:
        base = [r[0] for r in runs.get((commits, "betterleaks git"), [])]
        for name in names:
            cells = row_cells(runs[(commits, name)], TOOLS[name][1](_output(name, commits)),
                              statistics.median(base) if base else None)
            lines.append(f"| {commits:,} | {name} | {cells}")
    results.publish(SECTION, lines, args.write)


def row_cells(measured: list[tuple[float, int, int]], counts: tuple[int, int] | None,
              base: float | None) -> str:
    """A tool's cells from `Wall s` to `Exit` (this table's and the lockfile history's): median
    wall time, its ratio to `base` (betterleaks' median), the highest peak RSS, the findings
    reported and unique (`-` for a reference row that scans nothing), the last round's exit status."""
    seconds = statistics.median(r[0] for r in measured)
    ratio = f"{seconds / base:.2f}" if base else "-"
    reported, unique = counts if counts is not None else ("-", "-")
    return (f"{seconds:.2f} | {ratio} | {max(r[1] for r in measured) / 1e6:.0f} | {reported} | {unique} | "
            f"{measured[-1][2]} |")


if __name__ == "__main__":
    main()
