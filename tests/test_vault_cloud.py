"""`radar exec` and `radar secrets check` with Azure Key Vault and GCP Secret Manager secrets.

radar runs as users run it (a child process, a clean environment), through `radar_cloud.py`,
which points it at local fakes of Entra ID, Key Vault, Google STS and Secret Manager served
over real TLS on 127.0.0.1 (their CA reaches radar as SSL_CERT_FILE, as a system trust store
would). The token services check the ID token's signature, issuer, audience and expiry; the
stores check the access token. Vault, where a job mixes it in, is a real OpenBao. Values are
random; leaks are checked with `assert_absent`, which never prints what it looks for.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import signal
import subprocess
import sys
import textwrap
import socket
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from cloud_fakes import (
    AZURE_AUDIENCE, CLIENT_ID, GCP_AUDIENCE, GCP_PROVIDER, POOL, PROJECT_NUMBER, STS, TENANT, Entra, KeyVault,
    SecretManager,
)
from radar.vault.azure import AzureKeyVault, AzureSettings
from radar.vault.client import RetryPolicy
from radar.vault.cloud import CloudEndpoints
from radar.vault.gcp import GCPSecretManager, GCPSettings
from radar.vault.model import AzureSecretSpec, GCPSecretSpec, ResolvedSecret, SecretFailure
from radar.vault.variables import JobVariables
from radar_cli import WAIT, assert_absent, assert_one_line_error, clean_env, read_until
from vault_fakes import Certificate, ScriptedServer, answer, never_answer, response, tls_certificate
from vault_fixtures import AUDIENCE, ROLE, mint_id_token

ENTRY = Path(__file__).with_name("radar_cloud.py")

# CMD: writes, for each variable named, the SHA-256 of what it holds (a file's content when it
# names a file) and whether it was a file; then prints each value on stdout (radar masks it).
CHILD = textwrap.dedent("""\
    import hashlib, json, os, sys
    report = {}
    for name in sys.argv[2:]:
        value = os.environ.get(name, "")
        is_file = os.path.isabs(value) and os.path.isfile(value)
        data = open(value, "rb").read() if is_file else value.encode()
        report[name] = {"file": is_file, "sha256": hashlib.sha256(data).hexdigest()}
        sys.stdout.buffer.write(b"value " + name.encode() + b" " + data + b"\\n")
    json.dump(report, open(sys.argv[1], "w"))
