"""What the CI-file checks cost a directory scan: the same tree scanned with them off (as radar did
before they ran outside `radar scan gitlab`) and on.

Usage: .venv/bin/python benchmarks/scan_ci_files.py [--runs N] [--write]

Builds, offline, a tree of 3,000 YAML files (Kubernetes-like manifests of 60 lines, no credentials)
plus 300 CI files (`svc-N/.gitlab-ci.yml`, 80 lines of jobs, one CI_JOB_JWT each), then times
`scan_directory` in this process (--jobs 1, so the figures are the checks' CPU, not scheduling),
off and on interleaved, median of --runs; then the same on the tree without its CI files (what
non-CI files pay: a name test).
"""

from __future__ import annotations

import argparse
import os
import sys
import timeit
import tempfile
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import results  # noqa: E402  benchmarks/results.py: the shared RESULTS.md writer

from radar.scan.ci_checks import ci_file_findings, is_ci_file  # noqa: E402
from radar.scan.findings import FingerprintKey, Origin  # noqa: E402
from radar.scan.scanner import ScanOptions, scan_directory  # noqa: E402

SECTION = "scan-ci-files"
MANIFEST = "".join(f"      - name: item-{i}\n        image: registry.example.com/app:{i}\n        replicas: 3\n"
                   for i in range(20))
CI = "".join(f"job-{i}:\n  stage: test\n  script:\n    - make test-{i}\n" for i in range(19)) \
    + "deploy:\n  script:\n    - vault login jwt=$CI_JOB_JWT\n"


def build(root: Path, ci_files: bool) -> None:
    for n in range(3000):
        path = root / f"svc-{n % 300}" / f"manifest-{n}.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(MANIFEST)
    if ci_files:
        for n in range(300):
            (root / f"svc-{n}" / ".gitlab-ci.yml").write_text(CI)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    key = FingerprintKey(b"benchmark-key-0123456789abcdef!!")
    rows = []
    for label, ci_files in (("3,000 YAML + 300 CI files", True), ("3,000 YAML, no CI file", False)):
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            build(root, ci_files)
            size = sum(p.stat().st_size for p in root.rglob("*") if p.is_file())
            timed = {}
            for on in (False, True, False, True):  # interleaved; the first pair warms the caches
                options = ScanOptions(jobs=1, gitignore=False, ci_checks=on)
                found = scan_directory(root, options, key).findings
                timed.setdefault(on, []).append(
                    (results.median_seconds(lambda: scan_directory(root, options, key), args.runs), len(found)))
            off, on = timed[False][-1], timed[True][-1]
            rows.append(f"| {label} ({size / 1e6:.1f} MB) | {off[0]:.3f} | {on[0]:.3f} | "
                        f"{(on[0] / off[0] - 1) * 100:+.1f}% | {off[1]} / {on[1]} |")
    # The checks alone, without the scan around them: what the rows above cannot resolve on a shared machine.
    calls = 20_000
    per_ci = timeit.timeit(lambda: ci_file_findings(CI, ".gitlab-ci.yml", Origin(), key), number=calls) / calls
    per_name = timeit.timeit(lambda: is_ci_file("svc-1/manifest-1.yaml"), number=calls) / calls
    lines = [
        "## radar scan: the CI-file checks' cost on a directory scan (benchmarks/scan_ci_files.py)",
        "",
        f"`python benchmarks/scan_ci_files.py --runs {args.runs} --write`, {date.today().isoformat()}. "
        "`scan_directory` in one process (--jobs 1), checks off (before) and on, median seconds of the runs.",
        "",
        f"Machine: {results.machine()}; load average {os.getloadavg()[0]:.1f} (2 cores shared with other jobs).",
        "",
        "| Tree | Checks off s | Checks on s | Change | Findings off / on |",
        "|---|---:|---:|---:|---:|",
        *rows,
        "",
        f"The checks alone: {per_ci * 1e6:.1f} µs per CI file of {len(CI):,} bytes (the whole check), "
        f"{per_name * 1e6:.2f} µs per other file (the name test), i.e. {300 * per_ci * 1e3:.1f} ms for the "
        f"300 CI files and {3300 * per_name * 1e3:.1f} ms of name tests over the 3,300 files: below the run-to-run "
        "noise of the scan times above.",
    ]
    section = "\n".join(lines)
    print(section)
    if args.write:
        results.write_section(SECTION, section)


if __name__ == "__main__":
    main()
