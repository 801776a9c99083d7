"""`radar exec` and `radar secrets check` end to end, against a real OpenBao dev server.

Each test runs radar as users do (a child process, a clean environment, TMPDIR of its own) and
checks what GitLab Runner guarantees: the values reach CMD (compared by SHA-256), files are
0600 in a 0700 directory that is gone afterwards, output is masked, and every failure is one
line naming the cause without a token, JWT or value.
"""

from __future__ import annotations

import json
import os
import re
import select
import signal
import socket
import socketserver
import subprocess
import sys
import textwrap
import threading
import time
import urllib.parse
from pathlib import Path

import certifi
import pytest

from radar_cli import RADAR, WAIT, clean_env, read_until, wait_for_file, without_file_access_override
from vault_fixtures import (
    AUDIENCE, NAMESPACE, ROLE, BaoServer, configure_gitlab_jwt, mint_id_token, new_signing_key, sha256,
    start_bao, stop_bao,
)

# CMD for radar exec: reports, for each variable named on its command line, the SHA-256 of what
# it sees (the file's content for a file path), the file and directory modes, then prints the
# values on stdout and stderr (radar must mask them) and ends as CHILD_THEN says.
CHILD = textwrap.dedent("""\
    import hashlib, json, os, signal, stat, sys, time
    report, out = {}, sys.argv[1]
    for name in sys.argv[2:]:
        value = os.environ.get(name)
        entry = {"set": value is not None, "file": False}
        data = (value or "").encode()
        if value and os.path.isabs(value) and os.path.isfile(value):
            data = open(value, "rb").read()
            entry.update(file=True, path=value, mode=stat.S_IMODE(os.stat(value).st_mode),
                         dir_mode=stat.S_IMODE(os.stat(os.path.dirname(value)).st_mode))
        entry["sha256"] = hashlib.sha256(data).hexdigest()
        report[name] = entry
        print("stdout", name, data.decode(), flush=True)
        print("stderr", name, data.decode(), file=sys.stderr, flush=True)
    with open(out + ".part", "w") as f:
        json.dump(report, f)
    os.rename(out + ".part", out)
    then = os.environ.get("CHILD_THEN", "exit:0")
    if then.startswith("exit:"):
        sys.exit(int(then[5:]))
    if then == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    if then == "wait":
        time.sleep(120)
""")

VAULT_TOKEN_SHAPE = re.compile(rb"\b(?:hvs|hvb|s|b)\.[A-Za-z0-9]{20,}")


def ci_file(tmp_path: Path, body: str) -> Path:
    path = tmp_path / ".gitlab-ci.yml"
    path.write_text(textwrap.dedent(body))
    return path


def deploy_job(tmp_path: Path, secrets: str, extra: str = "") -> Path:
    """A job like GitLab's docs' job_using_vault, with the given secrets: entries."""
    return ci_file(tmp_path, (
        "deploy:\n"
        "  id_tokens:\n"
        f"    VAULT_ID_TOKEN:\n      aud: {AUDIENCE}\n"
        f"{extra}"
        "  secrets:\n" + textwrap.indent(textwrap.dedent(secrets), "    ")
    ))


class Run(subprocess.CompletedProcess):
    """A finished radar whose repr shows no output: pytest prints reprs when an assertion fails."""

    def __repr__(self) -> str:
        return f"Run(returncode={self.returncode}, stdout=<{len(self.stdout)} bytes>, stderr=<{len(self.stderr)} bytes>)"


class Job:
    """One test's radar environment: a server, an ID token, TMPDIR, and the child's report."""

    def __init__(self, tmp_path: Path, server: BaoServer, jwt: str, **env: str) -> None:
        self.server = server
        self.tmp_path = tmp_path
        self.tmpdir = tmp_path / "tmp"
        self.tmpdir.mkdir(exist_ok=True)
        self.report_path = tmp_path / "report.json"
        self.jwt = jwt
        self.env = clean_env(**{"TMPDIR": str(self.tmpdir), "VAULT_SERVER_URL": server.url,
                                "VAULT_AUTH_ROLE": ROLE, "VAULT_ID_TOKEN": jwt, **env})

    def argv(self, *args: str | Path, names: tuple[str, ...] = ()) -> list[str]:
        radar_args = [os.fspath(a) for a in args]
        if names:
            radar_args += ["--", sys.executable, "-c", CHILD, str(self.report_path), *names]
        return [*RADAR, *radar_args]

    def run(self, *args: str | Path, names: tuple[str, ...] = (), unset: tuple[str, ...] = (), **env: str) -> Run:
        environment = {k: v for k, v in {**self.env, **env}.items() if k not in unset}
        done = subprocess.run(self.argv(*args, names=names), capture_output=True, timeout=WAIT,
                              env=environment, cwd=self.tmp_path)
        return Run(done.args, done.returncode, done.stdout, done.stderr)

    def popen(self, *args: str | Path, names: tuple[str, ...] = (), **env: str) -> subprocess.Popen[bytes]:
        return subprocess.Popen(self.argv(*args, names=names), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                env={**self.env, **env}, cwd=self.tmp_path)

    def explain(self, result: subprocess.CompletedProcess[bytes]) -> str:
        """radar's stderr for an assertion message, with every known secret blotted out."""
        return redacted(result.stderr, self.jwt, *self.server.all_values())

    def report(self) -> dict:
        return json.loads(self.report_path.read_text())

    def leftovers(self) -> list[str]:
        return os.listdir(self.tmpdir)