""")


def sha256(data: str | bytes) -> str:
    return hashlib.sha256(data.encode() if isinstance(data, str) else data).hexdigest()


@dataclass
class Clouds:
    entra: Entra
    key_vault: KeyVault
    sts: STS
    secret_manager: SecretManager
    servers: dict[str, ScriptedServer]
    cert: Certificate  # the fakes' certificate, and the CA radar trusts through SSL_CERT_FILE

    @property
    def ca_file(self) -> Path:
        return self.cert.ca_file

    @property
    def endpoints(self) -> CloudEndpoints:
        return CloudEndpoints(entra_authority=self.servers["entra"].url, gcp_sts=self.servers["sts"].url,
                              gcp_secret_manager=self.servers["secret_manager"].url)

    def env(self) -> dict[str, str]:
        return {
            "SSL_CERT_FILE": str(self.ca_file),
            "AZURE_KEY_VAULT_SERVER_URL": self.servers["key_vault"].url, "AZURE_CLIENT_ID": CLIENT_ID,
            "AZURE_TENANT_ID": TENANT, "GCP_PROJECT_NUMBER": PROJECT_NUMBER,
            "GCP_WORKLOAD_IDENTITY_FEDERATION_POOL_ID": POOL, "GCP_WORKLOAD_IDENTITY_FEDERATION_PROVIDER_ID": GCP_PROVIDER,
        }

    def access_tokens(self) -> list[str]:
        return [*self.entra.issued, *self.sts.issued]


@pytest.fixture
def clouds(serve, tmp_path, id_token_key) -> Clouds:
    cert = tls_certificate(tmp_path / "tls")
    entra, sts = Entra(id_token_key), STS(id_token_key)
    fakes = {"entra": entra, "key_vault": KeyVault(entra), "sts": sts, "secret_manager": SecretManager(sts)}
    servers = {name: serve(fake, tls=cert) for name, fake in fakes.items()}
    return Clouds(entra, fakes["key_vault"], sts, fakes["secret_manager"], servers, cert)


class Run(subprocess.CompletedProcess):
    """A finished radar whose repr shows no output (pytest prints reprs of failing assertions)."""

    def __repr__(self) -> str:
        return f"Run(returncode={self.returncode}, stderr=<{len(self.stderr)} bytes>)"


class Job:
    def __init__(self, tmp_path: Path, clouds: Clouds, key, **env: str) -> None:
        self.tmp_path = tmp_path
        self.clouds = clouds
        self.tmpdir = tmp_path / "tmp"
        self.tmpdir.mkdir(exist_ok=True)
        self.report_path = tmp_path / "report.json"
        self.azure_jwt = mint_id_token(key, aud=AZURE_AUDIENCE)
        self.gcp_jwt = mint_id_token(key, aud=GCP_AUDIENCE)
        self.env = clean_env(TMPDIR=str(self.tmpdir), AZURE_JWT=self.azure_jwt, GCP_ID_TOKEN=self.gcp_jwt,
                             **clouds.env(), **env)

    def ci(self, secrets_yaml: str) -> Path:
        path = self.tmp_path / ".gitlab-ci.yml"
        path.write_text(
            "deploy:\n  id_tokens:\n"
            f"    AZURE_JWT: {{aud: '{AZURE_AUDIENCE}'}}\n    GCP_ID_TOKEN: {{aud: '{GCP_AUDIENCE}'}}\n"
            f"    VAULT_ID_TOKEN: {{aud: '{AUDIENCE}'}}\n"
            "  secrets:\n" + textwrap.indent(textwrap.dedent(secrets_yaml), "    ")
        )
        return path

    def run(self, *args: str | Path, names: tuple[str, ...] = (), endpoints: CloudEndpoints | None = None,
            **env: str) -> Run:
        endpoints = endpoints or self.clouds.endpoints
        argv = [sys.executable, str(ENTRY), json.dumps(asdict(endpoints)), *map(os.fspath, args)]
        if names:
            argv += ["--", sys.executable, "-c", CHILD, str(self.report_path), *names]
        done = subprocess.run(argv, capture_output=True, timeout=WAIT, env={**self.env, **env}, cwd=self.tmp_path)
        return Run(done.args, done.returncode, done.stdout, done.stderr)

    def popen(self, *args: str | Path, endpoints: CloudEndpoints) -> subprocess.Popen[bytes]:
        argv = [sys.executable, str(ENTRY), json.dumps(asdict(endpoints)), *map(os.fspath, args)]
        return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=self.env, cwd=self.tmp_path)

    def exec(self, secrets_yaml: str, *names: str, options: tuple[str, ...] = (), **env) -> Run:
        return self.run("exec", "--job", "deploy", "--ci-file", self.ci(secrets_yaml), *options, names=names, **env)

    def report(self) -> dict:
        return json.loads(self.report_path.read_text())

    def credentials(self) -> list[str]:
        """Everything radar must never print: the ID tokens and the access tokens it got."""
        return [self.azure_jwt, self.gcp_jwt, *self.clouds.access_tokens()]


@pytest.fixture
def job(tmp_path, clouds, id_token_key) -> Job:
    return Job(tmp_path, clouds, id_token_key)


def value() -> str:
    return "cl0ud-" + secrets.token_urlsafe(18)


def error(result: Run, job: Job, *values: str) -> str:
    """The one error line; nothing secret in it or anywhere else in radar's output."""
    assert_absent([*job.credentials(), *values], result.stdout + result.stderr)
    return assert_one_line_error(result)


# --- Azure Key Vault ---------------------------------------------------------------------------

