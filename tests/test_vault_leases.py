"""Leases of dynamic secrets in `radar exec`, against a real OpenBao and its `rabbitmq` engine.

OpenBao's rabbitmq engine is real: it creates a user on RabbitMQ's management API for each read,
gives it a lease, and deletes the user when the lease is revoked or expires. RabbitMQ itself is
`rabbitmq_fake` (no broker runs here; the engine needs only the management API). So "the
credential is gone" means OpenBao deleted the user, and "it still works" means the job logged
in with it (`GET /api/whoami`) after its first lease would have run out.

Leases last 3 s (max 600 s) at `rabbitmq/`, 2 s with a 5 s max at `rabbitmq-short/`; the login
role's tokens last 4 s (max 120 s; 5 s for SHORT_TOKEN_ROLE), so a job longer than that also needs its token renewed.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from radar.vault.client import MAX_DURATION, LeaseGrant, _grant
from radar_cli import RADAR, WAIT, assert_absent, clean_env, read_until, wait_for_file
from vault_fixtures import (
    AUDIENCE, ISSUER, ROOT_TOKEN, BaoServer, mint_id_token, public_pem, start_bao, stop_bao,
)
from rabbitmq_fake import RabbitMQ

LEASE_ROLE = "deploy-leases"
NO_REVOKE_ROLE = "deploy-renew-only"
SHORT_TOKEN_ROLE = "deploy-short-token"

# CMD: waits SLEEP seconds, logs in to RabbitMQ with the credentials it was given and writes the
# answer's status (200: they work) to its report, then exits with EXIT. Never prints them.
CHILD = textwrap.dedent("""\
    import base64, json, os, sys, time, urllib.request, urllib.error
    out = sys.argv[1]
    open(out + ".started", "w").close()
    time.sleep(float(os.environ.get("SLEEP", "0")))
    auth = base64.b64encode(f"{os.environ['RMQ_USER']}:{os.environ['RMQ_PASS']}".encode()).decode()
    request = urllib.request.Request(os.environ["RABBITMQ_URL"] + "/api/whoami", headers={"Authorization": "Basic " + auth})
    try:
        status = urllib.request.urlopen(request, timeout=10).status
    except urllib.error.HTTPError as exc:
        status = exc.code
    with open(out + ".part", "w") as f:
        json.dump({"whoami": status}, f)
    os.rename(out + ".part", out)
    sys.exit(int(os.environ.get("EXIT", "0")))