def assert_nothing_leaked(result: Run, *values: bytes | str) -> None:
    """No value, JWT or Vault token in stdout or stderr (booleans only, so nothing is printed)."""
    out, err = result.stdout, result.stderr
    for value in values:
        needle = value.encode() if isinstance(value, str) else value
        leaked = needle in out or needle in err
        assert not leaked, f"a secret (sha256 {sha256(needle)[:12]}) appeared in radar's output"
    assert VAULT_TOKEN_SHAPE.search(out + err) is None, "something shaped like a Vault token was printed"


def redacted(output: bytes, *values: str | bytes) -> str:
    text = output.decode(errors="replace")
    for value in values:
        value = value.decode() if isinstance(value, bytes) else value
        text = text.replace(value, f"<secret sha256 {sha256(value.encode())[:12]}>")
    return text


def error_line(result: subprocess.CompletedProcess[bytes]) -> str:
    """The one `radar: error:` line radar prints on failure (CMD never ran, so nothing else)."""
    text = result.stderr.decode(errors="replace")
    errors = [line for line in text.splitlines() if line.startswith("radar: error: ")]
    assert len(errors) == 1 and "Traceback" not in text, f"expected one error line, got {len(errors)}"
    return errors[0]


@pytest.fixture
def jwt(id_token_key) -> str:
    return mint_id_token(id_token_key)


@pytest.fixture
def job(tmp_path, bao_server, jwt) -> Job:
    return Job(tmp_path, bao_server, jwt)


# --- delivery ----------------------------------------------------------------------------------

def test_file_secret_reaches_cmd_in_a_private_file_removed_afterwards(job, bao_server, tmp_path):
    ci = deploy_job(tmp_path, """\
        DATABASE_PASSWORD:
          vault: production/db/password@ops
          token: $VAULT_ID_TOKEN
    """)
    result = job.run("exec", "--job", "deploy", "--ci-file", ci, "-v", names=("DATABASE_PASSWORD",))
    assert result.returncode == 0, job.explain(result)
    seen = job.report()["DATABASE_PASSWORD"]
    assert seen["file"] and seen["sha256"] == sha256(bao_server.value("ops/production/db", "password"))
    assert (seen["mode"], seen["dir_mode"]) == (0o600, 0o700)
    assert Path(seen["path"]).parent.parent == job.tmpdir
    assert not Path(seen["path"]).parent.exists() and job.leftovers() == []
    assert b"stdout DATABASE_PASSWORD [MASKED]" in result.stdout
    assert b"stderr DATABASE_PASSWORD [MASKED]" in result.stderr
    assert_nothing_leaked(result, bao_server.value("ops/production/db", "password"), job.jwt)


def test_file_false_puts_the_value_in_the_variable(job, bao_server, tmp_path):
    ci = deploy_job(tmp_path, """\
        DATABASE_PASSWORD:
          vault: production/db/password@ops
          file: false
    """)
    result = job.run("exec", "--job", "deploy", "--ci-file", ci, names=("DATABASE_PASSWORD",))
    assert result.returncode == 0, job.explain(result)
    seen = job.report()["DATABASE_PASSWORD"]
    assert not seen["file"] and seen["sha256"] == sha256(bao_server.value("ops/production/db", "password"))
    assert b"stdout DATABASE_PASSWORD [MASKED]" in result.stdout
    assert_nothing_leaked(result, bao_server.value("ops/production/db", "password"))


def test_short_form_without_mount_reads_the_kv_v2_mount(job, bao_server, tmp_path):
    ci = deploy_job(tmp_path, "DB: {vault: production/db/password, file: false}\n")
    result = job.run("exec", "--job", "deploy", "--ci-file", ci, names=("DB",))
    assert result.returncode == 0, job.explain(result)
    assert job.report()["DB"]["sha256"] == sha256(bao_server.value("kv-v2/production/db", "password"))


def test_engines_kv_v2_kv_v1_and_generic_in_long_form(job, bao_server, tmp_path):
    ci = deploy_job(tmp_path, """\
        V2:
          vault: {engine: {name: kv-v2, path: ops}, path: production/api, field: token}
        V1:
          vault: {engine: {name: kv-v1, path: kv1}, path: ci/artifactory, field: access_token}
        GENERIC:
          vault: {engine: {name: generic, path: kv1}, path: ci/artifactory, field: access_token}
          file: false
    """)
    result = job.run("exec", "--job", "deploy", "--ci-file", ci, names=("V2", "V1", "GENERIC"))
    assert result.returncode == 0, job.explain(result)
    seen = job.report()
    assert seen["V2"]["sha256"] == sha256(bao_server.value("ops/production/api", "token"))
    artifactory = sha256(bao_server.value("kv1/ci/artifactory", "access_token"))
    assert seen["V1"]["sha256"] == artifactory and seen["GENERIC"]["sha256"] == artifactory
    assert seen["V1"]["file"] and not seen["GENERIC"]["file"]


