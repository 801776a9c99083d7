"""What a big baseline costs: writing, reading (and checking) and matching a scan against it.

Usage: .venv/bin/python benchmarks/baseline.py [--entries N] [--runs N] [--write]

1. Makes --entries findings (default 100,000; a large monorepo's or GitLab group's backlog) with
   random fingerprints across 50 rule ids, shaped as the engine makes them; no secret is involved.
2. In-process, median of --runs rounds: `created` (findings -> baseline), `dumps` (the canonical
   text), `loads` (parse and check every entry), `compare` (a scan of the same findings plus 1 %
   new ones against the baseline), `updated`.
3. In a child process: reading the file and comparing, peak RSS (what `radar scan --baseline`
   adds to a scan of that size is at most this).
4. Prints a Markdown table and, with --write, rewrites its section of benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
import tempfile
from pathlib import Path

import results  # benchmarks/results.py: the shared RESULTS.md writer
from results import PEAK, median_seconds

from radar.scan import baseline as model
from radar.scan.findings import Finding, FingerprintKey

SECTION = "baseline"
KEY = FingerprintKey(b"benchmark-key")


def findings(n: int, rng: random.Random) -> list[Finding]:
    return [Finding(rule_id=f"rule-{i % 50}", secret_type="Password", description="d", severity="high",
                    confidence="high", path=f"src/module_{i % 997}/file_{i}.py", line=1 + i % 400, column=5,
                    end_line=1 + i % 400, end_column=30, fingerprint="%064x" % rng.getrandbits(256),
                    preview="[redacted]") for i in range(n)]


CHILD = """
import sys
from radar.scan import baseline as model
from radar.scan.findings import FingerprintKey
b = model.read(sys.argv[1])
model.check_key(b, FingerprintKey(b"benchmark-key"), sys.argv[1])
""" + PEAK
BARE = "import radar.scan.baseline\n" + PEAK


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    rng = random.Random(7)
    known = findings(args.entries, rng)
    scan = known + findings(args.entries // 100, rng)
    baseline = model.created(known, KEY)
    text = model.dumps(baseline)
    rows = [
        ("created (findings -> baseline)", median_seconds(lambda: model.created(known, KEY), args.runs)),
        ("dumps (canonical text)", median_seconds(lambda: model.dumps(baseline), args.runs)),
        ("loads (parse and check)", median_seconds(lambda: model.loads(text, "b"), args.runs)),
        ("compare (scan of N + 1 % new)", median_seconds(lambda: model.compare(baseline, scan, KEY), args.runs)),
        ("updated", median_seconds(lambda: model.updated(baseline, scan, scan, KEY, complete=True), args.runs)),
    ]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "baseline.toml"
        path.write_text(text)
        peak = int(subprocess.run([sys.executable, "-c", CHILD, str(path)], capture_output=True, text=True,
                                  check=True).stdout)
        bare = int(subprocess.run([sys.executable, "-c", BARE], capture_output=True, text=True, check=True).stdout)
    lines = [
        f"## radar baseline: a baseline of {args.entries:,} entries (benchmarks/baseline.py)",
        "",
        f"Machine: {results.machine()}. File: {len(text.encode()) / 1e6:.1f} MB "
        f"({len(text.encode()) / args.entries:.0f} bytes an entry). Median of {args.runs} runs, in process.",
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