def test_azure_secret_reaches_cmd_as_a_file_and_is_masked(job, clouds):
    secret = value()
    clouds.key_vault.put("db-password", secret)
    result = job.exec("DATABASE_PASSWORD:\n  token: $AZURE_JWT\n  azure_key_vault: {name: db-password}\n",
                      "DATABASE_PASSWORD")
    assert result.returncode == 0, result.stderr.decode()
    seen = job.report()["DATABASE_PASSWORD"]
    assert seen == {"file": True, "sha256": sha256(secret)}  # GitLab's default: a file
    assert b"value DATABASE_PASSWORD [MASKED]" in result.stdout
    assert os.listdir(job.tmpdir) == []
    assert clouds.entra.issued, "no access token was issued"
    assert_absent([secret, *job.credentials()], result.stdout + result.stderr)


def test_the_access_token_is_masked_too(job, clouds):
    # radar never hands it to CMD; should CMD come across it anyway (here: a variable the test
    # planted, with a name no masking rule picks up), it is masked like a value.
    clouds.key_vault.put("db-password", value())
    clouds.entra.next_token = "eyJ0eXAiOiJKV1Qi." + secrets.token_urlsafe(40)
    result = job.exec("DB: {token: $AZURE_JWT, azure_key_vault: {name: db-password}}\n", "DB", "NOTE",
                      NOTE=clouds.entra.next_token)
    assert result.returncode == 0, result.stderr.decode()
    assert clouds.entra.next_token is None, "the planted token was not the one issued"
    assert b"value NOTE [MASKED]" in result.stdout
    assert_absent(job.credentials(), result.stdout + result.stderr)


def test_azure_version_pins_an_older_version_and_none_means_the_latest(job, clouds):
    old, new = value(), value()
    old_version = clouds.key_vault.put("api-key", old)
    clouds.key_vault.put("api-key", new)
    result = job.exec(f"""\
        PINNED: {{token: $AZURE_JWT, file: false, azure_key_vault: {{name: api-key, version: '{old_version}'}}}}
        LATEST: {{token: $AZURE_JWT, file: false, azure_key_vault: {{name: api-key}}}}
    """, "PINNED", "LATEST")
    assert result.returncode == 0, result.stderr.decode()
    assert job.report() == {"PINNED": {"file": False, "sha256": sha256(old)},
                            "LATEST": {"file": False, "sha256": sha256(new)}}
    assert len(clouds.entra.issued) == 1, "one token exchange serves every secret of one ID token"


def test_azure_wrong_version_passes_key_vault_error_through_and_cmd_never_runs(job, clouds):
    clouds.key_vault.put("db-password", value())
    result = job.exec("DB:\n  token: $AZURE_JWT\n  azure_key_vault: {name: db-password, version: "
                      "'00000000000000000000000000000000'}\n", "DB")
    assert result.returncode == 1
    line = error(result, job)
    assert line.startswith("radar: error: secret DB: Azure Key Vault refused secret db-password version 0000")
    assert "HTTP 404 SecretNotFound: A secret with (name/id) db-password/00000000000000000000000000000000 was not found" in line
    assert not job.report_path.exists()


@pytest.mark.parametrize("claims, code", [
    ({"aud": "https://gitlab.com"}, "AADSTS700212: No matching federated identity record found for presented assertion audience 'https://gitlab.com'"),
    ({"iss": "https://gitlab.evil.example"}, "AADSTS700211: No matching federated identity record found for presented assertion issuer"),
    ({"exp": 1_000_000_000}, "AADSTS700024: Client assertion is not within its valid time range."),
], ids=["audience", "issuer", "expired"])
def test_azure_rejected_id_token_names_the_variable_and_entra_error(job, clouds, id_token_key, claims, code):
    clouds.key_vault.put("db-password", value())
    jwt = mint_id_token(id_token_key, **{"aud": AZURE_AUDIENCE, **claims})
    result = job.exec("DB:\n  token: $AZURE_JWT\n  azure_key_vault: {name: db-password}\n", "DB", AZURE_JWT=jwt)
    assert result.returncode == 1
    line = error(result, job, jwt)
    assert line.startswith(f"radar: error: secret DB: Entra ID refused the ID token in AZURE_JWT (tenant {TENANT}, "
                           f"client {CLIENT_ID}): invalid_client: {code}")
    assert "Trace ID" not in line and not clouds.entra.issued