def test_several_fields_and_the_id_token_are_masked_and_yaml_variables_exported(job, bao_server, tmp_path):
    ci = deploy_job(tmp_path, """\
        DB_USER: {vault: production/db/user@ops, file: false}
        DB_PASSWORD: {vault: production/db/password@ops, file: false}
    """, extra="  variables:\n    DEPLOY_TARGET: production-eu\n")
    result = job.run("exec", "--job", "deploy", "--ci-file", ci, names=("DB_USER", "DB_PASSWORD", "VAULT_ID_TOKEN", "DEPLOY_TARGET"))
    assert result.returncode == 0, job.explain(result)
    assert b"stdout VAULT_ID_TOKEN [MASKED]" in result.stdout
    assert b"stdout DB_USER [MASKED]" in result.stdout
    assert b"stdout DEPLOY_TARGET production-eu" in result.stdout
    assert_nothing_leaked(result, job.jwt, bao_server.value("ops/production/db", "user"))


@pytest.mark.parametrize("case, reason", [
    ("missing", "no such directory for file secrets"),
    ("a file", "not a directory, so it cannot hold file secrets"),
    ("world-writable", "anyone may write to it and it lacks the sticky bit"),
    ("read-only", "not writable, so it cannot hold file secrets"),
])
def test_an_unusable_tmpdir_is_refused_before_vault_is_asked(tmp_path, bao_server, jwt, case, reason):
    target = tmp_path / "secrets-go-here"
    if case == "a file":
        target.write_text("")
    elif case != "missing":
        target.mkdir(mode=0o777 if case == "world-writable" else 0o500)
        target.chmod(0o777 if case == "world-writable" else 0o500)
    # Vault is not there: a radar that asked it first would fail differently (exit 1).
    job = Job(tmp_path, bao_server, jwt, TMPDIR=str(target), VAULT_SERVER_URL=f"http://127.0.0.1:{_closed_port()}")
    ci = deploy_job(tmp_path, "DB: {vault: production/db/password@ops}\n")
    done = subprocess.run([*without_file_access_override(), *job.argv("exec", "--job", "deploy", "--ci-file", ci,
                                                                       "--vault-timeout", "2", names=("DB",))],
                          capture_output=True, timeout=WAIT, env=job.env, cwd=tmp_path)
    assert done.returncode == 2
    assert f"radar: error: TMPDIR={target}: {reason}" in error_line(done)
    assert not job.report_path.exists()


def test_tmpdir_is_not_needed_when_no_secret_is_a_file(job, bao_server, tmp_path):
    ci = deploy_job(tmp_path, "DB: {vault: production/db/password@ops, file: false}\n")
    result = job.run("exec", "--job", "deploy", "--ci-file", ci, names=("DB",), TMPDIR=str(tmp_path / "missing"))
    assert result.returncode == 0, job.explain(result)


def test_without_tmpdir_secret_files_go_to_tmp(job, tmp_path):
    ci = deploy_job(tmp_path, "DB: {vault: production/db/password@ops}\n")
    result = job.run("exec", "--job", "deploy", "--ci-file", ci, names=("DB",), unset=("TMPDIR",))
    assert result.returncode == 0, job.explain(result)
    assert Path(job.report()["DB"]["path"]).parent.parent == Path("/tmp")


def test_radar_exits_with_the_commands_status(job, tmp_path):
    ci = deploy_job(tmp_path, "DB: {vault: production/db/password@ops}\n")
    result = job.run("exec", "--job", "deploy", "--ci-file", ci, names=("DB",), CHILD_THEN="exit:7")
    assert result.returncode == 7
    assert job.leftovers() == []


def test_files_are_removed_when_the_command_is_killed(job, tmp_path):
    ci = deploy_job(tmp_path, "DB: {vault: production/db/password@ops}\n")
    result = job.run("exec", "--job", "deploy", "--ci-file", ci, names=("DB",), CHILD_THEN="kill")
    assert result.returncode == 128 + signal.SIGKILL
    assert job.report()["DB"]["file"]
    assert not Path(job.report()["DB"]["path"]).exists() and job.leftovers() == []


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_files_are_removed_when_radar_is_signalled(job, tmp_path, signum):
    ci = deploy_job(tmp_path, "DB: {vault: production/db/password@ops}\n")
    proc = job.popen("exec", "--job", "deploy", "--ci-file", ci, names=("DB",), CHILD_THEN="wait")
    try:
        wait_for_file(job.report_path, proc)
        assert Path(job.report()["DB"]["path"]).exists()
        proc.send_signal(signum)
        proc.communicate(timeout=WAIT)
    finally:
        proc.kill()
    assert proc.returncode == 128 + signum  # forwarded to CMD, which died of it
    assert job.leftovers() == []


