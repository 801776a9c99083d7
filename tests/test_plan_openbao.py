"""The plan, applied to a real OpenBao: its policy, role, kv put and stanza deliver the values.

A repository with a production password and a production deploy key is scanned with
`radar scan --plan plan.json`; the test then does what the plan says, with OpenBao's own CLI
where the plan gives a command: enables the KV v2 mount it names, `bao policy write`s the
policy, writes the role to `auth/jwt/role/NAME`, runs the plan's `kv put` template (with `bao`
for `vault`) against 0600 files holding the values, saves the stanza as `.gitlab-ci.yml`, and
runs `radar exec --job` with an ID token carrying the planned project's claims. CMD compares
SHA-256 digests: no value is ever printed. Tokens for another project, an unprotected ref, a scheduled pipeline or
another environment are refused with radar's one-line error.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from radar_cli import RADAR, WAIT, assert_absent, clean_env
from vault_fixtures import ROOT_TOKEN, bao_binary, mint_id_token, mount, new_signing_key, random_value, sha256

MOUNT = "plan-kv"
PROJECT = "mygroup/myproject"
PROJECT_ID = "42"
# CMD for radar exec: exit 0 when each NAME=SHA256 argument matches the variable (or, for a
# path, the file it names); 1 otherwise. Prints only which names matched, never a value.
CHECK = textwrap.dedent("""\
    import hashlib, os, sys
    ok = True
    for pair in sys.argv[1:]:
        name, want = pair.split("=", 1)
        value = os.environ.get(name, "")
        is_file = os.path.isabs(value) and os.path.isfile(value)
        data = open(value, "rb").read() if is_file else value.encode()
        match = hashlib.sha256(data).hexdigest() == want
        print(name, "file" if is_file else "variable", "match" if match else "MISMATCH")
        ok = ok and match
    sys.exit(0 if ok else 1)
""")


class Scanned:
    """A planted repository, its plan (JSON) and the values, kept out of every repr."""

    def __init__(self, root: Path, plan: dict, values: dict[str, str]) -> None:
        self.root, self.plan, self._values = root, plan, values
        self.work = root  # where `applied` wrote the policy, role and CI files

    def value(self, name: str) -> str:
        return self._values[name]

    def planted(self, entry: dict) -> str:
        """Which planted value a plan entry is about, by the file it was found in."""
        files = {"config/production.yml": "password", "deploy/prod/deploy_key.pem": "key", ".env.staging": "staging"}
        return files[entry["places"][0]["path"]]

    def variable(self, environment: str, planted: str) -> str:
        """The CI/CD variable the target's stanza gives the planted value."""
        entry = next(e for e in self.plan["entries"] if self.planted(e) == planted)
        return next(s["variable"] for s in self.target(environment)["secrets"] if s["vault"] == entry["vault"])

    def target(self, environment: str) -> dict:
        return next(t for t in self.plan["targets"] if t["environment"] == environment)

    def __repr__(self) -> str:
        return f"Scanned({self.root})"


@pytest.fixture(scope="module")
def scanned(tmp_path_factory) -> Scanned:
    root = tmp_path_factory.mktemp("plan-repo")
    password = random_value() + "Zq9"
    staging_token = random_value() + "Kx7"
    key_pem = new_signing_key().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
    ).decode()
    (root / "config").mkdir()
    (root / "config" / "production.yml").write_text(f"database:\n  password: \"{password}\"\n")
    (root / "deploy" / "prod").mkdir(parents=True)
    (root / "deploy" / "prod" / "deploy_key.pem").write_text(key_pem)
    (root / ".env.staging").write_text(f"API_TOKEN={staging_token}\n")
    plan_path = root.parent / f"{root.name}-plan.json"
    result = subprocess.run(
        [*RADAR, "scan", str(root), "--format", "json", "--plan", str(plan_path), "--project", PROJECT,
         "--project-id", PROJECT_ID, "--mount", MOUNT],
        capture_output=True, timeout=WAIT, env=clean_env(RADAR_FINGERPRINT_KEY="plan-e2e"),
    )
    assert result.returncode == 1, result.stderr.decode()  # findings: exit 1
    plan = json.loads(plan_path.read_text())
    values = {"password": password, "key": key_pem, "staging": staging_token}
    text = plan_path.read_text()
    assert not [name for name, value in values.items() if value.strip() in text]
    return Scanned(root, plan, values)


