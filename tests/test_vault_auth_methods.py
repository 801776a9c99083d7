"""`radar exec` and `radar secrets check` logging in with AppRole, Kubernetes and TLS-certificate
auth (`VAULT_AUTH_METHOD` / `--auth-method`), against a real OpenBao `-dev-tls` server.

Each test runs radar as users do (a child process, a clean environment). CMD prints the secret's
SHA-256 and then the secret and the login's credentials it can see: radar must mask them. No
credential (secret id, wrapping token, service-account token, client key, Vault token) may
appear in radar's own output, verbose log included; leak checks never print what they look for.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import ssl
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import requests
from cryptography.hazmat.primitives import serialization
from hypothesis import HealthCheck, given, settings, strategies as st

from radar_cli import RADAR, WAIT, assert_absent, assert_one_line_error, clean_env
from vault_auth_fixtures import (
    APPROLE, CERT_ROLE, K8S_ROLE, OTHER_APPROLE_PATH, SECRET_PATH, ClientCertificate, TokenReviewServer,
    client_certificate, configure_auth_methods, role_id, secret_id, service_account_token, wrapped_data,
    wrapped_secret_id, wrapping_token_is_alive,
)
from vault_fakes import response, tls_certificate
from vault_fixtures import ROOT_TOKEN, BaoServer, random_value, start_bao, stop_bao

from radar.vault.auth import MAX_K8S_TOKEN_BYTES, read_service_account_token
from radar.vault.errors import VaultConfigError
from radar.vault.model import AUTH_METHODS
from radar.vault.settings import auth_method
from radar.vault.variables import JobVariables

VAULT_TOKEN_SHAPE = rb"\b(?:hvs|hvb|s|b)\.[A-Za-z0-9]{20,}"

# CMD: the secret's SHA-256 on the first line, then the secret and every credential variable it
# can see (a file path's content for VAULT_K8S_TOKEN_PATH and VAULT_CLIENT_KEY), all for masking.
CHILD = textwrap.dedent("""\
    import hashlib, os
    value = os.environ["DATABASE_PASSWORD"]
    print(hashlib.sha256(value.encode()).hexdigest(), flush=True)
    print("value", value)
    for name in ("VAULT_SECRET_ID", "VAULT_WRAPPED_SECRET_ID", "VAULT_K8S_TOKEN_PATH", "VAULT_CLIENT_KEY"):
        if os.environ.get(name):
            seen = os.environ[name]
            if os.path.isfile(seen):
                seen = open(seen).read()
            print(name, seen)
""")

SECRETS_FILE = textwrap.dedent(f"""\
    secrets:
      DATABASE_PASSWORD:
        vault: {SECRET_PATH}/password@secret
        file: false
""")


@pytest.fixture(scope="session")
def sa_token() -> str:
    return service_account_token()


@pytest.fixture(scope="session")
def client_cert(tmp_path_factory) -> ClientCertificate:
    return client_certificate(tmp_path_factory.mktemp("client-cert"))


@pytest.fixture(scope="session")
def auth_server(tmp_path_factory, sa_token, client_cert) -> BaoServer:
    token_review = TokenReviewServer(tmp_path_factory.mktemp("k8s-api"), sa_token)
    server = start_bao(tmp_path_factory.mktemp("bao-auth"), tls=True)
    try:
        configure_auth_methods(server, token_review, client_cert.ca_file)
        server.put_secret("secret", SECRET_PATH, {"password": random_value()})
        yield server
    finally:
        stop_bao(server)
        token_review.close()


class Run(subprocess.CompletedProcess):
    """A finished radar whose repr shows no output: pytest prints reprs when an assertion fails."""

    def __repr__(self) -> str:
        return f"Run(returncode={self.returncode}, stdout=<{len(self.stdout)} bytes>, stderr=<{len(self.stderr)} bytes>)"


class Login:
    """One test's radar environment for one auth method."""

    def __init__(self, tmp_path: Path, server: BaoServer, **env: str) -> None:
        self.server = server
        self.tmp_path = tmp_path
        self.secrets_file = tmp_path / "secrets.yml"
        self.secrets_file.write_text(SECRETS_FILE)
        self.env = clean_env(VAULT_SERVER_URL=server.url, VAULT_CACERT=str(server.ca_file),
                             TMPDIR=str(tmp_path), **env)

    def run(self, *args: str, command: str = "exec", **env: str) -> Run:
        argv = [*RADAR, *(["exec"] if command == "exec" else ["secrets", "check"]),
                "--secrets-file", str(self.secrets_file), *args]
        if command == "exec":
            argv += ["--", sys.executable, "-c", CHILD]
        done = subprocess.run(argv, capture_output=True, timeout=WAIT, env={**self.env, **env}, cwd=self.tmp_path)
        return Run(done.args, done.returncode, done.stdout, done.stderr)

    def __repr__(self) -> str:
        return "Login(<environment withheld: it holds credentials>)"

    def password(self) -> bytes:
        return self.server.value(f"secret/{SECRET_PATH}", "password")


