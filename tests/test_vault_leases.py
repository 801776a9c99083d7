"""Leases of dynamic secrets in `radar exec`, against a real OpenBao and a real PostgreSQL.

OpenBao's database engine creates a PostgreSQL role for each read of `database/creds/ROLE`,
valid until its lease ends (`VALID UNTIL`, moved on by each renewal), and drops it when the
lease is revoked or expires. So "the credential is gone" means the role is no longer in
`pg_roles`, and "it still works" means the job logged in to PostgreSQL with it after its first
lease would have run out.

Leases of database role `deploy` last 3 s (max 600 s), of `short` 3 s (max 8 s); the login
role's tokens last 4 s (max 120 s; 5 s for SHORT_TOKEN_ROLE), so a job longer than that also
needs its token renewed (Vault revokes a token's leases when the token expires).
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from postgres_fixtures import Postgres, start_postgres, stop_postgres
from radar.vault.client import MAX_DURATION, LeaseGrant, _grant
from radar_cli import RADAR, WAIT, assert_absent, clean_env, wait_for_file
from vault_fakes import never_answer, response
from vault_fixtures import AUDIENCE, ISSUER, BaoServer, mint_id_token, public_pem, start_bao, stop_bao

LEASE_ROLE = "deploy-leases"
NO_REVOKE_ROLE = "deploy-renew-only"
SHORT_TOKEN_ROLE = "deploy-short-token"
GENERATED = "v-"  # OpenBao's generated PostgreSQL user names start so

# CMD: saves the credentials it was given next to its report (for leak checks) and prints them
# (radar must mask them), waits SLEEP seconds, logs in to PostgreSQL with them, writes whether
# that worked, then exits with EXIT (`kill`: SIGKILL).
CHILD = textwrap.dedent("""\
    import json, os, subprocess, sys, time
    out = sys.argv[1]
    user, password = os.environ["DB_USER"], os.environ["DB_PASS"]
    with open(out + ".creds", "w") as f:
        json.dump([user, password], f)
    print("stdout", user, password, flush=True)
    print("stderr", user, password, file=sys.stderr, flush=True)
    open(out + ".started", "w").close()
    time.sleep(float(os.environ.get("SLEEP", "0")))
    login = subprocess.run(
        [os.environ["PSQL"], "-h", "127.0.0.1", "-p", os.environ["PGPORT"], "-U", user, "-d", "postgres",
         "-XAtqc", "SELECT 1"],
        env={"PATH": os.environ["PATH"], "PGPASSWORD": password}, capture_output=True, timeout=30)
    with open(out + ".part", "w") as f:
        json.dump({"login": login.returncode == 0}, f)
    os.rename(out + ".part", out)
    if os.environ.get("EXIT") == "kill":
        os.kill(os.getpid(), 9)
    sys.exit(int(os.environ.get("EXIT", "0")))