""")


@pytest.fixture(scope="module")
def rabbitmq():
    fake = RabbitMQ()
    yield fake
    fake.close()


@pytest.fixture(scope="module")
def bao(tmp_path_factory, id_token_key, rabbitmq) -> BaoServer:
    server = start_bao(tmp_path_factory.mktemp("bao-leases"))
    try:
        server.api("POST", "sys/auth/jwt", {"type": "jwt"})
        server.api("POST", "auth/jwt/config", {"jwt_validation_pubkeys": [public_pem(id_token_key)],
                                               "bound_issuer": ISSUER})
        reads = "\n".join(f'path "{m}/creds/*" {{ capabilities = ["read"] }}'
                          for m in ("rabbitmq", "rabbitmq-short", "rabbitmq-gone"))
        server.api("POST", f"sys/policies/acl/{LEASE_ROLE}",
                   {"policy": reads + '\npath "sys/leases/revoke" { capabilities = ["update"] }'})
        server.api("POST", f"sys/policies/acl/{NO_REVOKE_ROLE}", {"policy": reads})
        for role, policy, max_ttl in ((LEASE_ROLE, LEASE_ROLE, 120), (NO_REVOKE_ROLE, NO_REVOKE_ROLE, 120),
                                      (SHORT_TOKEN_ROLE, LEASE_ROLE, 5)):
            server.api("POST", f"auth/jwt/role/{role}", {
                "role_type": "jwt", "policies": [policy], "user_claim": "user_email",
                "bound_audiences": AUDIENCE, "token_ttl": 4, "token_max_ttl": max_ttl,
            })
        for mount, ttl, max_ttl in (("rabbitmq", 3, 600), ("rabbitmq-short", 2, 5), ("rabbitmq-gone", 3, 600)):
            server.api("POST", f"sys/mounts/{mount}", {"type": "rabbitmq"})
            server.api("POST", f"{mount}/config/connection", {
                "connection_uri": rabbitmq.url, "username": "admin", "password": "admin-password",
                "verify_connection": False,
            })
            server.api("POST", f"{mount}/config/lease", {"ttl": ttl, "max_ttl": max_ttl})
            server.api("POST", f"{mount}/roles/deploy", {"vhosts": '{"/":{"read":".*","write":".*","configure":""}}'})
        yield server
    finally:
        stop_bao(server)


class Leases:
    """One test's radar environment for leased secrets, and what OpenBao and RabbitMQ hold."""

    def __init__(self, tmp_path: Path, bao: BaoServer, rabbitmq: RabbitMQ, jwt: str, mount: str = "rabbitmq",
                 role: str = LEASE_ROLE) -> None:
        self.bao, self.rabbitmq, self.jwt = bao, rabbitmq, jwt
        self.report = tmp_path / "report.json"
        self.secrets = tmp_path / "secrets.yml"
        self.secrets.write_text(textwrap.dedent(f"""\
            id_tokens: {{VAULT_ID_TOKEN: {{aud: {AUDIENCE}}}}}
            secrets:
              RMQ_USER:
                vault: {{engine: {{name: generic, path: {mount}}}, path: creds/deploy, field: username}}
                file: false
              RMQ_PASS:
                vault: {{engine: {{name: generic, path: {mount}}}, path: creds/deploy, field: password}}
                file: false
        """))
        (tmp_path / "tmp").mkdir()
        self.env = clean_env(TMPDIR=str(tmp_path / "tmp"), VAULT_SERVER_URL=bao.url, VAULT_AUTH_ROLE=role,
                             VAULT_ID_TOKEN=jwt, RABBITMQ_URL=rabbitmq.url)
        self.cwd = tmp_path
        self.users_before = rabbitmq.live()
        self.accessors_before = self.accessors()

    def argv(self, *options: str) -> list[str]:
        return [*RADAR, "exec", "--secrets-file", str(self.secrets), *options,
                "--", sys.executable, "-c", CHILD, str(self.report)]

    def run(self, *options: str, **env: str) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(self.argv(*options), capture_output=True, timeout=WAIT, env={**self.env, **env},
                              cwd=self.cwd)

    def popen(self, *options: str, **env: str) -> subprocess.Popen[bytes]:
        return subprocess.Popen(self.argv(*options), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                env={**self.env, **env}, cwd=self.cwd)

    def accessors(self) -> int:
        return len(self.bao.api("LIST", "auth/token/accessors")["data"]["keys"])

    def new_users(self) -> set[str]:
        return self.rabbitmq.live() - self.users_before

    def whoami(self) -> int:
        return json.loads(self.report.read_text())["whoami"]

    def assert_quiet(self, result: subprocess.CompletedProcess[bytes]) -> None:
        """No credential, ID token or lease id in radar's output."""
        assert_absent([*self.rabbitmq.credentials(), self.jwt], result.stdout, result.stderr)
        assert b"creds/deploy/" not in result.stdout + result.stderr, "a lease id was printed"

    def assert_revoked(self) -> None:
        """The job's RabbitMQ user is deleted and radar's Vault token is gone."""
        assert self.new_users() == set()
        assert self.accessors() == self.accessors_before


@pytest.fixture
def jwt(id_token_key) -> str:
    return mint_id_token(id_token_key)


@pytest.fixture
def leases(tmp_path, bao, rabbitmq, jwt) -> Leases:
    return Leases(tmp_path, bao, rabbitmq, jwt)


def stderr_lines(result: subprocess.CompletedProcess[bytes] | bytes) -> list[str]:
    err = result if isinstance(result, bytes) else result.stderr
    return err.decode(errors="replace").splitlines()