def assert_got_the_secret(login: Login, result: Run, *credentials: str) -> None:
    """CMD saw the secret (by hash); the secret and `credentials` are masked or absent. Fails
    without a traceback: pytest would print this function's arguments, the credentials."""
    if result.returncode != 0:
        pytest.fail(_explain(login, result, *credentials), pytrace=False)
    first = result.stdout.split(b"\n", 1)[0].decode()
    if first != hashlib.sha256(login.password()).hexdigest():
        pytest.fail("CMD did not get the secret's value", pytrace=False)
    if b"[MASKED]" not in result.stdout:
        pytest.fail("CMD printed the secret, but nothing was masked", pytrace=False)
    assert_absent([login.password(), *credentials], result.stdout, result.stderr)


def assert_no_vault_token(result: Run) -> None:
    found = re.search(VAULT_TOKEN_SHAPE, result.stdout + result.stderr) is not None
    assert not found, "something shaped like a Vault token was printed"


def _explain(login: Login, result: Run, *credentials: str) -> str:
    text = result.stderr.decode(errors="replace")
    for value in (login.password().decode(), *credentials):
        text = text.replace(value, "<credential>")
    return f"exit {result.returncode}: {text[-600:]}"


# --- AppRole -----------------------------------------------------------------------------------

def test_approle_with_a_secret_id_reads_the_secret(tmp_path, auth_server):
    login = Login(tmp_path, auth_server, VAULT_AUTH_METHOD="approle", VAULT_ROLE_ID=role_id(auth_server),
                  VAULT_SECRET_ID=secret_id(auth_server))
    result = login.run()
    assert_got_the_secret(login, result, login.env["VAULT_SECRET_ID"], login.env["VAULT_ROLE_ID"])
    assert_no_vault_token(result)


def test_approle_with_a_wrapped_secret_id_unwraps_it_once_and_logs_nothing_secret(tmp_path, auth_server):
    wrapping_token = wrapped_secret_id(auth_server)
    login = Login(tmp_path, auth_server, VAULT_AUTH_METHOD="approle", VAULT_ROLE_ID=role_id(auth_server),
                  VAULT_WRAPPED_SECRET_ID=wrapping_token)
    result = login.run("-v")
    assert_got_the_secret(login, result, wrapping_token, login.env["VAULT_ROLE_ID"])
    assert b"sys/wrapping/lookup" in result.stderr and b"sys/wrapping/unwrap" in result.stderr, \
        "the verbose log should show the wrapping token's check and unwrap"
    assert_no_vault_token(result)

    again = login.run()
    error = assert_one_line_error(again, wrapping_token.encode(), login.env["VAULT_ROLE_ID"].encode())
    assert again.returncode == 1
    assert "VAULT_WRAPPED_SECRET_ID" in error and "may have been intercepted" in error
    assert "already unwrapped, has expired" in error
    assert b"value" not in again.stdout, "CMD must not run without its secrets"