def test_azure_rbac_denial_says_which_role_is_missing(job, clouds):
    clouds.key_vault.put("db-password", value())
    clouds.key_vault.forbidden.add("db-password")
    result = job.exec("DB:\n  token: $AZURE_JWT\n  azure_key_vault: {name: db-password}\n", "DB")
    assert result.returncode == 1
    line = error(result, job)
    assert "HTTP 403 Forbidden (ForbiddenByRbac): Caller is not authorized to perform action on resource." in line
    assert line.endswith("give the application the Key Vault Secrets User role on the vault\n")


@pytest.mark.parametrize("unset, env, message", [
    ("AZURE_TENANT_ID", {}, "AZURE_TENANT_ID not set; Azure Key Vault secrets need"),
    (None, {"AZURE_KEY_VAULT_SERVER_URL": "http://127.0.0.1:1"}, "AZURE_KEY_VAULT_SERVER_URL=http://127.0.0.1:1 is not an https:// URL"),
    (None, {"AZURE_TENANT_ID": "../../evil"}, "AZURE_TENANT_ID must be the tenant's id"),
])
def test_azure_settings_errors_exit_2_before_any_request(job, clouds, unset, env, message):
    if unset:
        del job.env[unset]
    result = job.exec("DB:\n  token: $AZURE_JWT\n  azure_key_vault: {name: db-password}\n", "DB", **env)
    assert result.returncode == 2
    assert message in error(result, job)
    assert all(not server.requests for server in clouds.servers.values())


# --- GCP Secret Manager ------------------------------------------------------------------------

def test_gcp_secret_as_a_variable_latest_by_default_and_version_numbers(job, clouds):
    first, second = value(), value()
    clouds.secret_manager.put("db-password", first.encode())
    clouds.secret_manager.put("db-password", second.encode())
    result = job.exec("""\
        LATEST: {token: $GCP_ID_TOKEN, file: false, gcp_secret_manager: {name: db-password}}
        FIRST: {token: $GCP_ID_TOKEN, file: false, gcp_secret_manager: {name: db-password, version: 1}}
    """, "LATEST", "FIRST")
    assert result.returncode == 0, result.stderr.decode()
    assert job.report() == {"LATEST": {"file": False, "sha256": sha256(second)},
                            "FIRST": {"file": False, "sha256": sha256(first)}}
    assert b"value LATEST [MASKED]" in result.stdout and b"value FIRST [MASKED]" in result.stdout
    assert_absent([first, second, *job.credentials()], result.stdout + result.stderr)


def test_gcp_binary_secret_reaches_a_file_byte_for_byte(job, clouds):
    blob = bytes(range(256)) + secrets.token_bytes(64)
    clouds.secret_manager.put("keystore", blob)
    result = job.exec("KEYSTORE: {token: $GCP_ID_TOKEN, gcp_secret_manager: {name: keystore}}\n", "KEYSTORE")
    assert result.returncode == 0, result.stderr.decode()
    assert job.report()["KEYSTORE"] == {"file": True, "sha256": sha256(blob)}


def test_gcp_wrong_version_passes_google_error_through(job, clouds):
    clouds.secret_manager.put("db-password", value().encode())
    result = job.exec("DB: {token: $GCP_ID_TOKEN, gcp_secret_manager: {name: db-password, version: 7}}\n", "DB")
    assert result.returncode == 1
    assert error(result, job) == (
        "radar: error: secret DB: GCP Secret Manager refused secret db-password version 7: NOT_FOUND: Secret Version "
        f"[projects/{PROJECT_NUMBER}/secrets/db-password/versions/7] not found or has been destroyed.\n")


