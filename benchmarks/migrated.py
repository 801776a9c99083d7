"""What `--migrated PLAN.json` costs a scan: reading the plan, checking CI files, re-identifying findings.

Usage: .venv/bin/python benchmarks/migrated.py [--values N] [--runs N] [--write]

1. Builds a plan with radar's own planner from a GitLab report of --values findings (default
   10,000 CI/CD variables over 500 projects, benchmarks/plan_input.py's shape) and renders it as
   JSON, then times `read_migration` on it (parse, schema check, the moved values and variables).
2. Times `check_ci_file` on CI files of growing size, to show that the cost follows the file:
   N jobs extending one template, N top-level variables of which one in ten reads a moved
   variable, and every job reading a moved variable in its script (so each job is a finding).
   Doubling N should about double the time (the check used to cost jobs x variables).
3. Times `reidentified` over 100,000 findings, one in ten holding a moved value.
4. Prints a Markdown table and, with --write, rewrites its section of benchmarks/RESULTS.md.
Values are random hex; no secret is involved.
"""

from __future__ import annotations

import argparse
import random
import tempfile
from pathlib import Path

import results  # benchmarks/results.py: the shared RESULTS.md writer
from results import median_seconds
from plan_input import gitlab_report

from radar.plan import render
from radar.plan.build import build_plan
from radar.plan.load import ScanInfo, parse_report
from radar.plan.mapping import Mapping
from radar.plan.read import read_migration
from radar.scan.findings import Finding, FingerprintKey
from radar.scan.migrated import check_ci_file, reidentified

SECTION = "migrated"
KEY = FingerprintKey(b"benchmark key")


def ci_file(jobs: int, keys: list[str]) -> str:
    lines = ["variables:"]
    for i in range(jobs):
        value = f"https://u:${keys[i % len(keys)]}@example.com" if i % 10 == 0 else f"value-{i}"
        lines.append(f'  VAR_{i}: "{value}"')
    lines += [".template:", "  before_script:", "    - echo setting up"]
    for i in range(jobs):
        lines += [f"job-{i}:", "  extends: .template", "  script:", f"    - ./run ${keys[i % len(keys)]}"]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--values", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--write", action="store_true", help="rewrite this benchmark's section of RESULTS.md")
    args = parser.parse_args()
    rng = random.Random(14)
    report = parse_report(__import__("json").dumps(gitlab_report(args.values, rng)))
    plan = build_plan(report.findings, ScanInfo("gitlab", "https://gitlab.example.com", "https://gitlab.example.com",
                                                KEY.key_id), Mapping())
    with tempfile.TemporaryDirectory() as work:
        path = Path(work, "plan.json")
        path.write_text(render(plan, "json"))
        size = path.stat().st_size
        migration = read_migration(str(path))
        read = median_seconds(lambda: read_migration(str(path)), args.runs)
    project = "acme/p0"
    keys = sorted({v.key for v in migration.variables if v.owner == project})
    ci_rows = []
    for jobs in (1_000, 2_000, 4_000):
        text = ci_file(jobs, keys)
        found = len(check_ci_file(text, ".gitlab-ci.yml", project, migration, KEY).findings)
        ci_rows.append((jobs, len(text), found,
                        median_seconds(lambda: check_ci_file(text, ".gitlab-ci.yml", project, migration, KEY),
                                       args.runs)))
    moved = list(migration.by_fingerprint)
    findings = [Finding(rule_id="generic-password", secret_type="Password", description="Password", severity="high",
                        confidence="high", path=f"src/f{i}.env", line=1, column=1, end_line=1, end_column=20,
                        fingerprint=moved[i % len(moved)] if i % 10 == 0 else "%064x" % rng.getrandbits(256),
                        preview="[redacted]") for i in range(100_000)]
    reid = median_seconds(lambda: reidentified(findings, (), migration), args.runs)
    lines = [
        "## radar scan --migrated: what the checks after a migration cost (benchmarks/migrated.py)", "",
        f"Median of {args.runs} in-process rounds; {results.machine()}.", "",
        f"Reading a plan of {len(migration.values):,} values and {len(migration.variables):,} moved variables "
        f"({size / 1e6:.1f} MB, made by radar's planner): {read:.3f} s.", "",
        "| CI file: jobs (and top-level variables) | size | findings | check_ci_file |",
        "|---:|---:|---:|---:|",
        *(f"| {jobs:,} | {size / 1e3:.0f} KB | {found:,} | {seconds:.3f} s |"
          for jobs, size, found, seconds in ci_rows),
        "",
        f"Re-identifying 100,000 findings (10,000 holding a moved value): {reid:.3f} s.",
    ]
    print("\n".join(lines))
    if args.write:
        results.write_section(SECTION, "\n".join(lines))


if __name__ == "__main__":
    main()