def test_an_expired_wrapping_token_says_the_secret_id_may_have_been_intercepted(tmp_path, auth_server):
    wrapping_token = wrapped_secret_id(auth_server, ttl="1s")
    time.sleep(2.5)  # OpenBao expires it after its TTL
    login = Login(tmp_path, auth_server, VAULT_AUTH_METHOD="approle", VAULT_ROLE_ID=role_id(auth_server),
                  VAULT_WRAPPED_SECRET_ID=wrapping_token)
    result = login.run()
    error = assert_one_line_error(result, wrapping_token.encode())
    assert result.returncode == 1
    assert "may have been intercepted" in error


def test_a_wrapping_token_made_elsewhere_is_refused_without_unwrapping_it(tmp_path, auth_server):
    planted = "3f0f2c4e-7c52-4b8e-8d7e-attacker-chosen"
    substitute = wrapped_data(auth_server, {"secret_id": planted})
    login = Login(tmp_path, auth_server, VAULT_AUTH_METHOD="approle", VAULT_ROLE_ID=role_id(auth_server),
                  VAULT_WRAPPED_SECRET_ID=substitute)
    result = login.run()
    error = assert_one_line_error(result, substitute.encode(), planted.encode())
    assert result.returncode == 1
    assert "made by sys/wrapping/wrap, not by auth/approle/role/NAME/secret-id" in error
    assert "may have been substituted" in error
    assert wrapping_token_is_alive(auth_server, substitute), "radar used a token it had refused"


def test_a_wrapped_secret_id_from_another_approle_mount_needs_vault_auth_path(tmp_path, auth_server):
    wrapping_token = wrapped_secret_id(auth_server, mount=OTHER_APPROLE_PATH)
    login = Login(tmp_path, auth_server, VAULT_AUTH_METHOD="approle",
                  VAULT_ROLE_ID=role_id(auth_server, OTHER_APPROLE_PATH), VAULT_WRAPPED_SECRET_ID=wrapping_token)
    result = login.run()
    error = assert_one_line_error(result, wrapping_token.encode())
    assert result.returncode == 1
    assert f"made by auth/{OTHER_APPROLE_PATH}/role/{APPROLE}/secret-id" in error and "VAULT_AUTH_PATH" in error
    assert wrapping_token_is_alive(auth_server, wrapping_token)

    assert_got_the_secret(login, login.run(VAULT_AUTH_PATH=OTHER_APPROLE_PATH), wrapping_token)


def test_approle_with_a_wrapped_secret_id_inside_a_namespace(tmp_path, auth_server):
    namespace = "team-approle"
    auth_server.api("POST", f"sys/namespaces/{namespace}", {})
    auth_server.api("POST", "sys/mounts/secret", {"type": "kv", "options": {"version": "2"}}, namespace=namespace)
    auth_server.put_secret("secret", SECRET_PATH, {"password": random_value()}, namespace=namespace)
    auth_server.api("POST", "sys/policies/acl/read", {"policy": 'path "secret/data/*" { capabilities = ["read"] }'},
                    namespace=namespace)
    auth_server.api("POST", "sys/auth/approle", {"type": "approle"}, namespace=namespace)
    auth_server.api("POST", f"auth/approle/role/{APPROLE}", {"token_policies": ["read"]}, namespace=namespace)
    the_role_id = auth_server.api("GET", f"auth/approle/role/{APPROLE}/role-id", namespace=namespace)["data"]["role_id"]
    wrapping_token = requests.post(
        f"{auth_server.url}/v1/auth/approle/role/{APPROLE}/secret-id", verify=str(auth_server.ca_file), timeout=10,
        headers={"X-Vault-Token": ROOT_TOKEN, "X-Vault-Namespace": namespace, "X-Vault-Wrap-TTL": "60s"},
    ).json()["wrap_info"]["token"]
    login = Login(tmp_path, auth_server, VAULT_AUTH_METHOD="approle", VAULT_NAMESPACE=namespace,
                  VAULT_ROLE_ID=the_role_id, VAULT_WRAPPED_SECRET_ID=wrapping_token)
    result = login.run()
    if result.returncode != 0:
        pytest.fail(_explain(login, result, wrapping_token), pytrace=False)
    expected = auth_server.value(f"{namespace}/secret/{SECRET_PATH}", "password")
    if result.stdout.split(b"\n", 1)[0].decode() != hashlib.sha256(expected).hexdigest():
        pytest.fail("CMD did not get the namespace's secret", pytrace=False)
    assert_absent([expected, wrapping_token], result.stdout, result.stderr)