@pytest.mark.parametrize("env, claims, reason", [
    ({}, {"aud": "https://gitlab.com"}, "invalid_grant: The audience in ID Token [https://gitlab.com] does not match the expected audience."),
    ({}, {"iss": "https://gitlab.evil.example"}, "invalid_grant: The issuer in ID Token https://gitlab.evil.example does not match"),
    ({}, {"exp": 1_000_000_000}, "invalid_grant: ID Token expired at 1000000000."),
    ({"GCP_WORKLOAD_IDENTITY_FEDERATION_POOL_ID": "other-pool"}, {}, 'invalid_target: The target service indicated by the "audience" parameters is invalid.'),
], ids=["audience", "issuer", "expired", "unknown pool"])
def test_gcp_rejected_id_token_names_the_variable_and_sts_error(job, clouds, id_token_key, env, claims, reason):
    clouds.secret_manager.put("db-password", value().encode())
    jwt = mint_id_token(id_token_key, **{"aud": GCP_AUDIENCE, **claims})
    result = job.exec("DB: {token: $GCP_ID_TOKEN, gcp_secret_manager: {name: db-password}}\n", "DB",
                      GCP_ID_TOKEN=jwt, **env)
    assert result.returncode == 1
    line = error(result, job, jwt)
    assert line.startswith("radar: error: secret DB: Google STS refused the ID token in GCP_ID_TOKEN "
                           f"(project {PROJECT_NUMBER}, pool {env.get('GCP_WORKLOAD_IDENTITY_FEDERATION_POOL_ID', POOL)}, "
                           f"provider {GCP_PROVIDER}): {reason}")
    assert not clouds.secret_manager.sts.issued


def test_gcp_checksum_mismatch_is_refused(job, clouds):
    clouds.secret_manager.put("db-password", value().encode())
    clouds.secret_manager.bad_checksum.add("db-password")
    result = job.exec("DB: {token: $GCP_ID_TOKEN, gcp_secret_manager: {name: db-password}}\n", "DB")
    assert result.returncode == 1
    assert "does not match its CRC32C checksum" in error(result, job)
    assert not job.report_path.exists()


# --- mixed jobs, secrets check ------------------------------------------------------------------

def vault_env(bao_server, key) -> dict[str, str]:
    return {"VAULT_SERVER_URL": bao_server.url, "VAULT_AUTH_ROLE": ROLE, "VAULT_ID_TOKEN": mint_id_token(key)}


MIXED = """\
    FROM_VAULT: {vault: production/db/password@ops, token: $VAULT_ID_TOKEN}
    FROM_AZURE: {azure_key_vault: {name: api-key}, token: $AZURE_JWT, file: false}
    FROM_GCP: {gcp_secret_manager: {name: signing-key}, token: $GCP_ID_TOKEN}
"""


def test_a_job_mixing_vault_azure_and_gcp_gets_every_secret(job, clouds, bao_server, id_token_key):
    azure_value, gcp_value = value(), value()
    clouds.key_vault.put("api-key", azure_value)
    clouds.secret_manager.put("signing-key", gcp_value.encode())
    env = vault_env(bao_server, id_token_key)
    result = job.exec(MIXED, "FROM_VAULT", "FROM_AZURE", "FROM_GCP", **env)
    assert result.returncode == 0, result.stderr.decode()
    assert job.report() == {
        "FROM_VAULT": {"file": True, "sha256": sha256(bao_server.value("ops/production/db", "password"))},
        "FROM_AZURE": {"file": False, "sha256": sha256(azure_value)},
        "FROM_GCP": {"file": True, "sha256": sha256(gcp_value)},
    }
    for name in ("FROM_VAULT", "FROM_AZURE", "FROM_GCP"):
        assert f"value {name} [MASKED]".encode() in result.stdout
    assert_absent([azure_value, gcp_value, env["VAULT_ID_TOKEN"], *bao_server.all_values(), *job.credentials()],
                  result.stdout + result.stderr)
    assert os.listdir(job.tmpdir) == []


def test_one_failing_provider_in_a_mixed_job_and_cmd_never_runs(job, clouds, bao_server, id_token_key):
    clouds.key_vault.put("api-key", value())  # signing-key is missing from Secret Manager
    result = job.exec(MIXED, "FROM_VAULT", "FROM_AZURE", "FROM_GCP", **vault_env(bao_server, id_token_key))
    assert result.returncode == 1
    assert error(result, job, *bao_server.all_values()).startswith(
        "radar: error: secret FROM_GCP: GCP Secret Manager refused secret signing-key version latest: NOT_FOUND: "
        f"Secret [projects/{PROJECT_NUMBER}/secrets/signing-key] not found or has no versions.")
    assert not job.report_path.exists() and os.listdir(job.tmpdir) == []