@pytest.fixture(scope="module")
def applied(scanned, bao_server, tmp_path_factory) -> Scanned:
    """Everything the plan says to do, done on the session's OpenBao."""
    work = tmp_path_factory.mktemp("plan-apply")
    bao_env = {"PATH": os.environ["PATH"], "HOME": str(work), "BAO_ADDR": bao_server.url,
               "BAO_TOKEN": ROOT_TOKEN, "VAULT_ADDR": bao_server.url, "VAULT_TOKEN": ROOT_TOKEN}
    mount(bao_server, scanned.plan["plan"]["kv_mount"], 2)
    by_field = {e["field"]: scanned.value(scanned.planted(e)) for e in scanned.plan["entries"]}
    for write in scanned.plan["writes"]:
        argv = shlex.split(write["command"])
        assert argv[:3] == ["vault", "kv", "put"]
        assert argv[5:] == [f"{field}=@{write['files'][field]}" for field in write["fields"]]
        for field in write["fields"]:
            secret = work / write["files"][field]
            fd = os.open(secret, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(by_field[field])
        try:
            done = subprocess.run([bao_binary(), *argv[1:]], cwd=work, env=bao_env, capture_output=True, timeout=WAIT)
        finally:
            for field in write["fields"]:
                (work / write["files"][field]).unlink()
        assert done.returncode == 0, done.stderr.decode()[-500:]
    for target in scanned.plan["targets"]:
        name = target["policy_name"]
        (work / f"{name}.hcl").write_text(target["policy_hcl"])
        done = subprocess.run([bao_binary(), "policy", "write", name, f"{name}.hcl"], cwd=work, env=bao_env,
                              capture_output=True, timeout=WAIT)
        assert done.returncode == 0, done.stderr.decode()[-500:]
        bao_server.api("POST", f"auth/{scanned.plan['plan']['auth_path']}/role/{target['role_name']}", target["role"])
        (work / f"{name}.gitlab-ci.yml").write_text(target["ci_yaml"])
    scanned.work = work
    return scanned


def run_job(applied: Scanned, bao_server, tmp_path: Path, environment: str, token: str,
            expected: dict[str, str]) -> subprocess.CompletedProcess[bytes]:
    target = applied.target(environment)
    ci_file = applied.work / f"{target['policy_name']}.gitlab-ci.yml"
    checks = [f"{name}={digest}" for name, digest in expected.items()]
    env = clean_env(VAULT_SERVER_URL=bao_server.url, VAULT_ID_TOKEN=token, TMPDIR=str(tmp_path))
    return subprocess.run(
        [*RADAR, "exec", "--ci-file", str(ci_file), "--job", f"{target['role_name']}-job", "--",
         sys.executable, "-c", CHECK, *checks],
        capture_output=True, timeout=WAIT, env=env, cwd=tmp_path,
    )


def production_token(key, **claims) -> str:
    return mint_id_token(key, **{"project_id": PROJECT_ID, "project_path": PROJECT, "ref": "main",
                                 "ref_type": "branch", "ref_protected": "true", "environment": "production",
                                 "aud": "https://vault.example.com", **claims})


def assert_refused(result: subprocess.CompletedProcess[bytes], applied: Scanned, reason: str) -> None:
    assert result.returncode == 1
    assert result.stderr.startswith(b"radar: error: ") and result.stderr.count(b"\n") == 1, result.stderr[-400:]
    assert b"Traceback" not in result.stderr
    assert reason.encode() in result.stderr
    assert_absent([applied.value(name).encode()[:40] for name in ("password", "key", "staging")],
                  result.stdout + result.stderr)


def test_the_plan_binds_production_to_the_project_protected_refs_and_environment(scanned):
    target = scanned.target("production")
    assert target["role"]["bound_claims"] == {"project_id": PROJECT_ID, "ref_protected": "true", "ref_type": "branch",
                                              "ref": "main", "pipeline_source": "push", "environment": "production",
                                              "environment_protected": "true"}
    assert target["role"]["bound_claims_type"] == "string"
    assert target["role"]["token_explicit_max_ttl"] <= 300
    assert scanned.plan["plan"]["complete"] is True
    assert {s["file"] for s in target["secrets"]} == {True, False}  # the key as a file, the password not


def test_a_production_job_receives_the_planned_values(applied, bao_server, id_token_key, tmp_path):
    password, key = applied.variable("production", "password"), applied.variable("production", "key")
    expected = {password: sha256(applied.value("password").encode()), key: sha256(applied.value("key").encode())}
    result = run_job(applied, bao_server, tmp_path, "production", production_token(id_token_key), expected)
    assert result.returncode == 0, result.stderr[-400:]
    assert sorted(result.stdout.decode().splitlines()) == sorted([f"{password} variable match", f"{key} file match"])


def test_a_staging_job_receives_its_value(applied, bao_server, id_token_key, tmp_path):
    token = production_token(id_token_key, ref="develop", environment="staging")
    variable = applied.variable("staging", "staging")
    result = run_job(applied, bao_server, tmp_path, "staging", token, {variable: sha256(applied.value("staging").encode())})
    assert result.returncode == 0, result.stderr[-400:]
    assert result.stdout == f"{variable} variable match\n".encode()


@pytest.mark.parametrize("claims, reason", [
    ({"project_id": "43"}, 'claim "project_id" does not match'),
    ({"ref_protected": "false"}, 'claim "ref_protected" does not match'),
    ({"pipeline_source": "schedule"}, 'claim "pipeline_source" does not match'),
    ({"environment": "staging"}, 'claim "environment" does not match'),
    ({"aud": "https://other.example.com"}, "invalid audience (aud) claim"),
], ids=["another-project", "unprotected-ref", "scheduled-pipeline", "another-environment", "another-audience"])
def test_the_production_role_refuses_other_tokens(applied, bao_server, id_token_key, tmp_path, claims, reason):
    result = run_job(applied, bao_server, tmp_path, "production", production_token(id_token_key, **claims),
                     {"X": "0" * 64})
    assert_refused(result, applied, reason)


def test_the_staging_role_cannot_read_production_paths(applied, bao_server):
    staging = applied.target("staging")
    production_paths = applied.target("production")["read_paths"]
    assert set(production_paths) <= set(staging["deny_paths"])
    for path in production_paths:
        answer = bao_server.api("POST", "sys/capabilities", {"token": _staging_vault_token(applied, bao_server),
                                                             "paths": [path]})
        assert answer["capabilities"] == ["deny"]


def _staging_vault_token(applied: Scanned, bao_server) -> str:
    """A Vault token with exactly the staging policy, as the staging role would issue."""
    answer = bao_server.api("POST", "auth/token/create",
                            {"policies": [applied.target("staging")["policy_name"]], "ttl": "60s"})
    return answer["auth"]["client_token"]