def test_approle_at_another_mount_uses_vault_auth_path(tmp_path, auth_server):
    login = Login(tmp_path, auth_server, VAULT_AUTH_METHOD="approle", VAULT_AUTH_PATH=OTHER_APPROLE_PATH,
                  VAULT_ROLE_ID=role_id(auth_server, OTHER_APPROLE_PATH),
                  VAULT_SECRET_ID=secret_id(auth_server, OTHER_APPROLE_PATH))
    assert_got_the_secret(login, login.run(), login.env["VAULT_SECRET_ID"])

    # The same credentials at the default path belong to another AppRole mount: refused there.
    result = login.run(VAULT_AUTH_PATH="")
    error = assert_one_line_error(result, login.env["VAULT_SECRET_ID"].encode(), login.env["VAULT_ROLE_ID"].encode())
    assert result.returncode == 1
    assert "auth/approle/login" in error and "invalid role or secret ID" in error


def test_a_wrong_secret_id_is_rejected_with_vaults_reason(tmp_path, auth_server):
    wrong = "5e0c2d5e-1f0c-4f4b-9a43-0d6f1c9b7a11"
    login = Login(tmp_path, auth_server, VAULT_AUTH_METHOD="approle", VAULT_ROLE_ID=role_id(auth_server),
                  VAULT_SECRET_ID=wrong)
    result = login.run()
    error = assert_one_line_error(result, wrong.encode(), login.env["VAULT_ROLE_ID"].encode())
    assert result.returncode == 1
    assert "Vault login rejected (auth/approle/login" in error and "invalid role or secret ID" in error


@pytest.mark.parametrize("given_ids, reason", [
    ({"VAULT_SECRET_ID": "a-secret-id-0001", "VAULT_WRAPPED_SECRET_ID": "s.wrappedtoken0000000001"}, "both are set"),
    ({}, "neither is set"),
])
def test_approle_needs_exactly_one_kind_of_secret_id(tmp_path, auth_server, given_ids, reason):
    login = Login(tmp_path, auth_server, VAULT_AUTH_METHOD="approle", VAULT_ROLE_ID="role-id-0001", **given_ids)
    result = login.run()
    error = assert_one_line_error(result, *(v.encode() for v in given_ids.values()), b"role-id-0001")
    assert result.returncode == 2
    assert "VAULT_SECRET_ID" in error and "VAULT_WRAPPED_SECRET_ID" in error and reason in error


def test_approle_without_a_role_id_is_a_configuration_error(tmp_path, auth_server):
    result = Login(tmp_path, auth_server, VAULT_AUTH_METHOD="approle", VAULT_SECRET_ID="x" * 36).run()
    error = assert_one_line_error(result, b"x" * 36)
    assert result.returncode == 2 and "VAULT_ROLE_ID" in error


# --- Kubernetes --------------------------------------------------------------------------------

def test_kubernetes_logs_in_with_the_projected_service_account_token(tmp_path, auth_server, sa_token):
    token_file = tmp_path / "token"
    token_file.write_text(sa_token + "\n")  # kubelet writes no newline; a hand-made file may
    login = Login(tmp_path, auth_server, VAULT_AUTH_METHOD="kubernetes", VAULT_AUTH_ROLE=K8S_ROLE,
                  VAULT_K8S_TOKEN_PATH=str(token_file))
    result = login.run("-v")
    assert_got_the_secret(login, result, sa_token)
    assert str(token_file).encode() in result.stderr, "the verbose log names the token file"
    assert_no_vault_token(result)