# --- renewal -----------------------------------------------------------------------------------

def test_leases_and_token_are_renewed_while_cmd_outlives_them(leases):
    created = len(leases.rabbitmq.created)
    result = leases.run("-v", SLEEP="8")  # lease 3 s, token 4 s: both would be gone by then
    assert result.returncode == 0, stderr_lines(result)[-5:]
    assert leases.whoami() == 200  # the credentials still worked after 8 s
    assert len(leases.rabbitmq.created) == created + 1
    lines = stderr_lines(result)
    assert sum("renewed the lease of secrets RMQ_USER, RMQ_PASS for 3s" in line for line in lines) >= 3
    assert sum("renewed the Vault token from the login with VAULT_ID_TOKEN for 4s" in line for line in lines) >= 2
    assert not [line for line in lines if line.startswith("radar: warning:")]
    leases.assert_quiet(result)
    leases.assert_revoked()


def test_the_max_ttl_is_one_warning_naming_the_variables_and_the_expiry(tmp_path, bao, rabbitmq, jwt):
    leases = Leases(tmp_path, bao, rabbitmq, jwt, mount="rabbitmq-short")
    result = leases.run(SLEEP="6")  # lease 2 s, max 5 s
    assert result.returncode == 0
    assert leases.whoami() == 401  # expired at its max TTL, as Vault said it would
    warnings = [line for line in stderr_lines(result) if line.startswith("radar: warning:")]
    assert len(warnings) == 1, warnings
    assert warnings[0].startswith("radar: warning: The lease of secrets RMQ_USER, RMQ_PASS cannot be extended further (its max TTL); "
                                  "it expires at ")
    assert warnings[0].endswith(" UTC")
    leases.assert_quiet(result)
    assert leases.accessors() == leases.accessors_before


def test_a_token_at_its_max_ttl_is_one_warning_and_its_leases_end_with_it(tmp_path, bao, rabbitmq, jwt):
    leases = Leases(tmp_path, bao, rabbitmq, jwt, role=SHORT_TOKEN_ROLE)
    result = leases.run(SLEEP="7")
    assert result.returncode == 0
    assert leases.whoami() == 401  # Vault revoked the token at its max TTL, and the lease with it
    warnings = [line for line in stderr_lines(result) if line.startswith("radar: warning:")]
    token_warnings = [w for w in warnings if w.startswith(
        "radar: warning: The Vault token from the login with VAULT_ID_TOKEN cannot be extended further (its max TTL); "
        "it expires at ")]
    assert len(token_warnings) == 1, warnings
    leases.assert_quiet(result)
    assert leases.new_users() == set()


def test_a_failed_renewal_warns_once_and_cmd_keeps_running(tmp_path, bao, rabbitmq, jwt):
    leases = Leases(tmp_path, bao, rabbitmq, jwt, mount="rabbitmq-gone")
    proc = leases.popen(SLEEP="5", EXIT="0")
    try:
        wait_for_file(Path(str(leases.report) + ".started"), proc)
        bao.api("PUT", "sys/leases/revoke-prefix/rabbitmq-gone/creds")  # an operator revokes it meanwhile
        out, err = proc.communicate(timeout=WAIT)
    finally:
        proc.kill()
    assert proc.returncode == 0
    assert leases.whoami() == 401
    warnings = [line for line in stderr_lines(err) if line.startswith("radar: warning:")]
    assert len(warnings) == 1, warnings
    assert warnings[0].startswith("radar: warning: cannot renew the lease of secrets RMQ_USER, RMQ_PASS (Vault refused "
                                  "to renew a lease (PUT sys/leases/renew): ")
    assert "the command keeps running" in warnings[0]
    assert_absent([*rabbitmq.credentials(), jwt], out, err)
    assert b"creds/deploy/" not in out + err
    assert leases.accessors() == leases.accessors_before


# --- revocation --------------------------------------------------------------------------------

def test_lease_and_token_are_revoked_when_cmd_exits(leases):
    result = leases.run()
    assert result.returncode == 0
    assert leases.whoami() == 200
    assert len(leases.rabbitmq.deleted) >= 1
    leases.assert_quiet(result)
    leases.assert_revoked()