def test_sigterm_while_waiting_for_vault_stops_cleanly(tmp_path, jwt, bao_server):
    job = Job(tmp_path, bao_server, jwt, VAULT_SERVER_URL=f"http://127.0.0.1:{_closed_port()}")
    ci = deploy_job(tmp_path, "DB: {vault: production/db/password@ops}\n")
    proc = job.popen("exec", "--job", "deploy", "--ci-file", ci, "-v", "--vault-timeout", "300", names=("DB",))
    try:
        read_until(proc.stderr.fileno(), b"retrying")
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=WAIT)
    finally:
        proc.kill()
    assert proc.returncode == 128 + signal.SIGTERM
    assert b"stopped by SIGTERM before the command started" in err
    assert not job.report_path.exists() and job.leftovers() == []


def test_secrets_file_works_without_a_ci_file(job, bao_server, tmp_path):
    secrets = tmp_path / "secrets.yml"
    secrets.write_text(f"id_tokens: {{VAULT_ID_TOKEN: {{aud: {AUDIENCE}}}}}\n"
                       "secrets:\n  API_TOKEN: {vault: production/api/token@ops, file: false}\n")
    result = job.run("exec", "--secrets-file", secrets, names=("API_TOKEN",))
    assert result.returncode == 0, job.explain(result)
    assert job.report()["API_TOKEN"]["sha256"] == sha256(bao_server.value("ops/production/api", "token"))


def test_job_built_from_extends_default_and_references(tmp_path, bao_server, jwt):
    job = Job(tmp_path, bao_server, jwt, VAULT_PORT=bao_server.url.rsplit(":", 1)[1])
    ci = ci_file(tmp_path, f"""\
        variables:
          VAULT_SERVER_URL: http://127.0.0.1:$VAULT_PORT
          VAULT_AUTH_ROLE: {ROLE}
          SECRET_ENV: production
        default:
          id_tokens:
            VAULT_ID_TOKEN: {{aud: {AUDIENCE}}}
        .vault-db:
          secrets:
            DB_PASSWORD:
              vault: ${{SECRET_ENV}}/db/password@ops
        .deploy-base:
          extends: .vault-db
          secrets:
            DB_PASSWORD: {{file: false}}
        deploy:
          extends: .deploy-base
          secrets:
            DB_PASSWORD: !reference [.deploy-base, secrets, DB_PASSWORD]
            API_TOKEN: {{vault: production/api/token@ops}}
    """)
    result = job.run("exec", "--job", "deploy", "--ci-file", ci, names=("DB_PASSWORD", "API_TOKEN"),
                     unset=("VAULT_SERVER_URL",))
    assert result.returncode == 0, job.explain(result)
    seen = job.report()
    # The reference brought only {file: false}; extends merged the vault: path in from .vault-db.
    assert not seen["DB_PASSWORD"]["file"]
    assert seen["DB_PASSWORD"]["sha256"] == sha256(bao_server.value("ops/production/db", "password"))
    assert seen["API_TOKEN"]["sha256"] == sha256(bao_server.value("ops/production/api", "token"))


def test_ci_config_path_picks_the_default_ci_file(job, tmp_path):
    (tmp_path / "ci").mkdir()
    ci = deploy_job(tmp_path / "ci", "DB: {vault: production/db/password@ops}\n")
    result = job.run("exec", "--job", "deploy", names=("DB",), CI_CONFIG_PATH=str(ci))
    assert result.returncode == 0, job.explain(result)


# --- namespaces --------------------------------------------------------------------------------

def test_namespace_logs_in_and_reads_inside_it(job, bao_server, tmp_path):
    ci = deploy_job(tmp_path, "DB: {vault: production/db/password@ops, file: false}\n")
    result = job.run("exec", "--job", "deploy", "--ci-file", ci, names=("DB",), VAULT_NAMESPACE=NAMESPACE)
    assert result.returncode == 0, job.explain(result)
    assert job.report()["DB"]["sha256"] == sha256(bao_server.value(f"{NAMESPACE}/ops/production/db", "password"))


def test_unknown_namespace_is_named(job, tmp_path):
    ci = deploy_job(tmp_path, "DB: {vault: production/db/password@ops}\n")
    result = job.run("exec", "--job", "deploy", "--ci-file", ci, names=("DB",), VAULT_NAMESPACE="no-such-team")
    assert result.returncode == 1
    assert "Vault namespace not found: VAULT_NAMESPACE=no-such-team" in error_line(result)
    assert not job.report_path.exists()


# --- login rejections carry Vault's reason -----------------------------------------------------

