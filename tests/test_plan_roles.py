"""What each JWT role binds, and why: production to protected refs, the deploying ref, the pipeline
source and the protected environment; other environments and `shared` to protected refs; and
every `[roles]` option of the mapping, including the values it refuses."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, strategies as st

from radar.plan.build import build_plan
from radar.plan.load import ScanInfo
from radar.plan.mapping import Mapping, MappingError, parse_mapping
from radar.plan.model import PIPELINE_SOURCES, RoleRules
from radar.plan.vault import needs_glob
from radar.scan.findings import Finding, Origin

DIRECTORY = ScanInfo(kind="directory", target="app", root="/src/app")
GITLAB = ScanInfo(kind="gitlab", target="https://gitlab.example.com", root="https://gitlab.example.com")


def finding(path: str, fingerprint: str, name: str = "DATABASE_PASSWORD", **fields) -> Finding:
    return Finding(rule_id="generic-password", secret_type="Password", description="Password", severity="high",
                   confidence="high", path=path, line=1, column=1, end_line=1, end_column=20,
                   fingerprint=fingerprint, preview="[redacted]", name=name, **fields)


PRODUCTION = finding("config/production.yml", "1" * 64)
STAGING = finding(".env.staging", "2" * 64)
SHARED = finding("keys/deploy.pem", "3" * 64, name="DEPLOY_KEY")


def plan_with(roles: dict | None = None, *findings: Finding):
    data = {"project": {"path": "mygroup/app", "id": 42}}
    if roles is not None:
        data["roles"] = roles
    return build_plan(list(findings or (PRODUCTION, STAGING, SHARED)), DIRECTORY, parse_mapping(data))


def claims(plan, environment: str) -> dict:
    return next(t for t in plan.targets if t.environment == environment).role["bound_claims"]


def reasons(plan, environment: str) -> tuple[str, ...]:
    return next(t for t in plan.targets if t.environment == environment).reasons


# --- the defaults ------------------------------------------------------------------------------

def test_production_binds_protected_refs_the_default_branch_push_and_the_protected_environment():
    assert claims(plan_with(), "production") == {
        "project_id": "42", "ref_protected": "true", "ref_type": "branch", "ref": "main",
        "pipeline_source": "push", "environment": "production", "environment_protected": "true"}


def test_staging_binds_protected_refs_and_its_environment_only():
    assert claims(plan_with(), "staging") == {"project_id": "42", "ref_protected": "true", "environment": "staging"}


def test_shared_values_are_readable_only_from_protected_refs():
    assert claims(plan_with(), "shared") == {"project_id": "42", "ref_protected": "true"}


def test_every_bound_claim_has_one_line_saying_why_in_the_order_of_the_claims():
    plan = plan_with()
    for t in plan.targets:
        lines = t.reasons
        assert all("\n" not in line for line in lines)
        claimed = [line.split(":")[0].split()[0] for line in lines]
        bound = [c for c in t.role["bound_claims"] if c != "ref"]  # ref shares ref_type's line
        assert claimed == bound
    production = reasons(plan, "production")
    assert any("unprotected branch" in line for line in production)
    assert any("scheduled" in line and "manual" in line for line in production)
    assert any("only as strong as GitLab's protection" in line for line in production)
    assert any("radar's default" in line and "--default-branch" in line for line in production)


def test_roles_without_wildcards_match_exactly():
    assert {t.role["bound_claims_type"] for t in plan_with().targets} == {"string"}


# --- the mapping's [roles] ----------------------------------------------------------------------

def test_the_mapping_names_the_default_branch_and_the_plan_says_where_it_came_from():
    plan = plan_with({"default_branch": "trunk"})
    assert claims(plan, "production")["ref"] == "trunk"
    assert any("ref trunk:" in line and "(from the mapping)" in line for line in reasons(plan, "production"))


def test_several_protected_refs_bind_a_list_which_vault_reads_as_any_of():
    plan = plan_with({"protected_refs": ["main", "stable"], "ref_type": "branch"})
    assert claims(plan, "production")["ref"] == ["main", "stable"]
    assert next(t for t in plan.targets if t.production).role["bound_claims_type"] == "string"


def test_a_wildcard_ref_makes_the_role_glob():
    plan = plan_with({"protected_refs": ["release/*"]})
    role = next(t for t in plan.targets if t.production).role
    assert role["bound_claims"]["ref"] == "release/*" and role["bound_claims_type"] == "glob"


def test_tags_can_deploy_instead_of_branches():
    assert claims(plan_with({"protected_refs": ["v1.0"], "ref_type": "tag"}), "production")["ref_type"] == "tag"


def test_the_mapping_allows_more_pipeline_sources_as_a_list():
    plan = plan_with({"pipeline_sources": ["push", "schedule", "web", "push"]})
    assert claims(plan, "production")["pipeline_source"] == ["push", "schedule", "web"]


def test_environment_protected_can_be_turned_off_for_old_gitlab_and_the_plan_says_so():
    plan = plan_with({"environment_protected": False})
    assert "environment_protected" not in claims(plan, "production")
    assert any(line.startswith("environment_protected not bound") for line in reasons(plan, "production"))


def test_ref_protected_opt_out_for_all_non_production_roles_warns_about_shared_values():
    plan = plan_with({"ref_protected": False})
    assert "ref_protected" not in claims(plan, "staging") and "ref_protected" not in claims(plan, "shared")
    assert claims(plan, "production")["ref_protected"] == "true"  # production is never opted out
    assert any(line.startswith("ref_protected not bound") for line in reasons(plan, "staging"))
    warning = next(w for w in plan.warnings if "admit unprotected branches" in w)
    assert "app-staging" in warning and "app-shared" in warning


def test_ref_protected_opt_out_per_environment_by_glob():
    development = finding(".env.dev", "4" * 64)
    plan = plan_with({"unprotected_environments": ["dev*"]}, PRODUCTION, STAGING, development)
    assert claims(plan, "staging")["ref_protected"] == "true"
    assert "ref_protected" not in claims(plan, "development")
    assert not any("admit unprotected branches" in w for w in plan.warnings)  # no shared values here


def test_an_environment_scope_wildcard_and_a_ref_list_keep_glob_with_every_list_value_a_pattern():
    variable = Finding(rule_id="generic-password", secret_type="Password", description="Password",
                       severity="high", confidence="high", path="variables/TOKEN[prod/*]", line=1, column=1,
                       end_line=1, end_column=20, fingerprint="5" * 64, preview="[redacted]", name="TOKEN",
                       origin=Origin(variable_key="TOKEN", environment_scope="prod/*", project="mygroup/app",
                                     project_id=42))
    mapping = parse_mapping({"roles": {"protected_refs": ["main", "hotfix"]}})
    plan = build_plan([variable], GITLAB, mapping)
    role = plan.targets[0].role
    assert role["bound_claims_type"] == "glob"
    assert role["bound_claims"]["environment"] == "prod/*" and role["bound_claims"]["ref"] == ["main", "hotfix"]


@pytest.mark.parametrize("roles, message", [
    ({"pipeline_sources": ["push", "cron"]}, "pipeline_sources has 'cron', not a GitLab pipeline source; use api,"),
    ({"pipeline_sources": []}, "pipeline_sources must be a list of 1 to 100"),
    ({"pipeline_sources": "push"}, "pipeline_sources must be a list"),
    ({"protected_refs": ["refs/heads/main"]}, "give the short name"),
    ({"protected_refs": [" main"]}, "a ref must be a branch or tag name"),
    ({"default_branch": ""}, "a ref must be a branch or tag name"),
    ({"default_branch": "ma\nin"}, "a ref must be a branch or tag name"),
    ({"ref_type": "commit"}, 'ref_type must be "branch" or "tag"'),
    ({"environment_protected": "yes"}, "environment_protected must be true or false"),
    ({"ref_protected": 0}, "ref_protected must be true or false"),
    ({"unprotected_environments": "review/*"}, "unprotected_environments must be a list"),
    ({"pipeline_source": ["push"]}, "unknown key(s) pipeline_source; use default_branch,"),
    ("push", "[roles] must be a table"),
    ({"ref_type": "tag"}, 'ref_type = "tag" needs protected_refs'),
], ids=["unknown-source", "no-sources", "sources-not-list", "long-ref", "spaced-ref", "empty-branch",
        "newline-branch", "ref-type", "env-protected", "ref-protected", "unprotected-not-list", "unknown-key",
        "not-table", "tag-without-refs"])
def test_bad_roles_values_are_refused_naming_the_key_and_the_fix(roles, message):
    with pytest.raises(MappingError) as error:
        parse_mapping({"roles": roles}, "m.toml")
    assert message in str(error.value) and "\n" not in str(error.value)
    assert str(error.value).startswith("m.toml: [roles]")


# --- properties ---------------------------------------------------------------------------------

values = st.one_of(st.text(max_size=20), st.integers(), st.booleans(), st.none(),
                   st.lists(st.one_of(st.text(max_size=12), st.sampled_from(PIPELINE_SOURCES), st.integers()),
                            max_size=4))


@given(st.dictionaries(st.sampled_from(["default_branch", "protected_refs", "ref_type", "pipeline_sources",
                                        "environment_protected", "ref_protected", "unprotected_environments",
                                        "other"]), values, max_size=4))
def test_any_roles_table_is_read_or_refused_with_a_mapping_error(table):
    try:
        rules = parse_mapping({"roles": table}).settings.roles
    except MappingError as e:
        assert "\n" not in str(e)
        return
    assert isinstance(rules, RoleRules)
    assert set(rules.pipeline_sources) <= set(PIPELINE_SOURCES) and rules.production_refs
    plan = build_plan([PRODUCTION, STAGING], DIRECTORY, parse_mapping({"roles": table, "project": {"path": "g/a", "id": 1}}))
    production = claims(plan, "production")
    refs = production["ref"] if isinstance(production["ref"], list) else [production["ref"]]
    assert tuple(refs) == rules.production_refs
    for t in plan.targets:
        assert (t.role["bound_claims_type"] == "glob") == needs_glob(t.role["bound_claims"])


def test_every_format_prints_each_roles_reasons():
    from radar.plan import render

    plan = plan_with({"pipeline_sources": ["push", "schedule"]})
    production = next(t for t in plan.targets if t.production)
    why = next(line for line in production.reasons if line.startswith("pipeline_source"))
    assert why.startswith("pipeline_source push, schedule: ")
    document = json.loads(render(plan, "json"))
    assert next(t for t in document["targets"] if t["production"])["reasons"] == list(production.reasons)
    assert document["plan"]["roles"]["pipeline_sources"] == ["push", "schedule"]
    assert f"- {why}" in render(plan, "markdown").replace("\\", "")
    assert f"<li>{why}</li>" in render(plan, "html").replace("&#x27;", "'")


def test_the_readmes_roles_table_shows_the_defaults():
    import re
    import tomllib
    from pathlib import Path

    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("### The mapping file"):]
    block = re.search(r"```toml\n(.*?)```", section, re.S).group(1)
    documented = parse_mapping(tomllib.loads(block)).settings.roles
    assert documented == RoleRules(default_branch_source="mapping")


@given(st.lists(st.one_of(st.text(min_size=1, max_size=20),
                          st.sampled_from(["production", "prod/*", "Prod-EU", "staging", "review/*", "*"])),
                min_size=1, max_size=5))
def test_whatever_the_environment_scopes_every_role_binds_protected_refs_and_production_its_full_set(scopes):
    findings = [Finding(rule_id="generic-password", secret_type="Password", description="Password",
                        severity="high", confidence="high", path=f"variables/T{i}", line=1, column=1, end_line=1,
                        end_column=20, fingerprint=f"{i:064x}", preview="[redacted]", name=f"T{i}",
                        origin=Origin(variable_key=f"T{i}", environment_scope=scope, project="g/app", project_id=42))
                for i, scope in enumerate(scopes)]
    for t in build_plan(findings, GITLAB, Mapping()).targets:
        bound = t.role["bound_claims"]
        assert bound["ref_protected"] == "true" and bound["project_id"] == "42"
        if t.production:
            assert set(bound) == {"project_id", "ref_protected", "ref_type", "ref", "pipeline_source",
                                  "environment", "environment_protected"}
        assert (t.role["bound_claims_type"] == "glob") == ("*" in (t.environment_claim or ""))
        assert len(t.reasons) == len(bound) - (1 if t.production else 0)  # ref_type and ref share one line