def test_kubernetes_refuses_a_token_the_api_server_does_not_know(tmp_path, auth_server):
    other = service_account_token()
    token_file = tmp_path / "token"
    token_file.write_text(other)
    login = Login(tmp_path, auth_server, VAULT_AUTH_METHOD="kubernetes", VAULT_AUTH_ROLE=K8S_ROLE,
                  VAULT_K8S_TOKEN_PATH=str(token_file))
    result = login.run()
    error = assert_one_line_error(result, other.encode())
    assert result.returncode == 1
    assert "auth/kubernetes/login" in error and f"role {K8S_ROLE}" in error and "permission denied" in error


@pytest.mark.parametrize("make, problem", [
    (lambda p: None, "no such file or directory"),
    (lambda p: p.write_text(""), "the file is empty"),
    (lambda p: p.mkdir(), "not a regular file"),
    (lambda p: os.mkfifo(p), "not a regular file"),  # a FIFO nobody writes must not hang radar
    (lambda p: p.write_bytes(b"e" * (64 * 1024 + 1)), "larger than 64 KiB"),
])
def test_an_unusable_token_file_names_the_path_and_the_variable(tmp_path, auth_server, make, problem):
    token_file = tmp_path / "token"
    make(token_file)
    login = Login(tmp_path, auth_server, VAULT_AUTH_METHOD="kubernetes", VAULT_AUTH_ROLE=K8S_ROLE,
                  VAULT_K8S_TOKEN_PATH=str(token_file))
    result = login.run()
    error = assert_one_line_error(result)
    assert result.returncode == 2
    assert str(token_file) in error and "VAULT_K8S_TOKEN_PATH" in error and problem in error


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(content=st.one_of(st.binary(max_size=300), st.text(max_size=300).map(str.encode),
                         st.integers(MAX_K8S_TOKEN_BYTES - 2, MAX_K8S_TOKEN_BYTES + 2).map(lambda n: b"t" * n)))
def test_any_token_file_gives_the_token_or_one_line_without_its_content(tmp_path, content):
    token_file = tmp_path / "token"
    token_file.write_bytes(content)
    try:
        token = read_service_account_token(str(token_file))
    except VaultConfigError as exc:
        message = str(exc)
        assert "\n" not in message and str(token_file) in message and "VAULT_K8S_TOKEN_PATH" in message
        stripped = content.strip()
        if len(stripped) >= 8:  # a short content could be any word of the message
            assert_absent([stripped], message, message="the token file's content #{n} was in the error")
    else:
        assert token == content.decode("ascii").strip() and token
        assert len(content) <= MAX_K8S_TOKEN_BYTES


def test_kubernetes_reads_the_default_token_path_when_the_variable_is_unset(tmp_path, auth_server):
    if os.path.exists("/var/run/secrets/kubernetes.io/serviceaccount/token"):
        pytest.fail("this test expects a machine that is not a Kubernetes pod")
    result = Login(tmp_path, auth_server, VAULT_AUTH_METHOD="kubernetes", VAULT_AUTH_ROLE=K8S_ROLE).run()
    error = assert_one_line_error(result)
    assert result.returncode == 2
    assert "/var/run/secrets/kubernetes.io/serviceaccount/token" in error and "VAULT_K8S_TOKEN_PATH" in error


def test_kubernetes_without_a_role_is_a_configuration_error(tmp_path, auth_server):
    result = Login(tmp_path, auth_server, VAULT_AUTH_METHOD="kubernetes").run()
    error = assert_one_line_error(result)
    assert result.returncode == 2 and "VAULT_AUTH_ROLE" in error


# --- TLS certificates --------------------------------------------------------------------------

def test_cert_logs_in_with_the_client_certificate(tmp_path, auth_server, client_cert):
    login = Login(tmp_path, auth_server, VAULT_AUTH_METHOD="cert", VAULT_CLIENT_CERT=str(client_cert.cert_file),
                  VAULT_CLIENT_KEY=str(client_cert.key_file))
    result = login.run()
    assert_got_the_secret(login, result)
    key_lines = [line for line in client_cert.key_file.read_text().splitlines() if "PRIVATE KEY" not in line]
    assert_absent(key_lines, result.stdout, result.stderr, message="line #{n} of the client key was printed")
    assert_no_vault_token(result)