def test_secrets_check_reports_cloud_entries_like_vault_ones(job, clouds, bao_server, id_token_key):
    clouds.key_vault.put("api-key", value())
    result = job.run("secrets", "check", "--job", "deploy", "--ci-file", job.ci(MIXED),
                     **vault_env(bao_server, id_token_key))
    assert result.returncode == 1
    assert_absent(job.credentials(), result.stdout + result.stderr)
    lines = result.stdout.decode().splitlines()
    assert lines[0] == "OK\tFROM_VAULT\tvault ops/data/production/db field password\tfile"
    assert lines[1] == "OK\tFROM_AZURE\tazure key vault secret api-key version latest\tvariable"
    assert lines[2].startswith("FAILED\tFROM_GCP\tgcp secret manager secret signing-key version latest\tfile\t"
                               "secret FROM_GCP: GCP Secret Manager refused secret signing-key version latest: NOT_FOUND")
    assert lines[3] == f"2 of 3 secret(s) of job deploy in {job.tmp_path / '.gitlab-ci.yml'} resolve"


# --- transport ---------------------------------------------------------------------------------

def test_an_untrusted_certificate_is_refused_before_the_id_token_is_sent(job, clouds):
    clouds.key_vault.put("db-password", value())
    env = {k: v for k, v in job.env.items() if k != "SSL_CERT_FILE"}
    job.env = env
    result = job.exec("DB:\n  token: $AZURE_JWT\n  azure_key_vault: {name: db-password}\n", "DB")
    assert result.returncode == 1
    line = error(result, job)
    assert f"secret DB: TLS: cannot verify {clouds.servers['entra'].url} (Azure Key Vault): unable to get local issuer certificate" in line
    assert not clouds.servers["entra"].requests


def test_a_redirect_to_another_origin_gets_no_access_token(job, clouds, serve):
    elsewhere = serve(answer(200, b'{"value": "x"}'), tls=clouds.cert)
    redirecting = serve(answer(307, headers={"Location": f"{elsewhere.url}/secrets/db-password/"}), tls=clouds.cert)
    result = job.exec("DB:\n  token: $AZURE_JWT\n  azure_key_vault: {name: db-password}\n", "DB",
                      AZURE_KEY_VAULT_SERVER_URL=redirecting.url)
    assert result.returncode == 1
    assert f"redirected GET to {elsewhere.url} (HTTP 307): refused, radar sends credentials only to the origin it asked" in error(result, job)
    assert elsewhere.connections == 0


def test_verbose_logs_each_cloud_request_without_a_credential(job, clouds):
    clouds.key_vault.put("api-key", value())
    clouds.secret_manager.put("signing-key", value().encode())
    result = job.exec("""\
        A: {azure_key_vault: {name: api-key}, token: $AZURE_JWT}
        G: {gcp_secret_manager: {name: signing-key}, token: $GCP_ID_TOKEN}
    """, "A", "G", options=("-v",))
    assert result.returncode == 0, result.stderr.decode()
    log = result.stderr.decode()
    assert f"Azure Key Vault: POST {clouds.servers['entra'].url}/{TENANT}/oauth2/v2.0/token: HTTP 200" in log
    assert f"Azure Key Vault: GET {clouds.servers['key_vault'].url}/secrets/api-key/?api-version=7.4: HTTP 200" in log
    assert f"GCP Secret Manager: POST {clouds.servers['sts'].url}/v1/token: HTTP 200" in log
    assert (f"GCP Secret Manager: GET {clouds.servers['secret_manager'].url}/v1/projects/{PROJECT_NUMBER}/secrets/"
            f"signing-key/versions/latest:access: HTTP 200") in log
    assert_absent(job.credentials(), result.stdout + result.stderr)


