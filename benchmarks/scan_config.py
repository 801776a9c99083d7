"""What a scan configuration (`.radar.toml`) costs a directory scan: reading it, and applying its
rules and allowlists to every finding.

Usage: .venv/bin/python benchmarks/scan_config.py [--files N] [--runs N] [--write]

1. Writes a tree of --files files (default 2,000) to a temporary directory, each with ten
   findings (generic passwords and GitLab tokens, values from radar's example templates, so no
   real secret is involved): 20,000 findings, the worst case for allowlists, which are checked
   once per finding.
2. Times `load_config` (parse, validate, compile, check an added rule's examples) of each
   configuration below, and an in-process `scan_directory` of the tree with it (one worker, so
   the figures compare; the prefilter cache is warmed first): CPU seconds, median of --runs
   rounds, the configurations taking turns in each round.
   - none;
   - one added rule; the same and `generic-token` disabled;
   - 100 path patterns, 100 regexes and 100 stopwords that match nothing (every finding is checked
     against all 300 and stays reported);
   - the same with the last entry of each list matching, so every finding is allowlisted.
3. Prints a Markdown table and, with --write, rewrites its section of benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path
from typing import Callable

import results  # benchmarks/results.py: the shared RESULTS.md writer

from radar.scan.config import NO_CONFIG, load_config
from radar.scan.examples import expand
from radar.scan.findings import FingerprintKey
from radar.scan.scanner import ScanOptions, scan_directory

SECTION = "scan-config"
DISABLE = 'disable = ["generic-token"]\n'
RULE = """\
[[rules]]
id = "acme-internal-token"
description = "ACME internal API token"
secret_type = "ACME token"
docs = "https://wiki.acme.example/tokens"
severity = "high"
regex = '''\\b(?P<secret>acme_[a-z0-9]{24})\\b'''
keywords = ["acme_"]
[rules.examples]
true = ["token = acme_{lowernum:24}"]
false = ["acme_{lowernum:10}"]
"""


def allowlist(matching: bool) -> str:
    def strings(values: list[str]) -> str:
        return "[" + ", ".join(f"'{v}'" for v in values) + "]"

    paths = [f"nowhere{i}/**" for i in range(99)] + (["src/"] if matching else ["nowhere/"])
    regexes = [f"^nomatch{i}[0-9]+$" for i in range(99)] + (["."] if matching else ["^nomatch$"])
    stopwords = [f"stop-word-{i}" for i in range(99)] + (["a"] if matching else ["stop-word"])
    return f"[allowlist]\npaths = {strings(paths)}\nregexes = {strings(regexes)}\nstopwords = {strings(stopwords)}\n"


def write_tree(root: Path, files: int) -> None:
    for i in range(files):
        lines = []
        for j in range(5):
            lines.append(f"DB_PASSWORD_{j}={expand('{alnum:20}', f'bench-config-{i}-{j}')}")
            lines.append(f"GITLAB_TOKEN_{j}=glpat-{expand('{b64url:20}', f'bench-config-pat-{i}-{j}')}")
        path = root / "src" / f"module{i % 50}" / f"settings{i}.env"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join(lines) + "\n")


def median_seconds(work: Callable[[], object], runs: int) -> float:
    # CPU time of this process (one worker scans in it): on a machine shared with other work,
    # wall-clock time measured the neighbours as much as radar.
    times = []
    for _ in range(runs):
        start = time.process_time()
        work()
        times.append(time.process_time() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--write", action="store_true", help="rewrite this benchmark's section of RESULTS.md")
    args = parser.parse_args()
    key = FingerprintKey(b"benchmark")
    configurations = [("none", None), ("1 rule added", RULE), ("1 rule added, generic-token disabled", DISABLE + RULE),
                      ("300 allowlist entries, none matching", RULE + allowlist(False)),
                      ("300 allowlist entries, the last of each matching", RULE + allowlist(True))]
    rows = []
    with tempfile.TemporaryDirectory() as work:
        root = Path(work)
        write_tree(root, args.files)
        scan_directory(root, ScanOptions(jobs=1), key)  # file system cache and the shipped rules' compiled forms
        runs = []
        for name, text in configurations:
            load = median_seconds(lambda: load_config(text, ".radar.toml"), args.runs) if text else 0.0
            config = load_config(text, ".radar.toml") if text else NO_CONFIG
            options = ScanOptions(jobs=1, config=config)
            report = scan_directory(root, options, key)  # warms the prefilter cache for this rule set
            ignored = sum(f.ignored for f in report.findings)
            runs.append((name, load, options, len(report.findings), ignored, []))
        # Round-robin, so that load from elsewhere on a shared machine falls on every row alike.
        for _ in range(args.runs):
            for name, load, options, found, ignored, times in runs:
                times.append(median_seconds(lambda: scan_directory(root, options, key), 1))
        rows = [(name, load, statistics.median(times), found, ignored)
                for name, load, options, found, ignored, times in runs]
    base = rows[0][2]
    lines = [
        "## radar scan with a configuration (benchmarks/scan_config.py)", "",
        f"{args.files:,} files, {rows[0][3]:,} findings; one worker; median of {args.runs} rounds; "
        f"{results.machine()}.", "",
        "| configuration | load_config (CPU) | scan (CPU) | vs none | findings | allowlisted |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
        *(f"| {name} | {load * 1000:.0f} ms | {seconds:.2f} s | {seconds / base:.2f}x | {found:,} | {ignored:,} |"
          for name, load, seconds, found, ignored in rows),
    ]
    section = "\n".join(lines)
    print(section)
    if args.write:
        results.write_section(SECTION, section)


if __name__ == "__main__":
    main()
