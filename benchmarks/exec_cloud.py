"""How long `radar exec` takes from its start to CMD's start with Azure Key Vault and GCP Secret
Manager secrets, next to the same with a Vault secret.

Usage: .venv/bin/python benchmarks/exec_cloud.py [--runs N]

1. Starts, on 127.0.0.1, a local OpenBao dev server configured like the tests (JWT auth, one KV v2
   secret) and the tests' fakes of Entra ID, Key Vault, Google STS and Secret Manager over TLS
   (tests/cloud_fakes.py). Their CA reaches radar as SSL_CERT_FILE, appended to the system's CA
   bundle, so that radar loads as many certificates as it would from the system trust store.
   Values are random, never printed.
2. Runs radar through tests/radar_cloud.py (radar's command line with the cloud endpoints moved to
   the fakes; the same start-up as `radar`, plus one small script) with CMD `date +%s%N`, and takes
   the time from spawning to CMD's first act, interleaved over --runs rounds:
   `radar mask -- date` (start-up, no secrets), then `radar exec` with 1 Vault secret, 1 Azure Key
   Vault secret (token exchange + read), 1 GCP secret (STS exchange + read), and all three.
3. Prints a Markdown table of medians and rewrites its section of benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

import results  # benchmarks/results.py: the shared RESULTS.md writer

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

from cloud_fakes import (  # noqa: E402  (the tests' fakes: one definition of each cloud API)
    AZURE_AUDIENCE, CLIENT_ID, GCP_AUDIENCE, GCP_PROVIDER, POOL, PROJECT_NUMBER, STS, TENANT, Entra, KeyVault,
    SecretManager,
)
from radar.vault.cloud import CloudEndpoints  # noqa: E402
from vault_fakes import ScriptedServer, tls_certificate  # noqa: E402
from vault_fixtures import (  # noqa: E402
    AUDIENCE, ROLE, configure_gitlab_jwt, mint_id_token, new_signing_key, random_value, start_bao, stop_bao,
)

SECTION = "exec-cloud"
SYSTEM_BUNDLE = ssl.get_default_verify_paths().openssl_cafile
DATE = shutil.which("date") or "/bin/date"
ENTRY = HERE.parent / "tests" / "radar_cloud.py"
JOBS = {
    "1 Vault secret": ["V"],
    "1 Azure Key Vault secret": ["A"],
    "1 GCP Secret Manager secret": ["G"],
    "Vault + Azure + GCP, 1 secret each": ["V", "A", "G"],
}
ENTRIES = {
    "V": "V: {vault: bench/one/value@secret, token: $VAULT_ID_TOKEN}",
    "A": "A: {azure_key_vault: {name: bench-one}, token: $AZURE_JWT}",
    "G": "G: {gcp_secret_manager: {name: bench-one}, token: $GCP_ID_TOKEN}",
}


def write_ci_file(directory: Path) -> Path:
    lines = []
    for n, entries in enumerate(JOBS.values()):
        lines += [f"job-{n}:", "  id_tokens:", f"    VAULT_ID_TOKEN: {{aud: '{AUDIENCE}'}}",
                  f"    AZURE_JWT: {{aud: '{AZURE_AUDIENCE}'}}", f"    GCP_ID_TOKEN: {{aud: '{GCP_AUDIENCE}'}}",
                  "  secrets:", *[f"    {ENTRIES[e]}" for e in entries]]
    path = directory / ".gitlab-ci.yml"
    path.write_text("\n".join(lines) + "\n")
    return path


def time_to_cmd(argv: list[str], env: dict[str, str]) -> float:
    """Milliseconds from just before spawning `argv` to the timestamp its CMD printed last."""
    start = time.time_ns()
    done = subprocess.run(argv, capture_output=True, env=env, timeout=120)
    if done.returncode != 0:
        raise SystemExit(f"radar failed ({done.returncode}): {done.stderr.decode(errors='replace')[-500:]}")
    return (int(done.stdout.split()[-1]) - start) / 1e6


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="rounds of every measurement (default 15)")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="radar-bench-cloud-"))
    key = new_signing_key()
    cert = tls_certificate(work / "tls")
    entra, sts = Entra(key), STS(key)
    key_vault, secret_manager = KeyVault(entra), SecretManager(sts)
    key_vault.put("bench-one", random_value())
    secret_manager.put("bench-one", random_value().encode())
    servers = {name: ScriptedServer(fake, tls=cert) for name, fake in
               (("entra", entra), ("key_vault", key_vault), ("sts", sts), ("secret_manager", secret_manager))}
    bao = start_bao(work / "bao")
    try:
        configure_gitlab_jwt(bao, key, policy_paths=("secret/data/bench/*",))
        bao.put_secret("secret", "bench/one", {"value": random_value()})
        ci = write_ci_file(work)
        (work / "tmp").mkdir()
        bundle = work / "ca-bundle.pem"
        bundle.write_bytes(Path(SYSTEM_BUNDLE).read_bytes() + cert.ca_file.read_bytes())
        expires = int(time.time()) + 3600  # long-lived enough for every run
        env = {
            "PATH": os.environ["PATH"], "LANG": "C.UTF-8", "TMPDIR": str(work / "tmp"), "SSL_CERT_FILE": str(bundle),
            "VAULT_SERVER_URL": bao.url, "VAULT_AUTH_ROLE": ROLE, "VAULT_ID_TOKEN": mint_id_token(key, exp=expires),
            "AZURE_JWT": mint_id_token(key, aud=AZURE_AUDIENCE, exp=expires),
            "GCP_ID_TOKEN": mint_id_token(key, aud=GCP_AUDIENCE, exp=expires),
            "AZURE_KEY_VAULT_SERVER_URL": servers["key_vault"].url, "AZURE_CLIENT_ID": CLIENT_ID, "AZURE_TENANT_ID": TENANT,
            "GCP_PROJECT_NUMBER": PROJECT_NUMBER, "GCP_WORKLOAD_IDENTITY_FEDERATION_POOL_ID": POOL,
            "GCP_WORKLOAD_IDENTITY_FEDERATION_PROVIDER_ID": GCP_PROVIDER,
        }
        endpoints = json.dumps(asdict(CloudEndpoints(entra_authority=servers["entra"].url, gcp_sts=servers["sts"].url,
                                                     gcp_secret_manager=servers["secret_manager"].url)))
        radar = [sys.executable, str(ENTRY), endpoints]
        scenarios = {"`radar mask -- date` (start-up, no secrets)": [*radar, "mask", "--", DATE, "+%s%N"]}
        for n, name in enumerate(JOBS):
            scenarios[f"`radar exec`, {name}"] = [*radar, "exec", "--job", f"job-{n}", "--ci-file", str(ci),
                                                  "--", DATE, "+%s%N"]
        samples: dict[str, list[float]] = {name: [] for name in scenarios}
        names = list(samples)
        for round_number in range(args.runs + 1):  # round 0 warms up (page cache, .pyc files)
            for name in names:
                value = time_to_cmd(scenarios[name], env)
                if round_number:
                    samples[name].append(value)
            names = names[1:] + names[:1]
        if os.listdir(work / "tmp"):
            raise SystemExit("radar exec left files behind")
    finally:
        stop_bao(bao)
        for server in servers.values():
            server.close()
        shutil.rmtree(work, ignore_errors=True)

    rows = [(name, statistics.median(v), min(v), max(v)) for name, v in samples.items()]
    lines = [
        "## `radar exec` start-up with Azure Key Vault and GCP Secret Manager secrets",
        "",
        f"`benchmarks/exec_cloud.py --runs {args.runs}` (median of {args.runs} interleaved runs after one warm-up "
        f"round). CMD is `date +%s%N`; the clock is read just before spawning. Vault is an OpenBao dev server; "
        f"Entra ID, Key Vault, STS and Secret Manager are the tests' fakes over TLS, all on 127.0.0.1. "
        f"{results.machine()}.",
        "",
        "| What | median ms | min ms | max ms |",
        "| --- | ---: | ---: | ---: |",
        *[f"| {name} | {m:.1f} | {lo:.1f} | {hi:.1f} |" for name, m, lo, hi in rows],
        "",
        "A cloud secret costs two TLS round trips (token exchange, then the read) to two origins; on "
        "loopback that is a few ms, so start-up dominates. Against the real services each adds the "
        "network's round-trip time and a TLS handshake per origin. Vault, Azure and GCP are fetched one "
        "provider after the other.",
    ]
    section = "\n".join(lines)
    print(section)
    results.write_section(SECTION, section)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
