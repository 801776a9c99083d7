"""`radar scan gitlab --plan`: GitLab's own ids bind the roles, scopes give the environments, a value
shared by two projects is one entry, unmasked variables are rotated first, CI-file risks are fixes."""

from __future__ import annotations

import json

import pytest

from gitlab_fake import TOKEN, FakeGitLab, Group, Project, gitlab_server, variable  # noqa: F401
from radar.scan.examples import expand
from radar_cli import clean_env, radar

ENV = clean_env(RADAR_FINGERPRINT_KEY="plan-gitlab", GITLAB_TOKEN=TOKEN)
SHARED_TOKEN = "glpat-" + expand("{b64url:20}", "plan-gitlab-shared")
DB_PASSWORD = "Pw7kQ2xZ9mL4vN8rT3yB"
GROUP_SECRET = "Gs4mW8kT2nV6bR9xL3pJ"
CI_FILE = "deploy:\n  script:\n    - vault login -method=jwt jwt=$CI_JOB_JWT_V2\n"


@pytest.fixture
def plan(gitlab_server: FakeGitLab, tmp_path) -> dict:
    gl = gitlab_server
    gl.groups = [Group(1, "acme", [variable("GROUP_DEPLOY_PASSWORD", GROUP_SECRET, protected=True, masked=True)])]
    gl.projects = [
        Project(10, "acme/api", files={".gitlab-ci.yml": CI_FILE}, variables=[
            variable("DEPLOY_TOKEN", SHARED_TOKEN),
            variable("DB_PASSWORD", DB_PASSWORD, protected=True, masked=True, environment_scope="production"),
        ]),
        Project(11, "acme/web", variables=[
            variable("GL_TOKEN", SHARED_TOKEN, masked=True, protected=True, environment_scope="staging")]),
    ]
    out = tmp_path / "plan.json"
    result = radar("scan", "gitlab", "--url", gl.url, "--group", "acme", "--format", "json", "--jobs", "1",
                   "--plan", out, env=ENV)
    assert result.returncode == 1, result.stderr
    text = out.read_text()
    assert not [v for v in (SHARED_TOKEN, DB_PASSWORD, GROUP_SECRET) if v in text or v[:12] in text]
    return json.loads(text)


def entry(plan: dict, variable_key: str) -> dict:
    return next(e for e in plan["entries"] if any(p.get("variable_key") == variable_key for p in e["places"]))


def test_roles_bind_the_ids_gitlab_reported_and_the_plan_is_complete(plan):
    bindings = {(t["project"], t["environment"]): t["role"]["bound_claims"] for t in plan["targets"]}
    assert bindings[("acme/api", "production")] == {"project_id": "10", "ref_protected": "true", "ref_type": "branch",
                                                    "ref": "main", "pipeline_source": "push",
                                                    "environment": "production", "environment_protected": "true"}
    assert bindings[("acme/web", "staging")] == {"project_id": "11", "ref_protected": "true", "environment": "staging"}
    assert bindings[("acme", "shared")] == {"namespace_id": "1", "ref_protected": "true"}
    assert plan["plan"]["complete"] is True


def test_a_token_in_two_projects_is_one_entry_read_by_both_and_rotated_first(plan):
    shared = entry(plan, "DEPLOY_TOKEN")
    assert {p["variable_key"] for p in shared["places"]} == {"DEPLOY_TOKEN", "GL_TOKEN"}
    assert entry(plan, "GL_TOKEN") == shared  # the same entry, not a second one
    readers = {(t["project"], t["environment"]) for t in plan["targets"]
               if any(s["vault"] == shared["vault"] for s in t["secrets"])}
    # acme/api's variable is scoped to all environments, so its production role reads it too, as
    # GitLab gave it to production jobs.
    assert readers == {("acme/api", "shared"), ("acme/api", "production"), ("acme/web", "staging")}
    assert shared["steps"][0]["kind"] == "rotate" and "unmasked" in shared["steps"][0]["text"]


def test_the_environment_comes_from_the_variables_scope(plan):
    db = entry(plan, "DB_PASSWORD")
    assert (db["environment"], db["environment_inferred"], db["vault"]) == (
        "production", False, "ci/acme/api/production/db_password@secret")


def test_ci_file_risks_and_variable_hygiene_are_fixes(plan):
    rules = {f["rule_id"] for f in plan["fixes"]}
    assert {"gitlab-ci-job-jwt", "gitlab-variable-unmasked", "gitlab-variable-duplicated"} <= rules


def test_the_vault_setup_trusts_the_scanned_gitlab_and_protects_its_production_environment(plan, gitlab_server):
    url = gitlab_server.url.rstrip("/")
    assert plan["plan"]["gitlab_url"] == url
    config = next(s["command"] for s in plan["vault_setup"] if s["title"] == "Configure it for GitLab")
    body = json.loads(config.split("<<'EOF'\n", 1)[1].rsplit("\nEOF", 1)[0])
    assert body == {"jwks_url": f"{url}/oauth/discovery/keys", "bound_issuer": url}
    environments = [(p["owner"], p["name"]) for p in plan["gitlab_setup"] if p["kind"] == "environment"]
    assert environments == [("acme/api", "production")]
    api = next(p["api"] for p in plan["gitlab_setup"] if p["kind"] == "environment")
    assert api.endswith(f"{url}/api/v4/projects/10/protected_environments")
