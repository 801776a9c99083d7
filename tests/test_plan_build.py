"""What the migration plan decides, case by case: what is planned, where it goes, who reads it."""

from __future__ import annotations

import pytest

from radar.plan.build import PROJECT_PLACEHOLDER, PlanError, build_plan
from radar.plan.load import ScanInfo
from radar.plan.mapping import Mapping, ProjectInfo, parse_mapping
from radar.scan.findings import Finding, History, Location, Origin

DIRECTORY = ScanInfo(kind="directory", target="app", root="/src/app")
GITLAB = ScanInfo(kind="gitlab", target="https://gitlab.example.com", root="https://gitlab.example.com")
KNOWN = Mapping().with_project("mygroup/app", ProjectInfo(project_id=42))


def finding(path: str = "src/settings.py", line: int = 1, fingerprint: str = "f" * 64, **fields) -> Finding:
    base = dict(rule_id="generic-password", secret_type="Password", description="Password", severity="high",
                confidence="high", path=path, line=line, column=1, end_line=line, end_column=20,
                fingerprint=fingerprint, preview="[redacted]", name="DATABASE_PASSWORD")
    base.update(fields)
    return Finding(**base)


def variable(key: str, scope: str = "*", fingerprint: str = "a" * 64, project: str = "mygroup/app",
             project_id: int | None = 42, **fields) -> Finding:
    origin = Origin(variable_key=key, environment_scope=scope, project=project, project_id=project_id)
    return finding(path=f"variables/{key}[{scope}]", fingerprint=fingerprint, origin=origin, name=key, **fields)


def plan_of(*findings: Finding, mapping: Mapping = KNOWN, scan: ScanInfo = DIRECTORY):
    return build_plan(list(findings), scan, mapping)


def target(plan, environment: str):
    return next(t for t in plan.targets if t.environment == environment)


# --- what is planned -------------------------------------------------------------------------

def test_an_ignored_finding_is_skipped_with_its_reason():
    plan = plan_of(finding(ignored=True, ignore_reason="radar:ignore comment"))
    assert not plan.entries
    assert [s.reason for s in plan.skipped] == ["ignored: radar:ignore comment"]


def test_a_low_confidence_test_fixture_is_skipped_saying_why():
    plan = plan_of(finding(path="tests/fixtures/conf.py", confidence="low", tags=("test-fixture",)))
    assert not plan.entries
    assert plan.skipped[0].reason == "low confidence: in a test fixture"


def test_a_placeholder_like_value_is_skipped_saying_why():
    plan = plan_of(finding(confidence="low", tags=("placeholder-like",)))
    assert "placeholder" in plan.skipped[0].reason


def test_ci_configuration_findings_become_fixes_not_vault_entries():
    jwt = finding(".gitlab-ci.yml", rule_id="gitlab-ci-job-jwt", secret_type="gitlab-ci-config",
                  remediation="use id_tokens: with an aud: for Vault", name=None)
    skip = finding(".gitlab-ci.yml", 9, "b" * 64, rule_id="gitlab-ci-vault-skip-verify",
                   secret_type="gitlab-ci-config", remediation="remove VAULT_SKIP_VERIFY", name=None)
    plan = plan_of(jwt, skip)
    assert not plan.entries and not plan.targets
    assert [(f.rule_id, f.action) for f in plan.fixes] == [
        ("gitlab-ci-job-jwt", "use id_tokens: with an aud: for Vault"),
        ("gitlab-ci-vault-skip-verify", "remove VAULT_SKIP_VERIFY"),
    ]


def test_leftovers_of_a_migration_in_configuration_are_fixes_not_values_to_move():
    # A job still reading a moved variable has a fingerprint of the job and variable, not of a value.
    read = finding(".gitlab-ci.yml", 7, "c" * 64, rule_id="migrated-variable-still-read",
                   secret_type="gitlab-ci-config", remediation="add a secrets: entry for DB_PASSWORD",
                   name="DB_PASSWORD")
    defined = variable("DB_PASSWORD", "production", rule_id="migrated-variable-still-defined",
                       secret_type="gitlab-ci-variable", remediation="delete it")
    plan = plan_of(read, defined, scan=GITLAB)
    assert not plan.entries and not plan.targets
    assert [(f.rule_id, f.action) for f in plan.fixes] == [
        ("migrated-variable-still-read", "add a secrets: entry for DB_PASSWORD"),
        ("migrated-variable-still-defined", "delete it"),
    ]