def test_cert_with_a_role_name_logs_in_to_that_role(tmp_path, auth_server, client_cert):
    login = Login(tmp_path, auth_server, VAULT_AUTH_METHOD="cert", VAULT_AUTH_ROLE=CERT_ROLE,
                  VAULT_CLIENT_CERT=str(client_cert.cert_file), VAULT_CLIENT_KEY=str(client_cert.key_file))
    assert_got_the_secret(login, login.run())

    result = login.run(VAULT_AUTH_ROLE="no-such-role")
    error = assert_one_line_error(result)
    assert result.returncode == 1 and "role no-such-role" in error


def test_a_client_certificate_from_another_ca_is_refused(tmp_path, auth_server):
    stranger = client_certificate(tmp_path / "stranger")
    login = Login(tmp_path, auth_server, VAULT_AUTH_METHOD="cert", VAULT_CLIENT_CERT=str(stranger.cert_file),
                  VAULT_CLIENT_KEY=str(stranger.key_file))
    result = login.run()
    key_lines = [line.encode() for line in stranger.key_file.read_text().splitlines() if "PRIVATE KEY" not in line]
    error = assert_one_line_error(result, *key_lines)
    assert result.returncode == 1
    assert "auth/cert/login" in error and "invalid certificate" in error
    assert "signed by a CA that a role of the cert auth method trusts" in error


@pytest.mark.parametrize("which", ["cert", "key"])
def test_a_file_that_is_not_pem_is_a_configuration_error_without_its_content(tmp_path, auth_server, client_cert, which):
    garbage = tmp_path / "garbage.pem"
    planted = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7not-a-key"
    garbage.write_text(f"-----BEGIN PRIVATE KEY-----\n{planted}\n-----END PRIVATE KEY-----\n")
    files = {"VAULT_CLIENT_CERT": str(client_cert.cert_file), "VAULT_CLIENT_KEY": str(client_cert.key_file)}
    files["VAULT_CLIENT_CERT" if which == "cert" else "VAULT_CLIENT_KEY"] = str(garbage)
    result = Login(tmp_path, auth_server, VAULT_AUTH_METHOD="cert", **files).run()
    error = assert_one_line_error(result, planted.encode())
    assert result.returncode == 2
    assert "cannot load the TLS client certificate" in error and str(garbage) in error


def test_an_encrypted_key_is_refused_without_a_passphrase_prompt(tmp_path, auth_server, client_cert):
    key = serialization.load_pem_private_key(client_cert.key_file.read_bytes(), password=None)
    encrypted = tmp_path / "encrypted-key.pem"
    encrypted.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                            serialization.BestAvailableEncryption(b"passphrase-0001")))
    result = Login(tmp_path, auth_server, VAULT_AUTH_METHOD="cert", VAULT_CLIENT_CERT=str(client_cert.cert_file),
                   VAULT_CLIENT_KEY=str(encrypted)).run()
    error = assert_one_line_error(result)
    assert result.returncode == 2 and "VAULT_CLIENT_KEY" in error and "unencrypted private key" in error


def test_a_key_that_does_not_match_the_certificate_is_a_configuration_error(tmp_path, auth_server, client_cert):
    other = client_certificate(tmp_path / "other")
    result = Login(tmp_path, auth_server, VAULT_AUTH_METHOD="cert", VAULT_CLIENT_CERT=str(client_cert.cert_file),
                   VAULT_CLIENT_KEY=str(other.key_file)).run()
    error = assert_one_line_error(result)
    assert result.returncode == 2 and "VAULT_CLIENT_KEY" in error


