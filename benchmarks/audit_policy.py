"""What reading Vault policies costs `radar audit vault`: python-hcl2 on HCL, radar's JSON reader on
Vault's JSON form, for policies of 10, 100 and 500 path rules and one at MAX_POLICY_BYTES.

Usage: .venv/bin/python benchmarks/audit_policy.py [--runs N] [--write]

Prints a Markdown table (median of --runs in-process rounds) and, with --write, rewrites its section
of benchmarks/RESULTS.md. The first parse also builds hcl2's grammar: timed once, in a fresh process.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

import results  # benchmarks/results.py: the shared RESULTS.md writer
from results import median_seconds

from radar.audit.vault_policy import MAX_POLICY_BYTES, parse_policy

SECTION = "audit-policy"
RULE = 'path "secret/data/team/app{n}/*" {{\n  capabilities = ["read", "list"]\n}}\n'


def hcl(rules: int) -> str:
    return "".join(RULE.format(n=n) for n in range(rules))


def largest() -> str:
    text, n = [], 0
    size = 0
    while size + len(RULE.format(n=n)) <= MAX_POLICY_BYTES:
        text.append(RULE.format(n=n))
        size += len(text[-1])
        n += 1
    return "".join(text)


def as_json(text: str) -> str:
    return json.dumps({"path": {r.path: {"capabilities": list(r.capabilities)} for r in parse_policy(text)}})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--write", action="store_true", help="rewrite this benchmark's section of RESULTS.md")
    args = parser.parse_args()
    first = subprocess.run([sys.executable, "-c", "import time; t = time.perf_counter(); "
                            "from radar.audit.vault_policy import parse_policy; "
                            "parse_policy('path \"a\" { capabilities = [\"read\"] }'); print(time.perf_counter() - t)"],
                           capture_output=True, text=True, check=True)
    rows = []
    for label, text in (("10 rules", hcl(10)), ("100 rules", hcl(100)), ("500 rules", hcl(500)),
                        (f"largest accepted ({MAX_POLICY_BYTES // 1024} KiB)", largest())):
        form = as_json(text)
        rows.append((f"{label}, {len(text) / 1024:.1f} KiB", median_seconds(lambda: parse_policy(text), args.runs),
                     median_seconds(lambda: parse_policy(form), args.runs)))
    lines = [
        "## radar audit vault: reading policies (benchmarks/audit_policy.py)", "",
        f"Median of {args.runs} in-process rounds; {results.machine()}.", "",
        "| policy | HCL (python-hcl2) | Vault's JSON form |", "|---|---:|---:|",
        *(f"| {label} | {h:.3f} s | {j:.4f} s |" for label, h, j in rows), "",
        f"First policy of a run (loading python-hcl2 and building its grammar): {float(first.stdout):.2f} s.",
    ]
    print("\n".join(lines))
    if args.write:
        results.write_section(SECTION, "\n".join(lines))


if __name__ == "__main__":
    main()