@pytest.mark.parametrize("claims, reason", [
    ({"aud": "https://other.example.com"}, "invalid audience (aud) claim"),
    ({"project_id": "43"}, 'claim "project_id" does not match any associated bound claim values'),
    ({"ref_protected": True}, 'claim "ref_protected" does not match'),
    ({"exp": int(time.time()) - 3600, "iat": int(time.time()) - 7200, "nbf": int(time.time()) - 7200},
     "invalid expiration time (exp) claim: token is expired"),
    ({"iss": "https://evil.example.com"}, "invalid issuer (iss) claim"),
], ids=["audience", "bound-claim", "boolean-claim", "expired", "issuer"])
def test_login_rejection_reports_vaults_reason(tmp_path, bao_server, id_token_key, claims, reason):
    token = mint_id_token(id_token_key, **claims)
    job = Job(tmp_path, bao_server, token)
    ci = deploy_job(tmp_path, "DB: {vault: production/db/password@ops}\n")
    result = job.run("exec", "--job", "deploy", "--ci-file", ci, "-v", names=("DB",))
    assert result.returncode == 1
    line = error_line(result)
    assert "Vault login rejected" in line and reason in line and "VAULT_ID_TOKEN" in line
    assert not job.report_path.exists()
    assert_nothing_leaked(result, token)


def test_token_signed_by_an_unknown_key_is_rejected(tmp_path, bao_server):
    token = mint_id_token(new_signing_key())
    result = Job(tmp_path, bao_server, token).run(
        "exec", "--job", "deploy", "--ci-file", deploy_job(tmp_path, "DB: {vault: a/b@ops}\n"), names=("DB",))
    assert "no known key successfully validated the token signature" in error_line(result)
    assert_nothing_leaked(result, token)


def test_unknown_role_is_reported(job, tmp_path):
    ci = deploy_job(tmp_path, "DB: {vault: production/db/password@ops}\n")
    result = job.run("exec", "--job", "deploy", "--ci-file", ci, names=("DB",), VAULT_AUTH_ROLE="no-such-role")
    assert 'role "no-such-role" could not be found' in error_line(result)


def test_auth_path_without_jwt_auth_points_at_vault_auth_path(job, tmp_path):
    ci = deploy_job(tmp_path, "DB: {vault: production/db/password@ops}\n")
    result = job.run("exec", "--job", "deploy", "--ci-file", ci, names=("DB",), VAULT_AUTH_PATH="gitlab")
    assert "is JWT auth enabled at auth/gitlab? (VAULT_AUTH_PATH)" in error_line(result)


# --- reads: 403, 404, missing field ------------------------------------------------------------

def test_permission_denied_names_the_path(job, tmp_path):
    ci = deploy_job(tmp_path, "STAGING_DB: {vault: staging/db/password@ops}\n")
    result = job.run("exec", "--job", "deploy", "--ci-file", ci, names=("STAGING_DB",))
    assert result.returncode == 1
    line = error_line(result)
    assert "permission denied: STAGING_DB" in line and "ops/data/staging/db" in line


def test_missing_secret_is_secret_not_found_with_the_path_tried(job, tmp_path):
    ci = deploy_job(tmp_path, "MY_SECRET: {vault: production/nothing/password@ops}\n")
    result = job.run("exec", "--job", "deploy", "--ci-file", ci, names=("MY_SECRET",))
    assert result.returncode == 1
    assert error_line(result).endswith("secret not found: MY_SECRET (tried ops/data/production/nothing)")
    assert not job.report_path.exists()


def test_missing_field_is_secret_not_found(job, tmp_path):
    ci = deploy_job(tmp_path, "MY_SECRET: {vault: production/db/pasword@ops}\n")
    result = job.run("exec", "--job", "deploy", "--ci-file", ci, names=("MY_SECRET",))
    assert "secret not found: MY_SECRET (tried ops/data/production/db: no field 'pasword')" in error_line(result)


def test_missing_mount_is_secret_not_found_naming_the_mount(job, tmp_path):
    ci = deploy_job(tmp_path, "MY_SECRET: {vault: production/db/password@nomount}\n")
    result = job.run("exec", "--job", "deploy", "--ci-file", ci, names=("MY_SECRET",))
    assert "secret not found: MY_SECRET (tried nomount/data/production/db: no secrets engine is mounted at nomount/)" in error_line(result)


def test_one_failure_of_several_stops_the_job_and_counts_the_rest(job, tmp_path):
    ci = deploy_job(tmp_path, """\
        A: {vault: production/nothing/x@ops}
        B: {vault: production/db/password@ops}
        C: {vault: staging/db/password@ops}
    """)
    result = job.run("exec", "--job", "deploy", "--ci-file", ci, names=("A", "B", "C"))
    assert result.returncode == 1
    assert "secret not found: A" in error_line(result) and "1 more secret(s) failed: C" in error_line(result)
    assert not job.report_path.exists() and job.leftovers() == []


# --- settings and configuration errors ---------------------------------------------------------

def test_missing_vault_server_url_is_a_configuration_error(job, tmp_path):
    ci = deploy_job(tmp_path, "DB: {vault: production/db/password@ops}\n")
    result = job.run("exec", "--job", "deploy", "--ci-file", ci, names=("DB",), unset=("VAULT_SERVER_URL",))
    assert result.returncode == 2
    assert "VAULT_SERVER_URL is not set" in error_line(result)


