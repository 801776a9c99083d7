"""Every role of a plan, claim by claim, on a real OpenBao.

`radar plan --format json` plans a production password, a staging token and a deploy key with no
environment (`shared`) for project 42, with a mapping that lets production deploy from `main`
or `stable` and from push or web pipelines. The test applies the plan's policies and roles to a
JWT auth mount of its own on the session's OpenBao, stores random values where the plan says,
then, for every role, logs in with ID tokens that differ from the right one in exactly one
claim (pipeline_source, ref, ref_type, ref_protected, environment, environment_protected,
project_id, aud). A token is refused exactly when the role binds the claim it changes (aud
always), with OpenBao's message naming that claim; the right token logs in and reads each of
its secrets (compared by SHA-256, never printed), and no other role's paths.
"""

from __future__ import annotations

import json

import pytest
import requests

from radar_cli import clean_env, radar
from vault_fixtures import AUDIENCE, ISSUER, mint_id_token, public_pem, random_value, sha256

PROJECT, PROJECT_ID = "mygroup/myproject", "42"
AUTH, MOUNT = "jwt-planroles", "planroles-kv"
MAPPING = f"""\
[vault]
mount = "{MOUNT}"
auth_path = "{AUTH}"
audience = "{AUDIENCE}"

[roles]
protected_refs = ["main", "stable"]
pipeline_sources = ["push", "web"]

[project]
path = "{PROJECT}"
id = {PROJECT_ID}
"""
# The one change per claim: a value no planned role allows.
CHANGES = {
    "pipeline_source": "schedule", "ref": "feature/login", "ref_type": "tag", "ref_protected": "false",
    "environment": "review/login", "environment_protected": "false", "project_id": "43",
    "aud": "https://other.example.com",
}


def finding(path: str, fingerprint: str, name: str) -> dict:
    return {"rule_id": "generic-password", "secret_type": "Password", "description": "Password", "path": path,
            "line": 1, "column": 1, "end_line": 1, "end_column": 20, "severity": "high", "confidence": "high",
            "fingerprint": fingerprint, "preview": "[redacted]", "tags": [], "ignored": False, "name": name}


class Applied:
    """The plan, applied; the stored values by `mount/path` then field, kept out of every repr."""

    def __init__(self, url: str, plan: dict, values: dict[str, dict[str, str]]) -> None:
        self.url, self.plan, self._values = url, plan, values

    def digest(self, vault: str) -> str:
        path_field, mount = vault.rsplit("@", 1)
        path, field = path_field.rsplit("/", 1)
        return sha256(self._values[f"{mount}/{path}"][field].encode())

    def __repr__(self) -> str:
        return f"Applied({self.url})"


@pytest.fixture(scope="module")
def applied(bao_server, id_token_key, tmp_path_factory) -> Applied:
    work = tmp_path_factory.mktemp("plan-claims")
    report = {"findings": [finding("config/production.yml", "1" * 64, "DB_PASSWORD"),
                           finding(".env.staging", "2" * 64, "API_TOKEN"),
                           finding("keys/deploy.txt", "3" * 64, "DEPLOY_TOKEN")],
              "summary": {"findings": 3},
              "scan": {"kind": "directory", "target": "app", "root": "/work/app", "started": "2024-03-01T12:00:00Z",
                       "finished": "2024-03-01T12:00:05Z", "radar_version": "0.1.0"}}
    (work / "findings.json").write_text(json.dumps(report))
    (work / "mapping.toml").write_text(MAPPING)
    result = radar("plan", work / "findings.json", "--mapping", work / "mapping.toml", "--format", "json",
                   "--output", work / "plan.json", env=clean_env(RADAR_FINGERPRINT_KEY="plan-claims"))
    assert result.returncode == 0, result.stderr
    plan = json.loads((work / "plan.json").read_text())

    bao_server.api("POST", f"sys/auth/{AUTH}", {"type": "jwt"})
    bao_server.api("POST", f"auth/{AUTH}/config", {"jwt_validation_pubkeys": [public_pem(id_token_key)],
                                                   "bound_issuer": ISSUER})
    bao_server.api("POST", f"sys/mounts/{MOUNT}", {"type": "kv", "options": {"version": "2"}})
    values: dict[str, dict[str, str]] = {}
    for write in plan["writes"]:
        data = {field: random_value() for field in write["fields"]}
        bao_server.api("POST", f"{write['mount']}/data/{write['path']}", {"data": data})
        values[f"{write['mount']}/{write['path']}"] = data
    for target in plan["targets"]:
        bao_server.api("POST", f"sys/policies/acl/{target['policy_name']}", {"policy": target["policy_hcl"]})
        bao_server.api("POST", f"auth/{AUTH}/role/{target['role_name']}", target["role"])
    return Applied(bao_server.url, plan, values)