""")


@pytest.fixture(scope="module")
def postgres():
    server = start_postgres()
    yield server
    stop_postgres(server)


@pytest.fixture(scope="module")
def bao(tmp_path_factory, id_token_key, postgres) -> BaoServer:
    server = start_bao(tmp_path_factory.mktemp("bao-leases"))
    try:
        server.api("POST", "sys/auth/jwt", {"type": "jwt"})
        server.api("POST", "auth/jwt/config", {"jwt_validation_pubkeys": [public_pem(id_token_key)],
                                               "bound_issuer": ISSUER})
        reads = 'path "database/creds/*" { capabilities = ["read"] }'
        server.api("POST", f"sys/policies/acl/{LEASE_ROLE}",
                   {"policy": reads + '\npath "sys/leases/revoke" { capabilities = ["update"] }'})
        server.api("POST", f"sys/policies/acl/{NO_REVOKE_ROLE}", {"policy": reads})
        for role, policy, max_ttl in ((LEASE_ROLE, LEASE_ROLE, 120), (NO_REVOKE_ROLE, NO_REVOKE_ROLE, 120),
                                      (SHORT_TOKEN_ROLE, LEASE_ROLE, 5)):
            server.api("POST", f"auth/jwt/role/{role}", {
                "role_type": "jwt", "policies": [policy], "user_claim": "user_email",
                "bound_audiences": AUDIENCE, "token_ttl": 4, "token_max_ttl": max_ttl,
            })
        server.api("POST", "sys/mounts/database", {"type": "database"})
        server.api("POST", "database/config/pg", {
            "plugin_name": "postgresql-database-plugin",
            "connection_url": f"postgresql://{{{{username}}}}:{{{{password}}}}@127.0.0.1:{postgres.port}/postgres"
                              "?sslmode=disable",
            "username": "postgres", "password": postgres.admin_password, "allowed_roles": "*",
        })
        create = ["CREATE ROLE \"{{name}}\" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}';"]
        for role, ttl, max_ttl in (("deploy", 3, 600), ("short", 3, 8), ("gone", 3, 600)):
            server.api("POST", f"database/roles/{role}", {"db_name": "pg", "creation_statements": create,
                                                          "default_ttl": ttl, "max_ttl": max_ttl})
        yield server
    finally:
        stop_bao(server)


class Leases:
    """One test's radar environment for leased secrets, and what OpenBao and PostgreSQL hold."""

    def __init__(self, tmp_path: Path, bao: BaoServer, postgres: Postgres, jwt: str, db_role: str = "deploy",
                 role: str = LEASE_ROLE) -> None:
        self.bao, self.postgres, self.jwt, self.db_role = bao, postgres, jwt, db_role
        self.report = tmp_path / "report.json"
        self.secrets = tmp_path / "secrets.yml"
        self.secrets.write_text(textwrap.dedent(f"""\
            id_tokens: {{VAULT_ID_TOKEN: {{aud: {AUDIENCE}}}}}
            secrets:
              DB_USER:
                vault: {{engine: {{name: generic, path: database}}, path: creds/{db_role}, field: username}}
                file: false
              DB_PASS:
                vault: {{engine: {{name: generic, path: database}}, path: creds/{db_role}, field: password}}
                file: false
        """))
        (tmp_path / "tmp").mkdir()
        self.env = clean_env(TMPDIR=str(tmp_path / "tmp"), VAULT_SERVER_URL=bao.url, VAULT_AUTH_ROLE=role,
                             VAULT_ID_TOKEN=jwt, PSQL=postgres.psql, PGPORT=str(postgres.port))
        self.cwd = tmp_path
        self.users_before = postgres.roles(GENERATED)
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

    def wait_started(self, proc: subprocess.Popen[bytes]) -> None:
        wait_for_file(Path(f"{self.report}.started"), proc)

    def accessors(self) -> int:
        return len(self.bao.api("LIST", "auth/token/accessors")["data"]["keys"])

    def new_users(self) -> set[str]:
        return self.postgres.roles(GENERATED) - self.users_before

    def logged_in(self) -> bool:
        """Whether CMD could log in to PostgreSQL with its credentials at the end of its sleep."""
        return json.loads(self.report.read_text())["login"]

    def credentials(self) -> list[str]:
        creds = Path(f"{self.report}.creds")
        return json.loads(creds.read_text()) if creds.exists() else []

    def assert_quiet(self, out: bytes, err: bytes) -> None:
        """No credential, ID token or lease id in radar's output (CMD printed the credentials)."""
        assert self.credentials(), "CMD did not receive the credentials"
        assert_absent([*self.credentials(), self.jwt], out, err)
        lease_prefix = f"database/creds/{self.db_role}/".encode()  # a lease id; the path alone is fine
        assert lease_prefix not in out + err, "a lease id was printed"

    def assert_revoked(self) -> None:
        """The job's PostgreSQL user is dropped and radar's Vault token is gone."""
        assert self.new_users() == set()
        assert self.accessors() == self.accessors_before


@pytest.fixture
def jwt(id_token_key) -> str:
    return mint_id_token(id_token_key)


@pytest.fixture
def leases(tmp_path, bao, postgres, jwt) -> Leases:
    return Leases(tmp_path, bao, postgres, jwt)


def warnings(err: bytes) -> list[str]:
    return [line for line in err.decode(errors="replace").splitlines() if line.startswith("radar: warning:")]