def test_variable_hygiene_is_a_fix_and_its_value_still_moves_to_vault():
    weak = variable("DEPLOY_TOKEN", rule_id="gitlab-variable-unprotected", secret_type="gitlab-ci-variable",
                    remediation="protect it, or better: move to Vault")
    plan = plan_of(weak, scan=GITLAB)
    assert [f.rule_id for f in plan.fixes] == ["gitlab-variable-unprotected"]
    assert [(e.field, e.places[0].variable_key) for e in plan.entries] == [("deploy_token", "DEPLOY_TOKEN")]


def test_a_value_only_hygiene_findings_name_in_two_projects_is_one_entry_with_both_places():
    flags = [variable("DEPLOY_PASSWORD", project=project, project_id=n, rule_id=rule, secret_type="gitlab-ci-variable")
             for n, project in enumerate(("g/a", "g/b"), 1)
             for rule in ("gitlab-variable-unmasked", "gitlab-variable-unprotected")]
    plan = plan_of(*flags, scan=GITLAB)
    (entry,) = plan.entries
    assert [p.project for p in entry.places] == ["g/a", "g/b"]
    assert {t.project for t in plan.targets} == {"g/a", "g/b"}


def test_a_hidden_variable_without_a_fingerprint_is_still_one_entry():
    flags = [variable("API_KEY", fingerprint="", rule_id=rule, secret_type="gitlab-ci-variable")
             for rule in ("gitlab-variable-unprotected", "gitlab-variable-all-environments")]
    plan = plan_of(*flags, scan=GITLAB)
    assert len(plan.entries) == 1 and len(plan.fixes) == 2


# --- one value, one entry --------------------------------------------------------------------

def test_the_same_value_in_several_places_is_one_entry_listing_every_place():
    plan = plan_of(finding("config/production.yml", 3), finding("deploy/prod/env.sh", 7),
                   finding("config/production.yml", 3))
    assert len(plan.entries) == 1
    assert [(p.path, p.line) for p in plan.entries[0].places] == [("config/production.yml", 3), ("deploy/prod/env.sh", 7)]
    assert len(plan.writes) == 1


def test_a_value_used_by_staging_and_production_is_stored_once_as_shared_and_read_by_both():
    plan = plan_of(finding("config/production.yml"), finding("config/staging.yml"))
    (entry,) = plan.entries
    assert entry.environment == "shared" and entry.path == "ci/mygroup/app/shared"
    assert any("staging" in n and "production" in n for n in entry.notes)
    assert {t.environment for t in plan.targets} == {"production", "staging"}
    assert all(t.read_paths == ("secret/data/ci/mygroup/app/shared",) for t in plan.targets)


def test_a_value_shared_by_two_projects_is_stored_under_the_first_and_read_by_both():
    a = variable("TOKEN", project="mygroup/a", project_id=1)
    b = variable("TOKEN", project="mygroup/b", project_id=2)
    plan = plan_of(b, a, scan=GITLAB)
    (entry,) = plan.entries
    assert entry.project == "mygroup/a"
    assert sorted((t.project, t.binding.value) for t in plan.targets) == [("mygroup/a", "1"), ("mygroup/b", "2")]


# --- names -----------------------------------------------------------------------------------

@pytest.mark.parametrize("name, field, variable_name", [
    ("DATABASE_PASSWORD", "database_password", "DATABASE_PASSWORD"),
    ("apiKey", "api_key", "API_KEY"),
    ("db.password-1", "db_password_1", "DB_PASSWORD_1"),
    ("2fa secret", "v_2fa_secret", "V_2FA_SECRET"),
    ("$(rm -rf /)@ops", "rm_rf_ops", "RM_RF_OPS"),
])
def test_the_field_and_variable_come_from_the_name_made_safe(name, field, variable_name):
    plan = plan_of(finding(name=name))
    assert plan.entries[0].field == field
    assert plan.targets[0].uses[0].variable == variable_name


@pytest.mark.parametrize("secret_type, field", [("Stripe secret key", "stripe_secret_key"),
                                                ("GitHub token", "github_token")])