def test_an_overloaded_key_vault_is_retried(job, clouds, serve):
    secret = value()
    clouds.key_vault.put("db-password", secret)
    calls = []

    def busy_once(server, conn, request):
        calls.append(request.target)
        if len(calls) == 1:
            conn.sendall(response(503, b'{"error": {"code": "ServiceUnavailable", "message": "busy"}}'))
            return True
        return clouds.key_vault(server, conn, request)

    vault = serve(busy_once, tls=clouds.cert)
    result = job.exec("DB: {token: $AZURE_JWT, file: false, azure_key_vault: {name: db-password}}\n", "DB",
                      AZURE_KEY_VAULT_SERVER_URL=vault.url)
    assert result.returncode == 0, result.stderr.decode()
    assert job.report()["DB"]["sha256"] == sha256(secret) and len(calls) == 2


def test_an_unreachable_token_service_gives_up_within_the_timeout(job, clouds):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = f"https://127.0.0.1:{s.getsockname()[1]}"
    result = job.exec("DB: {token: $GCP_ID_TOKEN, gcp_secret_manager: {name: db-password}}\n", "DB",
                      options=("--vault-timeout", "1"), endpoints=replace(clouds.endpoints, gcp_sts=closed))
    assert result.returncode == 1
    *retries, last = result.stderr.decode().splitlines()
    assert re.fullmatch(rf"radar: error: secret DB: GCP Secret Manager at {closed} is unavailable: unreachable "
                        rf"\(connection refused\); gave up after \d+ attempt\(s\) within --vault-timeout \(1 s\)", last)
    # Like Vault's: each retry is announced, so a slow job log says what it is waiting for.
    assert retries and all(line.startswith(f"radar: warning: GCP Secret Manager: POST {closed}/v1/token: "
                                           "unreachable (connection refused); retrying in ") for line in retries)


def test_sigterm_while_retrying_a_cloud_endpoint_stops_cleanly(job, clouds):
    clouds.key_vault.put("db-password", value())
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = f"https://127.0.0.1:{s.getsockname()[1]}"
    ci = job.ci("DB: {token: $AZURE_JWT, azure_key_vault: {name: db-password}}\n")
    proc = job.popen("exec", "--job", "deploy", "--ci-file", ci, "--vault-timeout", "300", "--", "true",
                     endpoints=replace(clouds.endpoints, entra_authority=closed))
    try:
        read_until(proc.stderr.fileno(), b"retrying")
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=WAIT)
    finally:
        proc.kill()
    assert proc.returncode == 128 + signal.SIGTERM
    assert b"radar: error: stopped by SIGTERM before the command started" in err
    assert os.listdir(job.tmpdir) == []


def test_a_missing_id_token_fails_only_the_secrets_that_need_it(job, clouds):
    clouds.key_vault.put("api-key", value())
    result = job.run("secrets", "check", "--job", "deploy", "--ci-file", job.ci("""\
        A: {azure_key_vault: {name: api-key}, token: $AZURE_JWT}
        G: {gcp_secret_manager: {name: signing-key}, token: $GCP_ID_TOKEN}
    """), GCP_ID_TOKEN="")
    assert result.returncode == 1
    lines = result.stdout.decode().splitlines()
    assert lines[0].startswith("OK\tA\t")
    assert lines[1].endswith("secret G: ID token variable GCP_ID_TOKEN is not set; in GitLab CI define it under the "
                             "job's id_tokens: (GCP_ID_TOKEN: aud: ...) with the audience the workload identity pool "
                             "provider expects")
    assert not clouds.servers["sts"].requests


def test_an_answer_that_is_not_json_is_refused(job, clouds, serve):
    html = serve(answer(200, b"<html>sign in</html>"), tls=clouds.cert)
    result = job.exec("DB: {token: $AZURE_JWT, azure_key_vault: {name: db-password}}\n", "DB",
                      AZURE_KEY_VAULT_SERVER_URL=html.url)
    assert result.returncode == 1
    assert error(result, job).endswith(f"secret DB: Azure Key Vault at {html.url} answered HTTP 200 with application/json, not JSON\n")