def test_lease_and_token_are_revoked_when_cmd_fails(leases):
    result = leases.run(EXIT="3")
    assert result.returncode == 3
    assert leases.whoami() == 200
    leases.assert_revoked()


def test_lease_and_token_are_revoked_when_radar_gets_sigterm(leases):
    proc = leases.popen(SLEEP="60")
    try:
        wait_for_file(Path(str(leases.report) + ".started"), proc)
        assert len(leases.new_users()) == 1  # the credential exists while CMD runs
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=WAIT)
    finally:
        proc.kill()
    assert proc.returncode == 128 + signal.SIGTERM  # forwarded to CMD, which died of it
    assert_absent([*leases.rabbitmq.credentials(), leases.jwt], out, err)
    leases.assert_revoked()


def test_lease_is_revoked_when_another_secret_fails_before_cmd_starts(leases):
    leases.secrets.write_text(leases.secrets.read_text()
                              + "  MISSING: {vault: {engine: {name: generic, path: rabbitmq}, path: roles/nobody, field: x}}\n")
    created = len(leases.rabbitmq.created)
    result = leases.run()
    assert result.returncode == 1
    assert not leases.report.exists()
    assert len(leases.rabbitmq.created) == created + 1  # read, then revoked though CMD never ran
    leases.assert_quiet(result)
    leases.assert_revoked()


def test_without_a_revoke_policy_revoking_the_token_takes_its_leases(tmp_path, bao, rabbitmq, jwt):
    leases = Leases(tmp_path, bao, rabbitmq, jwt, role=NO_REVOKE_ROLE)
    result = leases.run()
    assert result.returncode == 0
    assert not [line for line in stderr_lines(result) if line.startswith("radar: warning:")]
    deadline = time.monotonic() + WAIT  # Vault revokes a token's leases in the background
    while leases.new_users() and time.monotonic() < deadline:
        time.sleep(0.1)
    leases.assert_revoked()


def test_keep_leases_leaves_the_credential_and_the_token(leases):
    try:
        result = leases.run("--keep-leases")
        assert result.returncode == 0
        assert len(leases.new_users()) == 1
        assert leases.accessors() == leases.accessors_before + 1
        leases.assert_quiet(result)
    finally:
        leases.bao.api("PUT", "sys/leases/revoke-prefix/rabbitmq/creds")
        leases.bao.api("PUT", "sys/leases/revoke-prefix/auth/jwt/login")


def test_secrets_check_revokes_what_it_read(leases):
    result = subprocess.run([*RADAR, "secrets", "check", "--secrets-file", str(leases.secrets)],
                            capture_output=True, timeout=WAIT, env=leases.env, cwd=leases.cwd)
    assert result.returncode == 0
    assert result.stdout.decode().startswith("OK\tRMQ_USER\tvault rabbitmq/creds/deploy field username")
    leases.assert_quiet(result)
    leases.assert_revoked()


def test_exec_help_documents_keep_leases():
    result = subprocess.run([*RADAR, "exec", "--help"], capture_output=True, timeout=WAIT, env=clean_env())
    assert b"--keep-leases" in result.stdout and b"revoke" in result.stdout


# --- answers -----------------------------------------------------------------------------------

@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])  # shared 2-core machine
@given(st.dictionaries(st.sampled_from(["lease_id", "lease_duration", "renewable", "data"]),
                       st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)))
def test_any_lease_fields_in_an_answer_give_a_bounded_grant_or_none(payload):
    grant = _grant(payload)
    if grant is None:
        assert not (isinstance(payload.get("lease_id"), str) and payload["lease_id"])
    else:
        assert isinstance(grant, LeaseGrant) and grant.lease_id == payload["lease_id"]
        assert 0 <= grant.duration <= MAX_DURATION
        assert grant.renewable is (payload.get("renewable") is True)
        assert repr(grant) == f"LeaseGrant(duration={grant.duration}, renewable={grant.renewable})"