def right_claims(target: dict) -> dict:
    """The claims of a job the target's role is for: pushed to protected main, deploying to its environment."""
    return {"project_id": PROJECT_ID, "project_path": PROJECT, "ref": "main", "ref_type": "branch",
            "ref_path": "refs/heads/main", "ref_protected": "true", "pipeline_source": "push",
            "environment": None if target["environment"] == "shared" else target["environment"],
            "environment_protected": "true", "aud": AUDIENCE}


def login(applied: Applied, target: dict, token: str) -> requests.Response:
    return requests.post(f"{applied.url}/v1/auth/{AUTH}/login", json={"role": target["role_name"], "jwt": token},
                         timeout=10)


def targets(applied: Applied) -> list[dict]:
    return applied.plan["targets"]


def test_the_plan_has_a_role_for_production_staging_and_shared(applied):
    assert sorted(t["environment"] for t in targets(applied)) == ["production", "shared", "staging"]


def test_the_right_token_logs_in_and_reads_each_secret_of_its_role_and_nothing_of_the_others(applied, id_token_key):
    for target in targets(applied):
        answer = login(applied, target, mint_id_token(id_token_key, **right_claims(target)))
        assert answer.status_code == 200, (target["role_name"], answer.text[:300])
        vault_token = answer.json()["auth"]["client_token"]
        for secret in target["secrets"]:
            path_field, mount = secret["vault"].rsplit("@", 1)
            path, field = path_field.rsplit("/", 1)
            read = requests.get(f"{applied.url}/v1/{mount}/data/{path}", headers={"X-Vault-Token": vault_token},
                                timeout=10)
            assert read.status_code == 200, (target["role_name"], secret["vault"])
            # Compare digests, so a failure never prints a value.
            assert sha256(read.json()["data"]["data"][field].encode()) == applied.digest(secret["vault"])
        others = {p for t in targets(applied) for p in t["read_paths"]} - set(target["read_paths"])
        for path in sorted(others):
            read = requests.get(f"{applied.url}/v1/{path}", headers={"X-Vault-Token": vault_token}, timeout=10)
            assert read.status_code == 403, (target["role_name"], path)


@pytest.mark.parametrize("claim", sorted(CHANGES))
def test_a_token_differing_in_one_claim_is_refused_exactly_by_the_roles_that_bind_it(applied, id_token_key, claim):
    for target in targets(applied):
        bound = claim == "aud" or claim in target["role"]["bound_claims"]
        answer = login(applied, target, mint_id_token(id_token_key, **{**right_claims(target), claim: CHANGES[claim]}))
        if bound:
            assert answer.status_code == 400, (target["role_name"], claim, answer.status_code)
            error = answer.json()["errors"][0]
            expected = "invalid audience (aud) claim" if claim == "aud" else f'claim "{claim}" does not match'
            assert expected in error, (target["role_name"], claim, error)
        else:
            assert answer.status_code == 200, (target["role_name"], claim, answer.text[:300])


def test_production_binds_every_claim_and_the_others_bind_protected_refs(applied):
    bound = {t["environment"]: set(t["role"]["bound_claims"]) for t in targets(applied)}
    assert bound["production"] == set(CHANGES) - {"aud"}
    assert bound["staging"] == {"project_id", "ref_protected", "environment"}
    assert bound["shared"] == {"project_id", "ref_protected"}


@pytest.mark.parametrize("claims", [{"ref": "stable", "ref_path": "refs/heads/stable"}, {"pipeline_source": "web"}],
                         ids=["second-protected-ref", "second-pipeline-source"])
def test_production_admits_any_of_the_listed_refs_and_pipeline_sources(applied, id_token_key, claims):
    production = next(t for t in targets(applied) if t["environment"] == "production")
    answer = login(applied, production, mint_id_token(id_token_key, **{**right_claims(production), **claims}))
    assert answer.status_code == 200, answer.text[:300]


def test_a_token_without_environment_protected_is_refused_by_production(applied, id_token_key):
    production = next(t for t in targets(applied) if t["environment"] == "production")
    answer = login(applied, production,
                   mint_id_token(id_token_key, **{**right_claims(production), "environment_protected": None}))
    assert answer.status_code == 400 and "environment_protected" in answer.json()["errors"][0]
