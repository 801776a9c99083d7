"""How long `radar audit vault` takes against a local OpenBao holding many roles and policies.

Usage: .venv/bin/python benchmarks/audit_vault.py [--roles N] [--policies N] [--rounds N] [--write]

1. A dev-mode OpenBao on 127.0.0.1 (tests/vault_fixtures.py) gets one JWT mount with --roles roles
   (default 500, shaped like `radar plan`'s: project, environment, audience, short TTL; every tenth
   binds no project) and --policies ACL policies (default 500, five path rules each; every tenth
   grants a wildcard). No secret is involved.
2. `radar audit vault --format json` runs as a user would run it (a subprocess, root token),
   --rounds times: median wall time from spawn to exit, the child's peak RSS (wait4), the
   number of findings (so the audit is known to have read everything).
3. Prints a Markdown table and, with --write, rewrites its section of benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import results  # benchmarks/results.py: the shared RESULTS.md writer

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from vault_fixtures import ISSUER, ROOT_TOKEN, new_signing_key, public_pem, start_bao, stop_bao  # noqa: E402

SECTION = "audit-vault"


def seed(server, roles: int, policies: int) -> None:
    server.api("POST", "sys/auth/jwt", {"type": "jwt"})
    server.api("POST", "auth/jwt/config", {"jwt_validation_pubkeys": [public_pem(new_signing_key())],
                                           "bound_issuer": ISSUER})
    for n in range(roles):
        claims = {"environment": "staging"} if n % 10 == 0 else {"project_id": str(n), "environment": "staging"}
        server.api("POST", f"auth/jwt/role/app{n}-staging", {
            "role_type": "jwt", "user_claim": "user_email", "bound_audiences": ["https://vault.example.com"],
            "token_explicit_max_ttl": 300, "policies": [f"app{n}-staging"], "bound_claims": claims})
    for n in range(policies):
        end = "/*" if n % 10 == 0 else ""
        text = "\n".join(f'path "secret/data/app{n}/staging/s{k}{end}" {{\n  capabilities = ["read"]\n}}' for k in range(5))
        server.api("POST", f"sys/policies/acl/app{n}-staging", {"policy": text})


def run(server) -> tuple[float, float, int]:
    env = {"PATH": os.environ["PATH"], "VAULT_ADDR": server.url, "VAULT_TOKEN": ROOT_TOKEN,
           "RADAR_FINGERPRINT_KEY": "audit-benchmark"}
    with tempfile.TemporaryFile() as out:
        start = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-m", "radar", "audit", "vault", "--format", "json"], stdout=out,
                                stderr=subprocess.DEVNULL, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        out.seek(0)
        findings = len(json.loads(out.read())["findings"])
    assert os.waitstatus_to_exitcode(status) == 1, "the audit should report the planted cases (exit 1)"
    return wall, usage.ru_maxrss / 1024, findings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--roles", type=int, default=500)
    parser.add_argument("--policies", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--write", action="store_true", help="rewrite this benchmark's section of RESULTS.md")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work:
        server = start_bao(Path(work))
        try:
            seed(server, args.roles, args.policies)
            runs = [run(server) for _ in range(args.rounds)]
        finally:
            stop_bao(server)
    wall = statistics.median(r[0] for r in runs)
    lines = [
        "## radar audit vault: a Vault of many roles and policies (benchmarks/audit_vault.py)", "",
        f"Local OpenBao; median of {args.rounds} runs; {results.machine()}.", "",
        "| roles | policies (5 rules each) | findings | wall time | peak RSS |", "|---:|---:|---:|---:|---:|",
        f"| {args.roles:,} | {args.policies:,} | {runs[0][2]:,} | {wall:.2f} s | {max(r[1] for r in runs):.0f} MB |",
    ]
    print("\n".join(lines))
    if args.write:
        results.write_section(SECTION, "\n".join(lines))


if __name__ == "__main__":
    main()
