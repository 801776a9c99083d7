"""Properties of plans built from arbitrary findings: whatever the names, paths, scopes and projects,
the Vault paths are valid, each policy grants exactly the planned paths and denies none of them,
every role is bound to a project or namespace, and radar's own job-spec reader reads the CI
stanza back to the same secrets."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, assume, given, settings, strategies as st

from radar.plan.build import PlanError, build_plan
from radar.plan.ci import example_job
from radar.plan.load import ScanInfo
from radar.plan.mapping import Mapping
from radar.plan.model import is_production
from radar.scan.findings import Finding, Origin
from radar.vault.ciyaml import job_definition, load_ci_file
from radar.vault.model import VaultSecretSpec
from radar.vault.spec import secret_specs
from radar.vault.variables import JobVariables

SEGMENT = re.compile(r"[A-Za-z0-9_.-]+")
FIELD = re.compile(r"[a-z_][a-z0-9_]*|v_[0-9a-z_]+")
VARIABLE = re.compile(r"[A-Z_][A-Z0-9_]*")
POLICY_BLOCK = re.compile(r'path "([^"]+)" \{\n  capabilities = \["(read|deny)"\]\n\}')

text = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=30)
paths = st.lists(st.one_of(text, st.sampled_from(["config", "prod", "staging", ".env.staging", "deploy", "..", "*"])),
                 min_size=1, max_size=4).map("/".join)
scopes = st.one_of(st.none(), st.just("*"), text, st.sampled_from(["production", "staging", "review/*", "prod-eu"]))


@st.composite
def findings(draw) -> Finding:
    project = draw(st.one_of(st.none(), text, st.sampled_from(["g/app", "g/sub/other"])))
    scope = draw(scopes)
    key = draw(st.one_of(st.none(), text))
    origin = Origin(project=project, project_id=draw(st.one_of(st.none(), st.integers(1, 10**6))),
                    variable_key=key if scope is not None else None, environment_scope=scope)
    line = draw(st.integers(1, 500))
    return Finding(
        rule_id=draw(st.sampled_from(["generic-password", "pem-private-key", "gitlab-variable-unmasked"])),
        secret_type=draw(st.sampled_from(["Password", "Private key", "GitHub token", "gitlab-ci-variable"])),
        description="d", severity=draw(st.sampled_from(["critical", "high", "medium", "low"])),
        confidence=draw(st.sampled_from(["high", "medium"])), path=draw(paths), line=line, column=1,
        end_line=line + draw(st.integers(0, 3)), end_column=1,
        fingerprint=draw(st.sampled_from(["", "a" * 64, "b" * 64, "c" * 64, "d" * 64])), preview="[redacted]",
        name=draw(st.one_of(st.none(), text)), origin=origin,
    )


def plan_of(items: list[Finding]):
    try:
        return build_plan(items, ScanInfo("gitlab", "https://gitlab.example.com", "https://gitlab.example.com"), Mapping())
    except PlanError:
        # Two environments whose names sanitise to one path, one production and one not: the
        # refusal is the specified outcome (tested by name elsewhere); nothing to check here.
        assume(False)


def policy_paths(hcl: str, capability: str) -> set[str]:
    blocks = POLICY_BLOCK.findall(hcl)
    # Every non-comment line belongs to a block: nothing else can hide in the policy.
    body = "\n".join(line for line in hcl.splitlines() if not line.startswith("#"))
    assert POLICY_BLOCK.sub("", body).strip() == ""
    return {path for path, cap in blocks if cap == capability}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(findings(), min_size=1, max_size=8))
def test_vault_paths_fields_variables_and_names_are_always_valid(items):
    plan = plan_of(items)
    for e in plan.entries:
        for part in (*e.mount.split("/"), *e.path.split("/")):
            assert SEGMENT.fullmatch(part) and part not in (".", "..")
        assert FIELD.fullmatch(e.field)
        assert "@" not in e.path + e.mount and "$" not in e.short_form
    for t in plan.targets:
        assert SEGMENT.fullmatch(t.role_name) and t.role_name not in (".", "..")
        assert all(VARIABLE.fullmatch(u.variable) for u in t.uses)
        assert len({u.variable for u in t.uses}) == len(t.uses)
    secrets = [(e.api_path, e.field) for e in plan.entries]
    assert len(set(secrets)) == len(secrets)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(findings(), min_size=1, max_size=8))
def test_each_policy_grants_exactly_the_planned_paths_and_denies_none_of_them(items):
    plan = plan_of(items)
    for t in plan.targets:
        read, deny = policy_paths(t.policy_hcl, "read"), policy_paths(t.policy_hcl, "deny")
        assert read == {u.entry.api_path for u in t.uses}
        assert not read & deny
        assert all("*" not in p and "+" not in p for p in read | deny)
        if not is_production(t.environment):
            assert not any(is_production(u.entry.environment) for u in t.uses)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(findings(), min_size=1, max_size=8))
def test_every_role_is_bound_to_a_project_or_namespace(items):
    plan = plan_of(items)
    for t in plan.targets:
        claims = t.role["bound_claims"]
        assert claims.get("project_id") or claims.get("namespace_id")
        assert all(isinstance(v, str) for v in claims.values())
        if is_production(t.environment):
            assert claims["ref_protected"] == "true" and claims["environment"] == t.environment
        assert t.role["token_explicit_max_ttl"] <= 300


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(findings(), min_size=1, max_size=8))
def test_radars_job_spec_reader_reads_the_stanza_back_to_the_planned_secrets(items):
    plan = plan_of(items)
    with tempfile.TemporaryDirectory() as directory:
        for t in plan.targets:
            path = Path(directory) / f"{t.role_name}.yml"
            path.write_text(t.ci_yaml)
            definition = job_definition(load_ci_file(str(path)), example_job(t), str(path))
            variables = JobVariables(definition.variables, {})
            specs = secret_specs(definition, variables)
            assert all(isinstance(s, VaultSecretSpec) for s in specs)
            assert [(s.name, s.engine, s.mount, s.path, s.field, s.file, s.token_var) for s in specs] == [
                (u.variable, "kv-v2", u.entry.mount, u.entry.path, u.entry.field, u.entry.file, "VAULT_ID_TOKEN")
                for u in t.uses]
            assert variables.get("VAULT_AUTH_ROLE") == t.role_name
            assert definition.id_tokens == ("VAULT_ID_TOKEN",)