@pytest.mark.parametrize("missing", ["VAULT_CLIENT_CERT", "VAULT_CLIENT_KEY"])
def test_cert_needs_both_files(tmp_path, auth_server, client_cert, missing):
    files = {"VAULT_CLIENT_CERT": str(client_cert.cert_file), "VAULT_CLIENT_KEY": str(client_cert.key_file)}
    result = Login(tmp_path, auth_server, VAULT_AUTH_METHOD="cert", **{**files, missing: ""}).run()
    assert result.returncode == 2 and missing in assert_one_line_error(result)
    result = Login(tmp_path, auth_server, VAULT_AUTH_METHOD="cert", **{**files, missing: str(tmp_path / "nope.pem")}).run()
    error = assert_one_line_error(result)
    assert result.returncode == 2 and f"{missing}={tmp_path / 'nope.pem'}: no such file" in error


def test_cert_over_plain_http_is_refused(tmp_path, auth_server, client_cert):
    result = Login(tmp_path, auth_server, VAULT_AUTH_METHOD="cert", VAULT_CLIENT_CERT=str(client_cert.cert_file),
                   VAULT_CLIENT_KEY=str(client_cert.key_file)).run(VAULT_SERVER_URL="http://127.0.0.1:1")
    error = assert_one_line_error(result)
    assert result.returncode == 2 and "https://" in error


def test_every_connection_of_the_session_presents_the_client_certificate(tmp_path, serve, client_cert):
    """A Vault stand-in that requires a client certificate on every TLS connection (OpenBao asks
    for one but lets reads through without it): the login, three reads in parallel, each thread on
    its own connection, and the token's revocation at the end all succeed only if every connection
    presents it."""
    paths = ("production/db", "production/api", "production/cache")
    values = {path: random_value() for path in paths}
    seen: list[str] = []

    def vault(server, conn, request) -> bool:
        subject = dict(item[0] for item in conn.getpeercert()["subject"])
        seen.append(subject["commonName"])
        if request.target == "/v1/auth/cert/login":
            body = {"auth": {"client_token": "s.CertSessionToken0123456789", "policies": ["ci-read"], "lease_duration": 60}}
        elif request.target == "/v1/auth/token/revoke-self":
            conn.sendall(response(204, b""))
            return True
        else:
            path = request.target.removeprefix("/v1/secret/data/")
            body = {"data": {"data": {"password": values[path]}}}
        conn.sendall(response(200, json.dumps(body).encode()))
        return True

    server = serve(vault, tls=tls_certificate(tmp_path / "server"))
    server._context.verify_mode = ssl.CERT_REQUIRED
    server._context.load_verify_locations(client_cert.ca_file)
    secrets_file = tmp_path / "secrets.yml"
    secrets_file.write_text("secrets:\n" + "".join(
        f"  S{i}: {{vault: {path}/password@secret, file: false}}\n" for i, path in enumerate(paths)))
    result = subprocess.run(
        [*RADAR, "exec", "--auth-method", "cert", "--secrets-file", str(secrets_file), "--", sys.executable, "-c",
         "import os; print(' '.join(os.environ[f'S{i}'] for i in range(3)))"],
        capture_output=True, timeout=WAIT,
        env=clean_env(VAULT_SERVER_URL=server.url, VAULT_CACERT=str(tmp_path / "server" / "ca.pem"),
                      VAULT_CLIENT_CERT=str(client_cert.cert_file), VAULT_CLIENT_KEY=str(client_cert.key_file)),
    )
    assert result.returncode == 0, result.stderr.decode(errors="replace")[-500:]
    assert result.stdout == b"[MASKED] [MASKED] [MASKED]\n"
    assert len(seen) == 5 and set(seen) == {"runner-01.ci.example.com"}  # login, 3 reads, revoke-self


# --- choosing the method -----------------------------------------------------------------------

def test_the_flag_wins_over_the_variable(tmp_path, auth_server, client_cert):
    login = Login(tmp_path, auth_server, VAULT_AUTH_METHOD="kubernetes", VAULT_ROLE_ID=role_id(auth_server),
                  VAULT_SECRET_ID=secret_id(auth_server))
    assert_got_the_secret(login, login.run("--auth-method", "approle"), login.env["VAULT_SECRET_ID"])