def test_missing_id_token_variable_is_named(job, tmp_path):
    ci = deploy_job(tmp_path, "DB: {vault: production/db/password@ops}\n")
    result = job.run("exec", "--job", "deploy", "--ci-file", ci, names=("DB",), VAULT_ID_TOKEN="")
    assert result.returncode == 1
    assert "ID token variable VAULT_ID_TOKEN is not set" in error_line(result)


def test_malformed_yaml_reports_file_and_line(job, tmp_path):
    ci = ci_file(tmp_path, "deploy:\n  secrets:\n    DB: {vault: a/b@ops\n  script: [x]\n")
    result = job.run("exec", "--job", "deploy", "--ci-file", ci, names=("DB",))
    assert result.returncode == 2
    assert re.search(r"\.gitlab-ci\.yml:4:\d+: malformed YAML", error_line(result))


@pytest.mark.parametrize("entry, label", [
    ("aws_secrets_manager: {name: production/db}", "AWS Secrets Manager secret production/db"),
    ("akeyless: {name: /production/db}", "Akeyless secret /production/db"),
])
def test_providers_radar_does_not_fetch_from_say_so(job, tmp_path, entry, label):
    ci = deploy_job(tmp_path, f"DATABASE_PASSWORD:\n  {entry}\n  token: $VAULT_ID_TOKEN\n")
    result = job.run("exec", "--job", "deploy", "--ci-file", ci, names=("DATABASE_PASSWORD",))
    assert result.returncode == 2
    line = error_line(result)
    assert "secret DATABASE_PASSWORD" in line and label in line and "not supported yet" in line
    assert not job.report_path.exists()


def test_exec_without_a_command_is_a_usage_error(job, tmp_path):
    ci = deploy_job(tmp_path, "DB: {vault: production/db/password@ops}\n")
    result = job.run("exec", "--job", "deploy", "--ci-file", ci, "--")
    assert result.returncode == 2 and result.stderr.startswith(b"usage: radar exec ")
    assert result.stderr.decode().splitlines()[-1] == (
        "radar exec: error: name the command to run after '--', e.g. radar exec --job deploy -- ./deploy.sh")


# --- TLS ---------------------------------------------------------------------------------------

def test_tls_without_vault_cacert_explains_the_fix(tmp_path, bao_tls_server, jwt):
    job = Job(tmp_path, bao_tls_server, jwt)
    ci = deploy_job(tmp_path, "DB: {vault: production/db/password@secret}\n")
    result = job.run("exec", "--job", "deploy", "--ci-file", ci, names=("DB",))
    assert result.returncode == 1
    line = error_line(result)
    assert "x509: certificate signed by unknown authority" in line and "set VAULT_CACERT" in line


def test_tls_with_vault_cacert_works_and_requests_ca_bundle_does_not_override_it(tmp_path, bao_tls_server, jwt):
    job = Job(tmp_path, bao_tls_server, jwt, VAULT_CACERT=str(bao_tls_server.ca_file),
              REQUESTS_CA_BUNDLE=certifi.where(), CURL_CA_BUNDLE=certifi.where(), SSL_CERT_FILE=certifi.where())
    ci = deploy_job(tmp_path, "DB: {vault: production/db/password@secret}\n")
    result = job.run("exec", "--job", "deploy", "--ci-file", ci, names=("DB",))
    assert result.returncode == 0, job.explain(result)
    assert job.report()["DB"]["sha256"] == sha256(bao_tls_server.value("secret/production/db", "password"))


def test_tls_with_the_wrong_ca_in_vault_cacert_names_it(tmp_path, bao_tls_server, bao_server, jwt):
    wrong_ca = tmp_path / "other-ca.pem"
    wrong_ca.write_bytes(Path(certifi.where()).read_bytes())  # public CAs: none signed the dev server
    job = Job(tmp_path, bao_tls_server, jwt, VAULT_CACERT=str(wrong_ca))
    ci = deploy_job(tmp_path, "DB: {vault: production/db/password@secret}\n")
    line = error_line(job.run("exec", "--job", "deploy", "--ci-file", ci, names=("DB",)))
    assert f"VAULT_CACERT={wrong_ca} does not hold the CA that signed Vault's certificate" in line


# --- unreachable and sealed --------------------------------------------------------------------

def _closed_port() -> int:
    from vault_fixtures import free_port

    return free_port()  # bound then released: nothing listens there


def test_unreachable_vault_fails_after_the_retry_budget(tmp_path, bao_server, jwt):
    job = Job(tmp_path, bao_server, jwt, VAULT_SERVER_URL=f"http://127.0.0.1:{_closed_port()}")
    ci = deploy_job(tmp_path, "DB: {vault: production/db/password@ops}\nAPI: {vault: production/api/token@ops}\n")
    result = job.run("exec", "--job", "deploy", "--ci-file", ci, "--vault-timeout", "0.5", names=("DB",))
    assert result.returncode == 1
    line = error_line(result)
    assert "is unavailable: unreachable (connection refused)" in line and "within --vault-timeout (0.5 s)" in line
    assert b"radar: warning: POST auth/jwt/login: unreachable (connection refused); retrying in" in result.stderr