def test_a_key_vault_that_never_answers_is_given_up_within_the_timeout(job, clouds, serve):
    silent = serve(never_answer, tls=clouds.cert)
    result = job.exec("DB: {token: $AZURE_JWT, azure_key_vault: {name: db-password}}\n", "DB",
                      options=("--vault-timeout", "1"), AZURE_KEY_VAULT_SERVER_URL=silent.url)
    assert result.returncode == 1
    last = result.stderr.decode().splitlines()[-1]
    assert re.fullmatch(rf"radar: error: secret DB: Azure Key Vault at {silent.url} is unavailable: no answer "
                        rf"\(timed out waiting for the answer\); gave up after \d+ attempt\(s\) within "
                        rf"--vault-timeout \(1 s\)", last)
    assert_absent(job.credentials(), result.stdout + result.stderr)



# --- hostile answers ---------------------------------------------------------------------------

JSON = st.recursive(st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=50)),
                    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=10), inner, max_size=3)),
                    max_leaves=10)
ANSWER_BODY = st.one_of(
    JSON.map(lambda v: json.dumps(v).encode()),
    st.fixed_dictionaries({}, optional={"access_token": st.one_of(JSON, st.text(min_size=1, max_size=40)),
                                        "value": JSON, "payload": JSON,
                                        "error": JSON, "error_description": JSON}).map(lambda v: json.dumps(v).encode()),
    st.binary(max_size=60),
    st.sampled_from([b'{"access_token": "a\\nb"}', b'{"access_token": "\\u0100"}', b'{"value": "\\ud800"}',
                     b'{"access_token": "ok", "value": "v", "payload": {"data": "\\ud800"}}']),
)
ID_TOKEN = "eyJhbGciOiJSUzI1NiJ9.aWQtdG9rZW4tcGxhbnRlZA.c2ln"


def test_any_answer_from_a_cloud_becomes_a_value_or_a_one_line_failure():
    """Token services and stores that answer anything at all (any status, any JSON or none) give
    each secret a value or a failure of one line that echoes no credential; never a crash."""
    script: dict[str, tuple[int, bytes]] = {}

    def behave(server, conn, request):
        token_request = request.method == "POST"
        status, body = script["token" if token_request else "store"]
        if token_request and b"ID_TOKEN_ECHO" in body:  # a service that quotes what it was sent
            body = body.replace(b"ID_TOKEN_ECHO", ID_TOKEN.encode())
        conn.sendall(response(status, body))
        return True

    server = ScriptedServer(behave)
    endpoints = CloudEndpoints(entra_authority=server.url, gcp_sts=server.url, gcp_secret_manager=server.url)
    variables = JobVariables((), {"JWT": ID_TOKEN})
    retry = RetryPolicy(total_seconds=5, first_delay=0.001, max_delay=0.001)
    try:
        @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
        @given(token=st.one_of(
                   st.just((200, b'{"access_token": "ya29.a0-usable_token~1", "token_type": "Bearer"}')),
                   st.tuples(st.sampled_from([200, 200, 400, 401, 403, 404, 418]), ANSWER_BODY | st.just(
                       b'{"error": "invalid_grant", "error_description": "bad ID_TOKEN_ECHO"}'))),
               store=st.tuples(st.sampled_from([200, 200, 401, 403, 404, 409]), ANSWER_BODY))
        def check(token, store):
            script.update(token=token, store=store)
            providers = [
                (AzureKeyVault(AzureSettings(server.url, CLIENT_ID, TENANT), retry, endpoints),
                 AzureSecretSpec("A", "a", None, False, "JWT")),
                (GCPSecretManager(GCPSettings(PROJECT_NUMBER, POOL, GCP_PROVIDER), retry, endpoints),
                 GCPSecretSpec("G", "g", "latest", False, "JWT")),
            ]
            for provider, spec in providers:
                try:
                    outcome = provider.fetch([spec], variables)[spec.name]
                finally:
                    provider.close()
                assert isinstance(outcome, (ResolvedSecret, SecretFailure))
                if isinstance(outcome, SecretFailure):
                    reason = outcome.reason
                    assert reason.startswith(f"secret {spec.name}: ") and "\n" not in reason and "\r" not in reason
                    assert_absent([ID_TOKEN], reason)
        check()
    finally:
        server.close()