def test_without_a_name_the_field_comes_from_the_secret_type(secret_type, field):
    plan = plan_of(finding(name=None, secret_type=secret_type))
    assert plan.entries[0].field == field


def test_colliding_fields_get_suffixes_in_a_stable_order():
    first = finding("config/a.env", 1, "1" * 64)
    second = finding("config/b.env", 1, "2" * 64)
    for order in ((first, second), (second, first)):
        plan = plan_of(*order)
        assert [(e.places[0].path, e.field) for e in sorted(plan.entries, key=lambda e: e.field)] == [
            ("config/a.env", "database_password"), ("config/b.env", "database_password_2")]
        assert [u.variable for u in plan.targets[0].uses] == ["DATABASE_PASSWORD", "DATABASE_PASSWORD_2"]


def test_the_project_path_keeps_its_groups_as_safe_segments():
    plan = plan_of(variable("TOKEN", project="My Group/sub group/app.v2"), scan=GITLAB)
    assert plan.entries[0].path == "ci/My-Group/sub-group/app.v2/shared"
    assert plan.targets[0].role_name == "My-Group-sub-group-app.v2-shared"


# --- environments ----------------------------------------------------------------------------

@pytest.mark.parametrize("path, environment", [
    ("config/production.yml", "production"),
    (".env.staging", "staging"),
    ("deploy/prod/values.yaml", "production"),
    ("k8s/stg-values.yaml", "staging"),
    ("deploy/prod/staging.env", "staging"),
    ("settings/dev.py", "development"),
])
def test_the_environment_is_inferred_from_the_path_and_marked_inferred(path, environment):
    plan = plan_of(finding(path))
    assert (plan.entries[0].environment, plan.entries[0].environment_inferred) == (environment, True)
    assert any("inferred" in w for w in plan.warnings)


def test_without_a_hint_the_environment_is_shared_and_the_role_binds_no_environment():
    plan = plan_of(finding("src/app.py"))
    assert plan.entries[0].environment == "shared" and not plan.entries[0].environment_inferred
    assert "environment" not in plan.targets[0].role["bound_claims"]


def test_gitlabs_environment_scope_wins_over_the_path_and_is_not_inferred():
    plan = plan_of(variable("PROD_TOKEN", scope="staging"), scan=GITLAB)
    assert (plan.entries[0].environment, plan.entries[0].environment_inferred) == ("staging", False)


def test_the_all_environments_scope_is_not_an_environment():
    plan = plan_of(variable("TOKEN", scope="*"), scan=GITLAB)
    assert plan.entries[0].environment == "shared"


def test_a_wildcard_scope_binds_the_environment_as_a_glob():
    plan = plan_of(variable("TOKEN", scope="review/*"), scan=GITLAB)
    t = plan.targets[0]
    assert t.role["bound_claims_type"] == "glob" and t.role["bound_claims"]["environment"] == "review/*"
    assert plan.entries[0].path == "ci/mygroup/app/review-all"
    assert "review/$CI_COMMIT_REF_SLUG" in t.ci_yaml


# --- roles and policies ----------------------------------------------------------------------

def test_a_production_role_binds_the_project_protected_default_branch_push_and_protected_environment():
    plan = plan_of(finding("config/production.yml"))
    role = target(plan, "production").role
    assert role["bound_claims"] == {"project_id": "42", "ref_protected": "true", "ref_type": "branch", "ref": "main",
                                    "pipeline_source": "push", "environment": "production",
                                    "environment_protected": "true"}
    assert role["bound_claims_type"] == "string" and role["bound_audiences"] == ["https://vault.example.com"]
    assert role["token_explicit_max_ttl"] == 300 and role["role_type"] == "jwt"


@pytest.mark.parametrize("scope", ["prod", "prod-eu", "Production"])
def test_environments_named_prod_something_are_production(scope):
    plan = plan_of(variable("TOKEN", scope=scope), scan=GITLAB)
    assert plan.targets[0].role["bound_claims"]["ref_protected"] == "true"


def test_a_staging_role_binds_the_project_protected_refs_and_environment_but_no_ref_or_source():
    plan = plan_of(finding(".env.staging"))
    assert target(plan, "staging").role["bound_claims"] == {"project_id": "42", "ref_protected": "true",
                                                            "environment": "staging"}


