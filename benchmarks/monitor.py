"""What a monitor run's own work costs with a big state: comparing, writing and reading it.

Usage: .venv/bin/python benchmarks/monitor.py [--entries N] [--runs N] [--write]

1. Makes --entries findings (default 10,000: a large repository's or GitLab group's findings
   outside the baseline) with random fingerprints across 50 rule ids, shaped as the engine makes
   them, half in HEAD and half only in history; no secret is involved.
2. In-process, median of --runs rounds: `compare` without a state (the first run), `dumps` (the
   canonical text), `loads` (parse and check every entry), and `compare` of the next run (the same
   findings, 1 % of them gone and 1 % new) against the state.
3. In a child process: reading and checking the file, peak RSS.
4. Prints a Markdown table and, with --write, rewrites its section of benchmarks/RESULTS.md.
The scan itself is measured by benchmarks/scan_benchmark.py and scan_history.py.
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

import results  # benchmarks/results.py: the shared RESULTS.md writer
from results import PEAK, median_seconds

from radar.monitor import state as model
from radar.monitor.compare import compare
from radar.monitor.state import Seen
from radar.scan.findings import Finding, FingerprintKey, History, Location
from radar.scan.severity import LadderContext

SECTION = "monitor"
KEY = FingerprintKey(b"benchmark-key")
CONTEXT = LadderContext("history")
CONFIDENT = ("high", "medium", "low")
LOCATION = Location("src/app.py", 1, "a" * 40, "Dev", "2024-01-01T00:00:00+00:00")


def findings(n: int, rng: random.Random, start: int = 0) -> list[Finding]:
    return [Finding(rule_id=f"rule-{i % 50}", secret_type="Password", description="d", severity="high",
                    confidence="high", path=f"src/module_{i % 997}/file_{i}.py", line=1 + i % 400, column=5,
                    end_line=1 + i % 400, end_column=30, fingerprint="%064x" % rng.getrandbits(256),
                    preview="[redacted]", history=History(i % 2 == 0, (LOCATION,)))
            for i in range(start, start + n)]


CHILD = """
import sys
from radar.monitor import state as model
from radar.scan.findings import FingerprintKey
s = model.read(sys.argv[1])
model.check_key(s, FingerprintKey(b"benchmark-key"), sys.argv[1])
""" + PEAK
BARE = "import radar.monitor.state\n" + PEAK


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--entries", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    rng = random.Random(7)
    first = findings(args.entries, rng)
    monday, tuesday = Seen("2026-11-30", 4711), Seen("2026-12-01", 4712)
    state = compare(None, first, KEY, CONTEXT, monday, CONFIDENT, True).state
    gone = args.entries // 100
    second = [replace(f, line=f.line + 1) for f in first[gone:]] + findings(gone, rng, args.entries)
    text = model.dumps(state)
    rows = [
        ("compare, first run (no state)", median_seconds(
            lambda: compare(None, first, KEY, CONTEXT, monday, CONFIDENT, True), args.runs)),
        ("dumps (canonical text)", median_seconds(lambda: model.dumps(state), args.runs)),
        ("loads (parse and check)", median_seconds(lambda: model.loads(text, "s"), args.runs)),
        ("compare, next run (1 % gone, 1 % new)", median_seconds(
            lambda: compare(state, second, KEY, CONTEXT, tuesday, CONFIDENT, True), args.runs)),
    ]
    result = compare(state, second, KEY, CONTEXT, tuesday, CONFIDENT, True)
    assert (len(result.new), len(result.resolved)) == (gone, gone)  # the run did the work measured
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "state.toml"
        path.write_text(text)
        peak = int(subprocess.run([sys.executable, "-c", CHILD, str(path)], capture_output=True, text=True,
                                  check=True).stdout)
        bare = int(subprocess.run([sys.executable, "-c", BARE], capture_output=True, text=True, check=True).stdout)
    lines = [
        f"## radar monitor: a state of {args.entries:,} entries (benchmarks/monitor.py)",
        "",
        f"Machine: {results.machine()}. File: {len(text.encode()) / 1e6:.2f} MB "
        f"({len(text.encode()) / args.entries:.0f} bytes an entry). Median of {args.runs} runs, in process; "
        "the scan itself is not included.",
        "",
        "| step | seconds |",
        "| --- | --- |",
        *(f"| {name} | {seconds:.3f} |" for name, seconds in rows),
        "",
        f"Reading and checking the file in a fresh process: peak RSS {peak / 1024:.0f} MiB "
        f"({bare / 1024:.0f} MiB for importing the module alone).",
    ]
    section = "\n".join(lines)
    print(section)
    if args.write:
        results.write_section(SECTION, section)


if __name__ == "__main__":
    main()