# --- renewal -----------------------------------------------------------------------------------

def test_leases_and_token_are_renewed_while_cmd_outlives_them(leases):
    result = leases.run("-v", SLEEP="8")  # lease 3 s, token 4 s: both would be gone by then
    assert result.returncode == 0, warnings(result.stderr)
    assert leases.logged_in()  # the credentials still worked after 8 s
    lines = result.stderr.decode().splitlines()
    # On time, the lease is renewed at 2, 4 and 6 s and the token at 2.7 and 5.3 s; a busy host may
    # delay one, which the login at 8 s would then show.
    assert sum("renewed the lease of secrets DB_USER, DB_PASS for 3s" in line for line in lines) >= 2
    assert sum("renewed the Vault token from the login with VAULT_ID_TOKEN for 4s" in line for line in lines) >= 1
    assert warnings(result.stderr) == []
    leases.assert_quiet(result.stdout, result.stderr)
    leases.assert_revoked()


def test_the_max_ttl_is_one_warning_naming_the_variables_and_the_expiry(tmp_path, bao, postgres, jwt):
    leases = Leases(tmp_path, bao, postgres, jwt, db_role="short")
    result = leases.run(SLEEP="9")  # lease 3 s, max 8 s
    assert result.returncode == 0
    assert not leases.logged_in()  # expired at its max TTL, as the warning said
    found = warnings(result.stderr)
    assert len(found) == 1, found
    assert found[0].startswith("radar: warning: The lease of secrets DB_USER, DB_PASS cannot be extended further "
                               "(its max TTL); it expires at ")
    assert found[0].endswith(" UTC")
    leases.assert_quiet(result.stdout, result.stderr)
    leases.assert_revoked()


def test_a_token_at_its_max_ttl_is_one_warning_and_its_leases_end_with_it(tmp_path, bao, postgres, jwt):
    leases = Leases(tmp_path, bao, postgres, jwt, role=SHORT_TOKEN_ROLE)
    result = leases.run(SLEEP="7")  # token 4 s, max 5 s
    assert result.returncode == 0
    assert not leases.logged_in()  # Vault revoked the token at its max TTL, and the lease with it
    token_warnings = [w for w in warnings(result.stderr) if w.startswith(
        "radar: warning: The Vault token from the login with VAULT_ID_TOKEN cannot be extended further "
        "(its max TTL); it expires at ")]
    assert len(token_warnings) == 1, warnings(result.stderr)
    leases.assert_quiet(result.stdout, result.stderr)
    assert leases.new_users() == set()


def test_a_failed_renewal_warns_once_and_cmd_keeps_running(tmp_path, bao, postgres, jwt):
    leases = Leases(tmp_path, bao, postgres, jwt, db_role="gone")
    proc = leases.popen(SLEEP="5")
    try:
        leases.wait_started(proc)
        bao.api("PUT", "sys/leases/revoke-prefix/database/creds/gone")  # an operator revokes it meanwhile
        out, err = proc.communicate(timeout=WAIT)
    finally:
        proc.kill()
    assert proc.returncode == 0
    assert not leases.logged_in()
    found = warnings(err)
    assert len(found) == 1, found
    assert found[0].startswith("radar: warning: cannot renew the lease of secrets DB_USER, DB_PASS (Vault refused "
                               "to renew a lease (PUT sys/leases/renew): ")
    assert "the command keeps running" in found[0]
    leases.assert_quiet(out, err)
    leases.assert_revoked()


# --- revocation --------------------------------------------------------------------------------

def test_lease_and_token_are_revoked_when_cmd_exits(leases):
    result = leases.run()
    assert result.returncode == 0
    assert leases.logged_in()
    leases.assert_quiet(result.stdout, result.stderr)
    leases.assert_revoked()


def test_lease_and_token_are_revoked_when_cmd_fails(leases):
    result = leases.run(EXIT="3")
    assert result.returncode == 3
    assert leases.logged_in()
    leases.assert_revoked()