def test_a_non_production_policy_denies_the_projects_production_paths():
    plan = plan_of(finding("config/production.yml", fingerprint="1" * 64), finding(".env.staging", fingerprint="2" * 64))
    staging, production = target(plan, "staging"), target(plan, "production")
    assert staging.read_paths == ("secret/data/ci/mygroup/app/staging",)
    assert staging.deny_paths == ("secret/data/ci/mygroup/app/production",)
    assert production.deny_paths == ("secret/data/ci/mygroup/app/staging",)
    assert 'path "secret/data/ci/mygroup/app/production" {\n  capabilities = ["deny"]\n}' in staging.policy_hcl


def test_each_environment_also_reads_the_projects_shared_values_and_never_denies_them():
    # A job logs in with one role: a production deploy that needs the shared deploy key must get
    # it from the production role, so no policy may deny the shared path.
    plan = plan_of(finding("config/production.yml", fingerprint="1" * 64),
                   finding(".env.staging", fingerprint="2" * 64),
                   finding("keys/deploy.pem", fingerprint="3" * 64, name="DEPLOY_KEY"))
    shared = "secret/data/ci/mygroup/app/shared"
    production, staging, shared_target = target(plan, "production"), target(plan, "staging"), target(plan, "shared")
    assert production.read_paths == ("secret/data/ci/mygroup/app/production", shared)
    assert staging.read_paths == (shared, "secret/data/ci/mygroup/app/staging")
    assert shared_target.read_paths == (shared,)
    assert all(shared not in t.deny_paths for t in plan.targets)
    assert "DEPLOY_KEY" in production.ci_yaml and "DEPLOY_KEY" in staging.ci_yaml


def test_a_non_production_policy_denies_production_even_before_anything_is_stored_there():
    plan = plan_of(finding(".env.staging"))
    assert target(plan, "staging").deny_paths == ("secret/data/ci/mygroup/app/production",)


def test_a_mapping_that_mixes_production_and_staging_in_one_secret_is_refused():
    mapping = parse_mapping({"vault": {"path": "ci/{project}"}, "project": {"path": "mygroup/app", "id": 42}})
    with pytest.raises(PlanError, match=r"same Vault secret secret/data/ci/mygroup/app.*\{environment\}"):
        plan_of(finding("config/production.yml", fingerprint="1" * 64), finding(".env.staging", fingerprint="2" * 64),
                mapping=mapping)


# --- binding to the project ------------------------------------------------------------------

def test_an_unknown_project_id_binds_a_placeholder_no_token_carries_and_the_plan_is_incomplete():
    plan = plan_of(finding(), mapping=Mapping())
    t = plan.targets[0]
    assert t.role["bound_claims"]["project_id"] == PROJECT_PLACEHOLDER == "<PROJECT_ID>"
    assert not plan.complete
    assert any("--project-id" in w and "app" in w for w in plan.warnings)


def test_gitlab_findings_bind_their_own_project_id():
    plan = plan_of(variable("TOKEN", project_id=1234), mapping=Mapping(), scan=GITLAB)
    assert plan.targets[0].role["bound_claims"]["project_id"] == "1234" and plan.complete


def test_group_variables_bind_the_namespace_id():
    origin = Origin(variable_key="TOKEN", environment_scope="*", group="mygroup", namespace_id=7)
    plan = plan_of(finding("variables/TOKEN[*]", origin=origin, name="TOKEN"), mapping=Mapping(), scan=GITLAB)
    assert plan.targets[0].role["bound_claims"] == {"namespace_id": "7", "ref_protected": "true"}


def test_the_mapping_gives_ids_to_projects():
    mapping = parse_mapping({"projects": {"mygroup/app": {"namespace_id": 9}}})
    plan = plan_of(variable("TOKEN", project_id=None), mapping=mapping, scan=GITLAB)
    assert plan.targets[0].binding.claim == "namespace_id" and plan.targets[0].binding.value == "9"


# --- mapping rules ---------------------------------------------------------------------------