@pytest.fixture
def sealable_server(tmp_path_factory, id_token_key):
    server = start_bao(tmp_path_factory.mktemp("bao-sealed"))
    try:
        configure_gitlab_jwt(server, id_token_key, policy_paths=("secret/data/*",))
        server.put_secret("secret", "production/db", {"password": "sealed-then-unsealed-value"})
        server.api("POST", "sys/seal")
        yield server
    finally:
        stop_bao(server)


def test_sealed_vault_is_retried_until_it_is_unsealed(tmp_path, sealable_server, jwt):
    job = Job(tmp_path, sealable_server, jwt)
    ci = deploy_job(tmp_path, "DB: {vault: production/db/password@secret, file: false}\n")
    sealed = job.run("exec", "--job", "deploy", "--ci-file", ci, "--vault-timeout", "0.3", names=("DB",))
    assert sealed.returncode == 1 and "sealed" in error_line(sealed)

    proc = job.popen("exec", "--job", "deploy", "--ci-file", ci, "-v", "--vault-timeout", "120", names=("DB",))
    try:
        read_until(proc.stderr.fileno(), b"retrying")
        sealable_server.api("POST", "sys/unseal", {"key": sealable_server.unseal_key()})
        proc.communicate(timeout=WAIT)
    finally:
        proc.kill()
    assert proc.returncode == 0
    assert job.report()["DB"]["sha256"] == sha256(b"sealed-then-unsealed-value")


# --- radar secrets check -----------------------------------------------------------------------

def test_check_reports_each_secret_without_values(job, bao_server, tmp_path):
    ci = deploy_job(tmp_path, """\
        DB_PASSWORD: {vault: production/db/password@ops}
        API_TOKEN: {vault: production/api/token@ops, file: false}
        STAGING: {vault: staging/db/password@ops}
        GONE: {vault: production/gone/x@ops}
    """)
    result = job.run("secrets", "check", "--job", "deploy", "--ci-file", ci, "-v")
    assert_nothing_leaked(result, job.jwt, *bao_server.all_values())
    assert result.returncode == 1
    lines = result.stdout.decode().splitlines()
    assert lines[0].startswith("OK\tDB_PASSWORD\tvault ops/data/production/db field password\tfile")
    assert lines[1].startswith("OK\tAPI_TOKEN\t") and lines[1].endswith("\tvariable")
    assert lines[2].startswith("FAILED\tSTAGING\t") and "permission denied" in lines[2]
    assert lines[3].startswith("FAILED\tGONE\t") and "secret not found: GONE (tried ops/data/production/gone)" in lines[3]
    assert lines[4] == f"2 of 4 secret(s) of job deploy in {ci} resolve"


def test_check_exits_0_when_everything_resolves_and_writes_no_file(job, tmp_path):
    ci = deploy_job(tmp_path, "DB: {vault: production/db/password@ops}\n")
    result = job.run("secrets", "check", "--job", "deploy", "--ci-file", ci)
    assert result.returncode == 0, result.stdout.decode()
    assert job.leftovers() == []


def test_check_lists_unsupported_providers_as_failed(job, tmp_path):
    ci = deploy_job(tmp_path, """\
        DB: {vault: production/db/password@ops}
        AWS: {aws_secrets_manager: {name: test, version: '1'}}
    """)
    result = job.run("secrets", "check", "--job", "deploy", "--ci-file", ci)
    assert result.returncode == 1
    assert "FAILED\tAWS\tAWS Secrets Manager secret test version 1" in result.stdout.decode()
    assert "not supported yet" in result.stdout.decode()


def test_check_config_error_exits_2(job, tmp_path):
    result = job.run("secrets", "check", "--job", "nope", "--ci-file", deploy_job(tmp_path, "DB: {vault: a/b@ops}\n"))
    assert result.returncode == 2 and "no job named 'nope'" in error_line(result)


def test_check_shows_hostile_paths_from_the_ci_file_escaped_one_row_each(job, tmp_path):
    # A secret's path is the CI file author's text: a tab or a line break in it must not add a
    # column or a row to the tab-separated lines, nor an escape sequence reach the terminal.
    ci = deploy_job(tmp_path, 'DB: {vault: "prod\\tuction/g\\none/x\\x1b[2J@ops", file: false}\n')
    result = job.run("secrets", "check", "--job", "deploy", "--ci-file", ci)
    lines = result.stdout.decode().splitlines()
    assert result.returncode == 1 and len(lines) == 2
    assert lines[0].startswith("FAILED\tDB\tvault ops/data/prod\\tuction/g\\none field x\\x1b[2J\tvariable\t")
    assert "\x1b" not in result.stdout.decode()