def test_jwt_stays_the_default_and_needs_an_id_token(tmp_path, auth_server):
    result = Login(tmp_path, auth_server, VAULT_ROLE_ID="role-id-0001", VAULT_SECRET_ID="x" * 36).run()
    error = assert_one_line_error(result)
    assert result.returncode == 2 and "no token: and no id_tokens: defined" in error


@pytest.mark.parametrize("how", ["flag", "variable"])
def test_an_unknown_method_lists_the_valid_ones(tmp_path, auth_server, how):
    login = Login(tmp_path, auth_server)
    result = login.run("--auth-method", "ldap") if how == "flag" else login.run(VAULT_AUTH_METHOD="ldap")
    error = assert_one_line_error(result)
    assert result.returncode == 2
    assert "'ldap'" in error and "jwt, approle, kubernetes, cert" in error
    assert ("--auth-method" if how == "flag" else "VAULT_AUTH_METHOD") in error


@given(st.text(max_size=60))
def test_any_method_name_is_a_known_method_or_one_line_naming_them(raw):
    try:
        method = auth_method(JobVariables((), {"VAULT_AUTH_METHOD": raw}))
    except VaultConfigError as exc:
        message = str(exc)
        assert "\n" not in message and "jwt, approle, kubernetes, cert" in message
        assert raw.strip().lower() not in AUTH_METHODS and raw.strip()
    else:
        assert method in AUTH_METHODS and method == (raw.strip().lower() or "jwt")


# --- radar secrets check ---------------------------------------------------------------------

@pytest.mark.parametrize("method", ["approle", "approle-wrapped", "kubernetes", "cert"])
def test_secrets_check_logs_in_with_each_method(tmp_path, auth_server, sa_token, client_cert, method):
    token_file = tmp_path / "token"
    token_file.write_text(sa_token)
    env = {
        "approle": lambda: {"VAULT_ROLE_ID": role_id(auth_server), "VAULT_SECRET_ID": secret_id(auth_server)},
        "approle-wrapped": lambda: {"VAULT_ROLE_ID": role_id(auth_server),
                                    "VAULT_WRAPPED_SECRET_ID": wrapped_secret_id(auth_server)},
        "kubernetes": lambda: {"VAULT_AUTH_ROLE": K8S_ROLE, "VAULT_K8S_TOKEN_PATH": str(token_file)},
        "cert": lambda: {"VAULT_CLIENT_CERT": str(client_cert.cert_file), "VAULT_CLIENT_KEY": str(client_cert.key_file)},
    }[method]()
    login = Login(tmp_path, auth_server, **env)
    result = login.run("--auth-method", method.split("-")[0], command="check")
    assert result.returncode == 0, _explain(login, result, *env.values())
    lines = result.stdout.decode().splitlines()
    assert lines[0].startswith("OK\tDATABASE_PASSWORD\tvault secret/data/production/db field password")
    assert lines[-1].startswith("1 of 1 secret(s)")
    credentials = [v for k, v in env.items() if k in ("VAULT_ROLE_ID", "VAULT_SECRET_ID", "VAULT_WRAPPED_SECRET_ID")]
    key = [line for line in client_cert.key_file.read_text().splitlines() if "PRIVATE KEY" not in line]
    assert_absent([login.password(), sa_token, *credentials, *key], result.stdout, result.stderr)


def test_secrets_check_reports_a_refused_login_as_failed(tmp_path, auth_server):
    wrong = "5e0c2d5e-1f0c-4f4b-9a43-0d6f1c9b7a11"
    login = Login(tmp_path, auth_server, VAULT_AUTH_METHOD="approle", VAULT_ROLE_ID=role_id(auth_server),
                  VAULT_SECRET_ID=wrong)
    result = login.run(command="check")
    assert result.returncode == 1
    assert result.stdout.decode().startswith("FAILED\tDATABASE_PASSWORD\t")
    assert b"invalid role or secret ID" in result.stdout
    assert_absent([wrong, login.env["VAULT_ROLE_ID"]], result.stdout, result.stderr)
