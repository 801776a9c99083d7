"""What drawing the findings table on a terminal costs (`radar.report.text.render_table`).

Usage: .venv/bin/python benchmarks/terminal_table.py [--findings N] [--files N] [--runs N]
       [--old-tree DIR] [--write]

1. Makes --findings findings (default 5,000) spread over --files files (default 1,000), shaped as a
   scan reports them (a GitLab token rule, a preview, a tag); no secret is involved.
2. Times `render_table` into memory at 80, 120 and 200 columns, through rich's Console as a
   terminal (colour on): the median of --runs rounds, and the size of what was drawn.
3. With --old-tree DIR (a checkout of an older radar, e.g. `git worktree add /tmp/old main~5`),
   measures that tree's `render_table` the same way in a child process, beside this one. Older
   trees took an output file and read the width from $COLUMNS; both forms are handled.
4. Prints a Markdown table and, with --write, rewrites its section of benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import results  # benchmarks/results.py: the shared RESULTS.md writer

SECTION = "terminal-table"
WIDTHS = (80, 120, 200)


def measure(findings: int, files: int, runs: int) -> dict[int, tuple[float, int]]:
    """{width: (median seconds, characters drawn)} for the radar on sys.path."""
    from rich.console import Console

    from radar.report import text
    from radar.scan.findings import Finding

    per_file = max(1, findings // files)
    items = [Finding(rule_id="gitlab-personal-access-token", secret_type="GitLab personal access token",
                     description="GitLab personal access token", severity="critical", confidence="low",
                     path=f"services/module{n:05}/config/settings.env", line=line, column=14, end_line=line,
                     end_column=40, fingerprint=f"{n:08x}" * 8, preview="glpa…", tags=("placeholder-like",))
             for n in range(files) for line in range(1, per_file + 1)][:findings]
    takes_console = "console" in text.render_table.__code__.co_varnames[:2]
    measured = {}
    for width in WIDTHS:
        times, size = [], 0
        for _ in range(runs):
            out = io.StringIO()
            start = time.perf_counter()
            if takes_console:
                text.render_table(items, Console(file=out, width=width, force_terminal=True), "summary")
            else:
                os.environ["COLUMNS"] = str(width)
                text.render_table(items, out, "summary")
            times.append(time.perf_counter() - start)
            size = len(out.getvalue())
        measured[width] = (statistics.median(times), size)
    return measured


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--findings", type=int, default=5000)
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--old-tree", type=Path, help="an older radar checkout to measure beside this one")
    parser.add_argument("--write", action="store_true", help="rewrite this benchmark's section of RESULTS.md")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)  # measure and print JSON
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.findings, args.files, args.runs)))
        return
    trees = {"this tree": Path(__file__).resolve().parent.parent}
    if args.old_tree:
        trees["old tree"] = args.old_tree.resolve()
    rows = []
    for label, tree in trees.items():
        command = [sys.executable, __file__, "--child", "--findings", str(args.findings), "--files", str(args.files),
                   "--runs", str(args.runs)]
        env = dict(os.environ, PYTHONPATH=str(tree))
        measured = json.loads(subprocess.run(command, env=env, capture_output=True, check=True, text=True).stdout)
        rows += [(label, int(width), seconds, size) for width, (seconds, size) in measured.items()]
    lines = [
        "## The findings table on a terminal (benchmarks/terminal_table.py)", "",
        f"`render_table` of {args.findings:,} findings in {args.files:,} files into memory, through rich's "
        f"Console as a colour terminal (an old tree's own Console: no colour, $COLUMNS wide); median of "
        f"{args.runs} rounds; {results.machine()}.", "",
        "| tree | columns | median | drawn (characters) |", "|---|---:|---:|---:|",
        *(f"| {label} | {width} | {seconds:.2f} s | {size:,} |" for label, width, seconds, size in rows),
    ]
    print("\n".join(lines))
    if args.write:
        results.write_section(SECTION, "\n".join(lines))


if __name__ == "__main__":
    main()
