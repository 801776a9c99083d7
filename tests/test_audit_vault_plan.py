"""`radar audit vault` on what `radar plan` generates, applied to a fresh OpenBao: the plan's roles
and policies must trip no rule: what the audit asks of a role is what the plan binds.

The repository holds a production password, a production deploy key and a staging token (as in
tests/test_plan_openbao.py); the JWT mount is configured as the plan's Vault setup says (issuer
and keys), and every policy and role of the plan is written as its commands do.
"""

from __future__ import annotations

import json
import subprocess

import pytest
from cryptography.hazmat.primitives import serialization

from radar_cli import RADAR, WAIT, assert_absent, clean_env, radar
from vault_fixtures import ISSUER, ROOT_TOKEN, new_signing_key, public_pem, random_value, start_bao, stop_bao


@pytest.fixture(scope="module")
def plan(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("audit-plan-repo")
    key_pem = new_signing_key().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
    ).decode()
    (root / "config").mkdir()
    (root / "config" / "production.yml").write_text(f"database:\n  password: \"{random_value()}Zq9\"\n")
    (root / "deploy" / "prod").mkdir(parents=True)
    (root / "deploy" / "prod" / "deploy_key.pem").write_text(key_pem)
    (root / ".env.staging").write_text(f"API_TOKEN={random_value()}Kx7\n")
    plan_path = root.parent / f"{root.name}-plan.json"
    result = subprocess.run(
        [*RADAR, "scan", str(root), "--format", "json", "--plan", str(plan_path), "--project", "mygroup/myproject",
         "--project-id", "42"], capture_output=True, timeout=WAIT, env=clean_env(RADAR_FINGERPRINT_KEY="audit-plan"))
    assert result.returncode == 1, result.stderr.decode()
    return json.loads(plan_path.read_text())


@pytest.fixture(scope="module")
def applied(plan, tmp_path_factory):
    server = start_bao(tmp_path_factory.mktemp("bao-audit-plan"))
    try:
        auth = plan["plan"]["auth_path"]
        server.api("POST", f"sys/auth/{auth}", {"type": "jwt"})
        server.api("POST", f"auth/{auth}/config", {"jwt_validation_pubkeys": [public_pem(new_signing_key())],
                                                   "bound_issuer": ISSUER})
        for target in plan["targets"]:
            server.api("POST", f"sys/policies/acl/{target['policy_name']}", {"policy": target["policy_hcl"]})
            server.api("POST", f"auth/{auth}/role/{target['role_name']}", target["role"])
        yield server
    finally:
        stop_bao(server)


def test_the_plan_trips_no_rule(plan, applied):
    result = radar("audit", "vault", "--format", "json",
                   env=clean_env(VAULT_ADDR=applied.url, VAULT_TOKEN=ROOT_TOKEN, RADAR_FINGERPRINT_KEY="audit-plan"))
    assert_absent([ROOT_TOKEN], result.stdout, result.stderr)
    assert result.stderr == b""
    assert {t["environment"] for t in plan["targets"]} >= {"production", "staging"}
    production = [t for t in plan["targets"] if t["environment"] == "production"]
    assert production and all("pipeline_source" in t["role"]["bound_claims"] for t in production)
    assert [(f["rule_id"], f["path"]) for f in json.loads(result.stdout)["findings"]] == []
    assert result.returncode == 0