def test_lease_and_token_are_revoked_when_cmd_is_killed(leases):
    result = leases.run(EXIT="kill")
    assert result.returncode == 128 + signal.SIGKILL
    assert leases.logged_in()
    leases.assert_revoked()


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT], ids=["SIGTERM", "SIGHUP", "SIGINT"])
def test_lease_and_token_are_revoked_when_radar_is_signalled(leases, signum):
    proc = leases.popen(SLEEP="60")
    try:
        leases.wait_started(proc)
        assert len(leases.new_users()) == 1  # the credential exists while CMD runs
        proc.send_signal(signum)
        out, err = proc.communicate(timeout=WAIT)
    finally:
        proc.kill()
    assert proc.returncode == 128 + signum  # forwarded to CMD, which died of it
    leases.assert_quiet(out, err)
    leases.assert_revoked()


def test_lease_is_revoked_when_another_secret_fails_before_cmd_starts(leases):
    leases.secrets.write_text(leases.secrets.read_text()
                              + "  MISSING: {vault: {engine: {name: generic, path: database}, path: roles/x, field: x}}\n")
    proc = leases.popen()
    try:
        out, err = proc.communicate(timeout=WAIT)
    finally:
        proc.kill()
    assert proc.returncode == 1
    assert b"permission denied: MISSING" in err
    assert not Path(f"{leases.report}.started").exists()
    assert_absent([leases.jwt], out, err)
    leases.assert_revoked()


def test_without_a_revoke_policy_revoking_the_token_takes_its_leases(tmp_path, bao, postgres, jwt):
    leases = Leases(tmp_path, bao, postgres, jwt, role=NO_REVOKE_ROLE)
    result = leases.run()
    assert result.returncode == 0
    assert warnings(result.stderr) == []
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
        leases.assert_quiet(result.stdout, result.stderr)
    finally:
        leases.bao.api("PUT", "sys/leases/revoke-prefix/database/creds/deploy")
        leases.bao.api("PUT", "sys/leases/revoke-prefix/auth/jwt/login")


def test_secrets_check_revokes_what_it_read(leases):
    result = subprocess.run([*RADAR, "secrets", "check", "--secrets-file", str(leases.secrets)],
                            capture_output=True, timeout=WAIT, env=leases.env, cwd=leases.cwd)
    assert result.returncode == 0
    assert result.stdout.decode().startswith("OK\tDB_USER\tvault database/creds/deploy field username")
    assert_absent([leases.jwt], result.stdout, result.stderr)
    leases.assert_revoked()


def test_a_vault_that_stops_answering_while_cmd_runs_costs_warnings_not_a_hung_job(tmp_path, serve, jwt):
    """Login and read answer (a 2 s lease); every renewal and revocation hangs. With
    --vault-timeout 1 each gets one second: radar still ends with CMD's status."""
    credentials = ["v-fake-user-4821", "fake-password-9b1c37e2"]
    lease_id = "database/creds/deploy/Fake9LeaseId"
    login = {"auth": {"client_token": "hvs.FakeToken0123456789abcdef", "policies": ["default"],
                      "lease_duration": 60, "renewable": True}}
    read = {"lease_id": lease_id, "lease_duration": 2, "renewable": True,
            "data": {"username": credentials[0], "password": credentials[1]}}

    fake = serve(leasing_vault(login, read))
    secrets = tmp_path / "secrets.yml"
    secrets.write_text(textwrap.dedent(f"""\
        id_tokens: {{VAULT_ID_TOKEN: {{aud: {AUDIENCE}}}}}
        secrets:
          DB_USER: {{vault: {{engine: {{name: generic, path: database}}, path: creds/deploy, field: username}}, file: false}}
          DB_PASS: {{vault: {{engine: {{name: generic, path: database}}, path: creds/deploy, field: password}}, file: false}}
    """))
    sleep_then_exit = "import os, sys, time; print(os.environ['DB_PASS'], flush=True); time.sleep(2); sys.exit(4)"
    result = subprocess.run(
        [*RADAR, "exec", "--secrets-file", str(secrets), "--vault-timeout", "1", "--",
         sys.executable, "-c", sleep_then_exit],
        capture_output=True, timeout=WAIT, cwd=tmp_path,
        env=clean_env(VAULT_SERVER_URL=fake.url, VAULT_ID_TOKEN=jwt),
    )
    assert result.returncode == 4
    found = warnings(result.stderr)
    assert found[-1].startswith("radar: warning: cannot revoke the Vault token from the login with VAULT_ID_TOKEN, "
                                "nor the lease of secrets DB_USER, DB_PASS (Vault at "), found
    assert found[-1].endswith("they stay valid until they expire")
    assert all(w.startswith("radar: warning: cannot renew the lease of secrets DB_USER, DB_PASS") for w in found[:-1])
    paths = [r.target for r in fake.requests]
    assert "/v1/sys/leases/renew" in paths and "/v1/sys/leases/revoke" in paths
    assert_absent([*credentials, lease_id, login["auth"]["client_token"], jwt], result.stdout, result.stderr)