def test_the_first_matching_rule_sets_environment_path_field_mount_and_delivery():
    mapping = parse_mapping({
        "project": {"path": "mygroup/app", "id": 42},
        "rules": [{"path": "deploy/**", "name": "*password*", "environment": "production",
                   "secret_path": "apps/{project}/{environment}/db", "field": "pw", "mount": "kv", "file": True},
                  {"path": "deploy/**", "environment": "staging"}],
    })
    plan = plan_of(finding("deploy/env.sh"), mapping=mapping)
    e = plan.entries[0]
    assert (e.mount, e.path, e.field, e.environment, e.file) == ("kv", "apps/mygroup/app/production/db", "pw",
                                                                 "production", True)
    assert e.short_form == "apps/mygroup/app/production/db/pw@kv"


def test_a_rule_can_skip_findings_with_a_reason():
    mapping = parse_mapping({"rules": [{"path": "docs/**", "skip": "documentation samples"}]})
    plan = plan_of(finding("docs/howto.md"), mapping=mapping)
    assert not plan.entries and plan.skipped[0].reason == "mapping rule: documentation samples"


# --- delivery --------------------------------------------------------------------------------

def test_keys_and_multi_line_values_are_files_and_passwords_are_variables():
    key = finding("deploy/id_rsa", 1, "1" * 64, rule_id="pem-private-key", secret_type="Private key",
                  end_line=27, name=None)
    kubeconfig = finding("ci/kube.env", 1, "2" * 64, name="KUBECONFIG")
    password = finding("ci/db.env", 1, "3" * 64)
    plan = plan_of(key, kubeconfig, password)
    assert {e.field: e.file for e in plan.entries} == {"private_key": True, "kubeconfig": True,
                                                       "database_password": False}


# --- remediation order -----------------------------------------------------------------------

def _history(in_head: bool) -> History:
    return History(in_head=in_head, locations=(Location("config/production.yml", 3, "c" * 40, "dev", "2024-01-01"),))


def test_a_value_only_in_history_is_rotated_first_and_needs_no_removal_from_the_files():
    plan = plan_of(finding("config/production.yml", history=_history(False), origin=Origin(commit="c" * 40)))
    e = plan.entries[0]
    assert [s.kind for s in e.steps] == ["rotate", "store", "grant", "ci", "remove"]
    assert "only in git history" in e.steps[0].text
    assert "already gone from the files" in e.steps[-1].text


def test_a_value_in_head_and_history_is_rotated_first_then_removed():
    e = plan_of(finding("config/production.yml", history=_history(True))).entries[0]
    assert e.steps[0].kind == "rotate" and "git history" in e.steps[0].text
    assert e.steps[-1].text.startswith("Remove the hardcoded value")


def test_an_unmasked_variable_is_rotated_first_because_job_logs_may_show_it():
    value = variable("TOKEN", rule_id="generic-api-key", secret_type="API key")
    unmasked = variable("TOKEN", rule_id="gitlab-variable-unmasked", secret_type="gitlab-ci-variable")
    e = plan_of(value, unmasked, scan=GITLAB).entries[0]
    assert "job logs" in e.steps[0].text and e.steps[0].kind == "rotate"
    assert "Delete the CI/CD variable TOKEN" in e.steps[-1].text


def test_a_public_project_rotates_everything_first():
    mapping = Mapping().with_project("mygroup/app", ProjectInfo(project_id=42, public=True))
    e = plan_of(finding(), mapping=mapping).entries[0]
    assert "mygroup/app is or was public" in e.rotate_reasons


def test_a_validated_value_is_rotated_first():
    assert plan_of(finding(tags=("validated",))).entries[0].steps[0].kind == "rotate"


def test_without_a_reason_to_rotate_migration_starts_with_storing():
    e = plan_of(finding()).entries[0]
    assert [s.kind for s in e.steps] == ["store", "grant", "ci", "remove"]
    assert ("vault kv put -mount=secret ci/mygroup/app/shared "
            "database_password=@secret.ci.mygroup.app.shared.database_password.secret") in e.steps[0].text


def test_each_value_is_read_from_a_file_no_other_command_uses():
    plan = plan_of(finding("config/production.yml", fingerprint="1" * 64), finding(".env.staging", fingerprint="2" * 64))
    files = [w.file(f) for w in plan.writes for f in w.fields]
    assert len(plan.writes) == 2 and len(set(files)) == 2
