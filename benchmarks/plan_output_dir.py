"""What `radar plan --output-dir` costs for a big plan: rendering with the setup sections, and
writing the directory (every file through radar.files.write_file: a temporary file, fsync, rename).

Usage: .venv/bin/python benchmarks/plan_output_dir.py [--projects N] [--runs N] [--write]

1. Builds, in-process, the plan of --projects GitLab projects (default 500) with one production,
   one staging and one development password each (3 findings, 3 roles per project). No value.
2. Median of --runs rounds: rendering Markdown, HTML and JSON with `files=True`; writing the
   directory new; writing it again over itself (radar's own files, replaced).
3. Prints a Markdown table and, with --write, rewrites its section of benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

import results  # benchmarks/results.py: the shared RESULTS.md writer
from results import median_seconds

from radar.plan import render
from radar.plan.artifacts import write_dir
from radar.plan.build import build_plan
from radar.plan.load import ScanInfo
from radar.plan.mapping import Mapping
from radar.scan.findings import Finding, Origin

SECTION = "plan-output-dir"
ENVIRONMENTS = ("production", "staging", "development")


def plan_of(projects: int):
    findings = [
        Finding(rule_id="generic-password", secret_type="Password", description="Password", severity="high",
                confidence="high", path=f"config/{ENVIRONMENTS[i % 3]}.yml", line=1 + i, column=1, end_line=1 + i,
                end_column=9, fingerprint=f"{i:064x}", preview="[redacted]", name="DB_PASSWORD",
                origin=Origin(project=f"acme/p{i // 3}", project_id=100 + i // 3))
        for i in range(projects * 3)]
    url = "https://gitlab.example.com"
    return build_plan(findings, ScanInfo("gitlab", url, url), Mapping())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--projects", type=int, default=500)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--write", action="store_true", help="rewrite this benchmark's section of RESULTS.md")
    args = parser.parse_args()
    plan = plan_of(args.projects)
    rows = [(f"render {fmt}", median_seconds(lambda fmt=fmt: render(plan, fmt, files=True), args.runs))
            for fmt in ("markdown", "html", "json")]
    with tempfile.TemporaryDirectory() as tmp:
        def new() -> None:
            shutil.rmtree(Path(tmp) / "out", ignore_errors=True)
            write_dir(plan, str(Path(tmp) / "out"))

        rows.append(("write the directory, new", median_seconds(new, args.runs)))
        rows.append(("write it again over itself", median_seconds(lambda: write_dir(plan, str(Path(tmp) / "out")),
                                                               args.runs)))
        files = sum(1 for p in (Path(tmp) / "out").rglob("*") if p.is_file())
    lines = [f"{args.projects} projects, {len(plan.targets)} roles, {files} files; median of {args.runs} rounds; "
             f"{results.machine()}.", "", "| step | time |", "|---|---:|"]
    lines += [f"| {name} | {seconds:.2f} s |" for name, seconds in rows]
    lines += ["", "Writing is dominated by one fsync and one rename per file (radar.files.write_file)."]
    print("\n".join(lines))
    if args.write:
        results.write_section(SECTION, "## radar plan --output-dir (benchmarks/plan_output_dir.py)\n\n" + "\n".join(lines))


if __name__ == "__main__":
    main()