def test_check_on_a_terminal_prints_a_table(job, bao_server, tmp_path):
    import pty

    ci = deploy_job(tmp_path, "DB_PASSWORD: {vault: production/db/password@ops}\nGONE: {vault: production/gone/x@ops}\n")
    controller, terminal = pty.openpty()
    proc = subprocess.Popen(job.argv("secrets", "check", "--job", "deploy", "--ci-file", ci), stdout=terminal,
                            stderr=subprocess.PIPE, env={**job.env, "COLUMNS": "200", "TERM": "xterm"}, cwd=tmp_path)
    os.close(terminal)
    screen = b""
    while True:
        try:
            chunk = os.read(controller, 65536)
        except OSError:  # EIO: the terminal's other side closed
            break
        if not chunk:
            break
        screen += chunk
    os.close(controller)
    _, err = proc.communicate(timeout=WAIT)
    assert_nothing_leaked(Run(proc.args, proc.returncode, screen, err), job.jwt, *bao_server.all_values())
    assert proc.returncode == 1
    text = re.sub(r"\x1b\[[0-9;]*m", "", screen.decode())
    assert "Variable" in text and "Reason" in text
    assert re.search(r"DB_PASSWORD\s*│\s*OK", text) and re.search(r"GONE\s*│\s*FAILED", text)
    assert "1 of 2 secret(s)" in text


# --- proxies -----------------------------------------------------------------------------------

class _Proxy(socketserver.ThreadingTCPServer):
    """A tiny forward proxy on loopback: CONNECT tunnels and absolute-form HTTP requests."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _ProxyHandler)
        self.seen: list[tuple[str, str]] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _ProxyHandler(socketserver.StreamRequestHandler):
    def handle(self) -> None:
        method, target, _ = self.rfile.readline().decode().split()
        headers = []
        while (line := self.rfile.readline()) not in (b"\r\n", b"\n", b""):
            headers.append(line)
        self.server.seen.append((method, target))
        if method == "CONNECT":
            host, port = target.rsplit(":", 1)
            with socket.create_connection((host, int(port))) as upstream:
                self.wfile.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
                self.wfile.flush()
                _relay(self.connection, upstream)
            return
        parts = urllib.parse.urlsplit(target)
        length = next((int(h.split(b":")[1]) for h in headers if h.lower().startswith(b"content-length:")), 0)
        body = self.rfile.read(length)
        kept = [h for h in headers if not h.lower().startswith((b"connection:", b"proxy-"))]
        with socket.create_connection((parts.hostname, parts.port)) as upstream:
            upstream.sendall(f"{method} {parts.path} HTTP/1.1\r\n".encode() + b"".join(kept)
                             + b"Connection: close\r\n\r\n" + body)
            while chunk := upstream.recv(65536):
                self.wfile.write(chunk)


def _relay(a: socket.socket, b: socket.socket) -> None:
    while True:
        ready, _, _ = select.select([a, b], [], [], WAIT)
        if not ready:
            return
        for sock in ready:
            data = sock.recv(65536)
            if not data:
                return
            (b if sock is a else a).sendall(data)


@pytest.fixture
def proxy():
    server = _Proxy()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_https_goes_through_the_proxy_in_https_proxy(tmp_path, bao_tls_server, jwt, proxy):
    job = Job(tmp_path, bao_tls_server, jwt, VAULT_CACERT=str(bao_tls_server.ca_file), HTTPS_PROXY=proxy.url)
    ci = deploy_job(tmp_path, "DB: {vault: production/db/password@secret}\n")
    result = job.run("exec", "--job", "deploy", "--ci-file", ci, names=("DB",))
    assert result.returncode == 0, job.explain(result)
    assert job.report()["DB"]["sha256"] == sha256(bao_tls_server.value("secret/production/db", "password"))
    assert ("CONNECT", bao_tls_server.url.removeprefix("https://")) in proxy.seen


def test_http_goes_through_the_proxy_in_absolute_form_unless_no_proxy_says_otherwise(job, bao_server, tmp_path, proxy):
    ci = deploy_job(tmp_path, "DB: {vault: production/db/password@ops}\nAPI: {vault: production/api/token@ops}\n")
    result = job.run("exec", "--job", "deploy", "--ci-file", ci, names=("DB", "API"), http_proxy=proxy.url)
    assert result.returncode == 0, job.explain(result)
    assert ("POST", f"{bao_server.url}/v1/auth/jwt/login") in proxy.seen
    assert ("GET", f"{bao_server.url}/v1/ops/data/production/db") in proxy.seen
    proxy.seen.clear()
    result = job.run("exec", "--job", "deploy", "--ci-file", ci, names=("DB",), http_proxy=proxy.url, no_proxy="127.0.0.1")
    assert result.returncode == 0 and proxy.seen == []


def test_a_job_without_secrets_still_runs_masked(job, tmp_path):
    ci = tmp_path / "plain.yml"
    ci.write_text("build:\n  script: [make]\n")
    env_secret = "env-secret-value-77"
    result = job.run("exec", "--job", "build", "--ci-file", ci, "--", "sh", "-c", "echo out $DEPLOY_TOKEN",
                     DEPLOY_TOKEN=env_secret)
    assert result.returncode == 0, job.explain(result)
    assert result.stdout == b"out [MASKED]\n"
    assert b"defines no secrets" in result.stderr
