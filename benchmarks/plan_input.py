"""What reading a big findings report costs `radar plan`: parsing, checking it against the
published schema (radar.report.schema), and the whole command.

Usage: .venv/bin/python benchmarks/plan_input.py [--findings N] [--runs N] [--write]

1. Writes two reports of --findings findings (default 10,000) to a temporary directory, shaped as
   radar writes them: a `radar scan gitlab` report over 500 projects (CI/CD variables in three
   environment scopes), and a `--history` report of one repository (a third of the findings with
   commits and locations). Values are random hex; no secret is involved.
2. In-process, median of --runs rounds: `json.loads` alone, the schema check alone,
   `parse_report` (both, plus building the findings), and escaping the findings for display
   (`printable_fields`, which `build_plan` does).
3. The whole `radar plan REPORT --format json` on the GitLab report, standard output to a
   temporary file: median wall time and the largest peak RSS. (The history report is left out:
   its 10,000 values share one Vault secret, and the plan repeats that secret's `vault kv put`
   command, which names every field, for each value, so the plan grows with the square of the
   findings.)
4. Prints a Markdown table and, with --write, rewrites its section of benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import results  # benchmarks/results.py: the shared RESULTS.md writer
from results import median_seconds

from radar.plan.load import _report_schema, parse_report
from radar.report.printable import printable_fields

SECTION = "plan-input"
SCAN = {"started": "2024-03-01T12:00:00Z", "finished": "2024-03-01T12:00:05Z", "radar_version": "0.1.0"}


def gitlab_report(n: int, rng: random.Random) -> dict:
    findings = []
    for i in range(n):
        project, key, scope = i % 500, f"DEPLOY_TOKEN_{i // 500}", rng.choice(["*", "production", "staging"])
        findings.append({
            "rule_id": "gitlab-personal-access-token", "secret_type": "GitLab personal access token",
            "description": "GitLab personal access token", "path": f"variables/{key}[{scope}]", "line": 1,
            "column": 14, "end_line": 1, "end_column": 39, "severity": "critical", "confidence": "high",
            "fingerprint": "%064x" % rng.getrandbits(256), "preview": "glpa…", "tags": [], "ignored": False,
            "name": key, "variable_key": key, "environment_scope": scope, "project": f"acme/p{project}",
            "project_id": 100 + project, "key": key})
    return {"findings": findings, "summary": {"findings": n, "units": n},
            "scan": {"kind": "gitlab", "target": "https://gitlab.example.com", "root": "https://gitlab.example.com", **SCAN}}


def history_report(n: int, rng: random.Random) -> dict:
    findings = []
    for i in range(n):
        line = i % 500 + 1
        finding = {
            "rule_id": "generic-password", "secret_type": "Password", "description": "Password assigned in code",
            "path": f"src/module{i % 300}/config{i}.env", "line": line, "column": 5, "end_line": line,
            "end_column": 30, "severity": rng.choice(["critical", "high", "medium", "low"]),
            "confidence": rng.choice(["high", "medium", "low"]), "fingerprint": "%064x" % rng.getrandbits(256),
            "preview": "[redacted]", "tags": ["decoded:base64"] if i % 7 == 0 else [], "ignored": False,
            "name": f"DB_PASSWORD_{i % 50}"}
        if i % 3 == 0:
            commit, who, when = "%040x" % rng.getrandbits(160), "Dev <dev@example.com>", "2024-03-01T12:00:00+00:00"
            finding.update({"commit": commit, "author": who, "date": when, "blob": "%040x" % rng.getrandbits(160),
                            "first_seen": {"commit": commit, "author": who, "date": when}, "in_head": bool(i % 2),
                            "locations": [{"path": finding["path"], "line": line, "commit": commit, "author": who,
                                           "date": when}]})
        findings.append(finding)
    return {"findings": findings, "summary": {"findings": n, "files": n, "bytes": 10**7, "binary_files": 0},
            "scan": {"kind": "history", "target": "repo", "root": "/work/repo", **SCAN}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--findings", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--write", action="store_true", help="rewrite this benchmark's section of RESULTS.md")
    args = parser.parse_args()
    rng = random.Random(7)
    check = _report_schema()
    rows = []
    with tempfile.TemporaryDirectory() as work:
        for name, make in (("gitlab", gitlab_report), ("history", history_report)):
            text = json.dumps(make(args.findings, rng), indent=2)
            document = json.loads(text)
            findings = parse_report(text).findings
            rows.append((f"{name} report, {len(text) / 1e6:.1f} MB",
                         median_seconds(lambda: json.loads(text), args.runs),
                         median_seconds(lambda: check(document), args.runs),
                         median_seconds(lambda: parse_report(text), args.runs),
                         median_seconds(lambda: [printable_fields(f) for f in findings], args.runs)))
            Path(work, f"{name}.json").write_text(text)
        command = [sys.executable, "-m", "radar", "plan", str(Path(work, "gitlab.json")), "--format", "json"]
        walls = []
        for _ in range(max(1, args.runs // 2)):
            with open(Path(work, "plan.json"), "wb") as out:
                start = time.perf_counter()
                subprocess.run(command, stdout=out, stderr=subprocess.DEVNULL, check=False)
                walls.append(time.perf_counter() - start)
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    lines = [
        "## radar plan: reading a findings report (benchmarks/plan_input.py)", "",
        f"{args.findings:,} findings; median of {args.runs} in-process rounds; {results.machine()}.", "",
        "| report | json.loads | schema check | parse_report (all of reading) | printable_fields |",
        "|---|---:|---:|---:|---:|",
        *(f"| {label} | {a:.3f} s | {b:.3f} s | {c:.3f} s | {d:.3f} s |" for label, a, b, c, d in rows), "",
        f"Whole `radar plan` of the GitLab report (`--format json`): median {statistics.median(walls):.2f} s "
        f"over {len(walls)} run(s), peak RSS {peak:.0f} MB.",
    ]
    print("\n".join(lines))
    if args.write:
        results.write_section(SECTION, "\n".join(lines))


if __name__ == "__main__":
    main()