def leasing_vault(login: dict, read: dict, *, no_content: tuple[str, ...] = ()):
    """A fake Vault that logs in with `login` and answers database/creds/deploy with `read` (a leased
    credential); the paths in `no_content` answer 204 and every other request never answers."""

    def vault(server, conn, request):
        if request.target == "/v1/auth/jwt/login":
            conn.sendall(response(200, json.dumps(login).encode()))
        elif request.target == "/v1/database/creds/deploy":
            conn.sendall(response(200, json.dumps(read).encode()))
        elif request.target in no_content:
            conn.sendall(response(204, b""))
        else:
            return never_answer(server, conn, request)
        return True

    return vault

def test_sigterm_while_another_read_hangs_revokes_the_lease_already_read(tmp_path, serve, jwt):
    """One read answers with a lease, the other hangs; SIGTERM before CMD starts must still
    revoke that lease and the token (a fake Vault: a real one does not hang on cue)."""
    lease_id = "database/creds/deploy/Fake7LeaseId"
    token = "hvs.FakeToken9876543210fedcba"
    login = {"auth": {"client_token": token, "policies": ["default"], "lease_duration": 60, "renewable": True}}
    read = {"lease_id": lease_id, "lease_duration": 60, "renewable": True,
            "data": {"username": "v-fake-user-7", "password": "fake-password-5d3a90c1"}}

    fake = serve(leasing_vault(login, read, no_content=("/v1/sys/leases/revoke", "/v1/auth/token/revoke-self")))
    secrets = tmp_path / "secrets.yml"
    secrets.write_text(textwrap.dedent(f"""\
        id_tokens: {{VAULT_ID_TOKEN: {{aud: {AUDIENCE}}}}}
        secrets:
          DB_PASS: {{vault: {{engine: {{name: generic, path: database}}, path: creds/deploy, field: password}}, file: false}}
          SLOW: {{vault: {{engine: {{name: generic, path: kv}}, path: slow, field: x}}, file: false}}
    """))
    proc = subprocess.Popen([*RADAR, "exec", "--secrets-file", str(secrets), "--vault-timeout", "5", "--", "true"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=tmp_path,
                            env=clean_env(VAULT_SERVER_URL=fake.url, VAULT_ID_TOKEN=jwt))
    try:
        deadline = time.monotonic() + WAIT
        while {"/v1/kv/slow", "/v1/database/creds/deploy"} - {r.target for r in fake.requests}:
            assert proc.poll() is None and time.monotonic() < deadline, "radar never asked for both secrets"
            time.sleep(0.02)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=WAIT)
    finally:
        proc.kill()
    assert proc.returncode == 128 + signal.SIGTERM
    assert b"stopped by SIGTERM before the command started" in err
    revokes = [r for r in fake.requests if r.target == "/v1/sys/leases/revoke"]
    assert len(revokes) == 1 and json.loads(revokes[0].body) == {"lease_id": lease_id}
    assert revokes[0].headers["x-vault-token"] == token
    assert [r.headers["x-vault-token"] == token for r in fake.requests if r.target == "/v1/auth/token/revoke-self"] == [True]
    assert_absent([read["data"]["password"], lease_id, token, jwt], out, err)


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
