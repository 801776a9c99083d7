"""After the migration, on GitLab: scan -> plan JSON -> migrate (the fake GitLab's variables and CI files
change as a team would change them) -> `radar scan gitlab --migrated PLAN.json` reports only the leftovers,
each under its own rule: a moved variable still defined, a job still reading one without `secrets:`,
a moved value found again."""

from __future__ import annotations

import json

import pytest

from gitlab_fake import TOKEN, FakeGitLab, Group, Project, gitlab_server, variable  # noqa: F401
from radar.scan.examples import expand
from radar_cli import assert_absent, assert_one_line_error, clean_env, radar

ENV = clean_env(RADAR_FINGERPRINT_KEY="migrated-gitlab", GITLAB_TOKEN=TOKEN)
DEPLOY_TOKEN = "glpat-" + expand("{b64url:20}", "migrated-deploy")
DB_PASSWORD = "Pw7kQ2xZ9mL4vN8rT3yB"
STAGING_PASSWORD = "St4gQ2xZ9mL4vN8rT3yC"
GROUP_SECRET = "Gs4mW8kT2nV6bR9xL3pJ"
HIDDEN_SECRET = "hidden-values-never-leave-gitlab"
VALUES = (DEPLOY_TOKEN, DB_PASSWORD, STAGING_PASSWORD, GROUP_SECRET, HIDDEN_SECRET)
RULES = ("migrated-variable-still-defined", "migrated-variable-still-read", "migrated-value-reappeared")

BEFORE_CI = """\
deploy:
  script:
    - ./deploy --token "$DEPLOY_TOKEN"
migrate-db:
  script:
    - psql "postgres://app:$DB_PASSWORD@db/app"
"""

# The CI file after the team's migration: `deploy` and `passes-on` get their secrets from Vault,
# `local-dev` defines DEPLOY_TOKEN itself; the others still read moved variables without secrets:,
# through a hidden template, `!reference`, `${}`, `%VAR%` and a variable's value.
AFTER_CI = """\
variables:
  DEPLOY_ENV: production
.vault:
  id_tokens:
    VAULT_ID_TOKEN:
      aud: https://vault.example.com
  secrets:
    DEPLOY_TOKEN:
      vault: ci/acme/api/shared/deploy_token@secret
      token: $VAULT_ID_TOKEN
    DB_PASSWORD:
      vault: ci/acme/api/production/db_password@secret
      token: $VAULT_ID_TOKEN
.notify-template:
  script:
    - curl -u "bot:${GROUP_DEPLOY_PASSWORD}" https://chat.example.com
.shared-steps:
  login:
    - echo login with %DB_PASSWORD%
deploy:
  extends: .vault
  script:
    - ./deploy --token "$DEPLOY_TOKEN"
migrate-db:
  script:
    - psql "postgres://app:$DB_PASSWORD@db/app"
notify:
  extends: .notify-template
windows-job:
  script: !reference [.shared-steps, login]
local-dev:
  variables:
    DEPLOY_TOKEN: not-for-production
  script:
    - ./deploy --token "$DEPLOY_TOKEN"
passes-on:
  variables:
    DB_URL: "postgres://app:${DB_PASSWORD}@db/app"
  script: ./run
escaped:
  script:
    - echo "$$DB_PASSWORD is not a reference"
"""
WEB_CI = f"""\
test:
  variables:
    LEGACY_PASSWORD: "{DB_PASSWORD}"
  script: make test
"""


def assert_no_value(*outputs: bytes | str) -> None:
    assert_absent(VALUES, *outputs)


def scan(gl: FakeGitLab, *args, env=ENV):
    result = radar("scan", "gitlab", "--url", gl.url, "--group", "acme", "--jobs", "1", *args, env=env)
    assert_no_value(result.stdout, result.stderr)
    return result


@pytest.fixture
def migrated(gitlab_server: FakeGitLab, tmp_path):
    """The fake GitLab after the migration, and the plan made before it."""
    gl = gitlab_server
    gl.groups = [Group(1, "acme", [variable("GROUP_DEPLOY_PASSWORD", GROUP_SECRET, protected=True, masked=True)])]
    api = Project(10, "acme/api", files={".gitlab-ci.yml": BEFORE_CI}, variables=[
        variable("DEPLOY_TOKEN", DEPLOY_TOKEN, masked=True),
        variable("DB_PASSWORD", DB_PASSWORD, protected=True, masked=True, environment_scope="production"),
        variable("VAULT_SECRET", HIDDEN_SECRET, hidden=True, environment_scope="production"),
    ])
    web = Project(11, "acme/web", files={".gitlab-ci.yml": "test:\n  script: make test\n"})
    gl.projects = [api, web]
    plan = tmp_path / "plan.json"
    before = scan(gl, "--format", "json", "--plan", plan)
    assert before.returncode == 1, before.stderr
    assert_no_value(plan.read_bytes())

    # The migration, as done: DEPLOY_TOKEN and the group's variable deleted; DB_PASSWORD for
    # production forgotten; a new staging DB_PASSWORD (another value, not moved); the deploy
    # token pasted into acme/web's variables, the group's secret into a variable under a key that
    # names no secret, and the production password into acme/web's CI file.
    gl.groups[0].variables = []
    api.variables = [variable("DB_PASSWORD", DB_PASSWORD, protected=True, masked=True, environment_scope="production"),
                     variable("DB_PASSWORD", STAGING_PASSWORD, masked=True, environment_scope="staging"),
                     variable("VAULT_SECRET", HIDDEN_SECRET, hidden=True, environment_scope="production"),
                     variable("OTHER_HIDDEN", HIDDEN_SECRET, hidden=True, environment_scope="production")]
    api.files = {".gitlab-ci.yml": AFTER_CI}
    web.variables = [variable("NEW_DEPLOY_TOKEN", DEPLOY_TOKEN, masked=True, protected=True, environment_scope="prod"),
                     variable("NOTES", GROUP_SECRET, masked=True, protected=True, environment_scope="prod")]
    web.files = {".gitlab-ci.yml": WEB_CI}
    return gl, plan


def migrated_findings(result) -> list[dict]:
    return [f for f in json.loads(result.stdout)["findings"] if f["rule_id"] in RULES]


def test_the_plan_names_its_fingerprint_key(migrated):
    gl, plan = migrated
    key_id = json.loads(plan.read_text())["plan"]["fingerprint_key_id"]
    assert key_id == json.loads(scan(gl, "--format", "json").stdout)["scan"]["fingerprint_key_id"]


def test_only_the_leftovers_of_the_migration_are_reported(migrated):
    gl, plan = migrated
    result = scan(gl, "--format", "json", "--migrated", plan)
    assert result.returncode == 1, result.stderr
    found = {(f["rule_id"], f["project"] if "project" in f else f.get("group"), f.get("key") or f.get("name"),
              f["path"]) for f in migrated_findings(result)}
    assert found == {
        # (a) the production DB_PASSWORD was not deleted; the staging one was never moved
        ("migrated-variable-still-defined", "acme/api", "DB_PASSWORD", "variables/DB_PASSWORD[production]"),
        # a hidden variable (GitLab never returns its value) is known by its place; another hidden
        # variable, without a value to compare, is not a reappearance
        ("migrated-variable-still-defined", "acme/api", "VAULT_SECRET", "variables/VAULT_SECRET[production]"),
        # (b) jobs reading moved variables without secrets: (the hidden template through notify)
        ("migrated-variable-still-read", "acme/api", "DB_PASSWORD", ".gitlab-ci.yml"),
        ("migrated-variable-still-read", "acme/api", "GROUP_DEPLOY_PASSWORD", ".gitlab-ci.yml"),
        # (c) moved values found again: a detector's match re-identified, a value no detector
        # recognises (under the key NOTES), a literal in a CI file
        ("migrated-value-reappeared", "acme/web", "NEW_DEPLOY_TOKEN", "variables/NEW_DEPLOY_TOKEN[prod]"),
        ("migrated-value-reappeared", "acme/web", "NOTES", "variables/NOTES[prod]"),
        ("migrated-value-reappeared", "acme/web", "LEGACY_PASSWORD", ".gitlab-ci.yml"),
    }


def test_each_job_that_still_reads_a_moved_variable_is_its_own_finding(migrated):
    gl, plan = migrated
    reads = [f for f in migrated_findings(scan(gl, "--format", "json", "--migrated", plan))
             if f["rule_id"] == "migrated-variable-still-read"]
    jobs = {(f["description"].split()[1], f["name"], f["line"]) for f in reads}
    lines = AFTER_CI.splitlines()
    line = {name: lines.index(f"{name}:") + 1 for name in ("migrate-db", "notify", "windows-job", "passes-on")}
    assert jobs == {("migrate-db", "DB_PASSWORD", line["migrate-db"]),
                    ("notify", "GROUP_DEPLOY_PASSWORD", line["notify"]),
                    ("windows-job", "DB_PASSWORD", line["windows-job"]),
                    ("passes-on", "DB_PASSWORD", line["passes-on"])}
    migrate_db = next(f for f in reads if f["description"].startswith("job migrate-db "))
    # The remediation is the plan's own secrets: entry, and the stanza that provides it.
    assert "DB_PASSWORD: {vault: ci/acme/api/production/db_password@secret, file: false}" in migrate_db["remediation"]
    assert "extend .vault-acme-api-production" in migrate_db["remediation"]
    assert len({f["fingerprint"] for f in reads}) == len(reads)


def test_a_value_found_again_is_one_finding_with_the_vault_place_and_a_rotation(migrated):
    gl, plan = migrated
    findings = migrated_findings(scan(gl, "--format", "json", "--migrated", plan))
    again = [f for f in findings if f["rule_id"] == "migrated-value-reappeared"]
    in_ci_file = [f for f in again if f["path"] == ".gitlab-ci.yml"]
    assert len(in_ci_file) == 1  # the detector's match and the literal check agree: one finding
    assert (in_ci_file[0]["line"], in_ci_file[0]["column"]) == (3, 23)
    token = next(f for f in again if f.get("key") == "NEW_DEPLOY_TOKEN")
    assert token["secret_type"] == "GitLab access token"  # what the detector saw, kept
    assert token["severity"] == "critical"
    assert "ci/acme/api/shared" in token["description"] and token["remediation"].startswith("rotate it")
    # Still a detector finding elsewhere? No: the value's match was re-identified, not doubled.
    all_findings = json.loads(scan(gl, "--format", "json", "--migrated", plan).stdout)["findings"]
    at_token = [f["rule_id"] for f in all_findings
                if f.get("key") == "NEW_DEPLOY_TOKEN" and not f["rule_id"].startswith("gitlab-variable-")]
    assert at_token == ["migrated-value-reappeared"]


def test_without_the_flag_the_scan_is_unchanged(migrated):
    gl, plan = migrated
    assert migrated_findings(scan(gl, "--format", "json")) == []


def test_nothing_left_behind_means_no_migrated_finding(migrated):
    gl, plan = migrated
    gl.groups[0].variables = []
    for project in gl.projects:
        project.variables = []
        project.files = {".gitlab-ci.yml": "deploy:\n  extends: .vault\n  script: ./deploy \"$DEPLOY_TOKEN\"\n"
                                           ".vault:\n  secrets:\n    DEPLOY_TOKEN:\n"
                                           "      vault: ci/acme/api/shared/deploy_token@secret\n"}
    result = scan(gl, "--format", "json", "--migrated", plan)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["findings"] == []


def test_a_plan_made_under_another_fingerprint_key_is_refused(migrated):
    gl, plan = migrated
    result = scan(gl, "--format", "json", "--migrated", plan, env=clean_env(RADAR_FINGERPRINT_KEY="another",
                                                                             GITLAB_TOKEN=TOKEN))
    assert result.returncode == 2
    message = assert_one_line_error(result)
    assert "was made with fingerprint key id" in message and "set RADAR_FINGERPRINT_KEY" in message


def test_a_ci_file_that_cannot_be_checked_makes_the_scan_incomplete(migrated):
    gl, plan = migrated
    gl.projects[0].files = {".gitlab-ci.yml": "deploy:\n  extends: .missing\n"}
    result = scan(gl, "--format", "json", "--migrated", plan)
    assert result.returncode == 2
    stderr = result.stderr.decode()
    assert ("radar: warning: project acme/api: .gitlab-ci.yml: cannot check its jobs against the migration plan"
            in stderr)
    assert "extends unknown job '.missing'" in stderr
    assert stderr.splitlines()[-1].startswith("radar: error: scan incomplete: 1 CI file could not be read")
    # The report is still written, with the other leftovers.
    assert {f["rule_id"] for f in migrated_findings(result)} >= {"migrated-variable-still-defined"}


def test_every_report_format_of_a_gitlab_scan_carries_the_three_rules(migrated, tmp_path):
    from radar.report import FORMATS
    from test_report_formats import ACCEPTED_NOTES, gitlab_schema_validator, sarif_validator_results

    gl, plan = migrated
    reports = {}
    for name in FORMATS:
        path = tmp_path / f"report.{name}"
        result = scan(gl, "--format", name, "--output", path, "--migrated", plan)
        assert result.returncode == 1, result.stderr
        reports[name] = path.read_text(encoding="utf-8")
        assert_no_value(reports[name])
        assert all(rule in reports[name] for rule in RULES), name
    gitlab = json.loads(reports["gitlab"])
    assert [f"{list(e.absolute_path)}: {e.message}" for e in gitlab_schema_validator().iter_errors(gitlab)] == []
    defined = next(v for v in gitlab["vulnerabilities"]
                   if v["identifiers"][0]["value"] == "migrated-variable-still-defined")
    assert defined["name"] == "CI/CD variable the migration moved to Vault is still defined in GitLab"
    assert defined["identifiers"][0]["url"] == "https://docs.gitlab.com/ci/secrets/"
    sarif = tmp_path / "radar.sarif"
    sarif.write_text(reports["sarif"], encoding="utf-8")
    results = sarif_validator_results(sarif, tmp_path / "validation.sarif")
    assert [r for r in results if r.get("level", "warning") != "note"] == []
    # SARIF2012 (no helpUri) is noted for the GitLab checks that have no documentation page;
    # the three rules here have one.
    assert {r["ruleId"] for r in results} <= ACCEPTED_NOTES | {"SARIF2012"}
    no_help = [r["message"]["arguments"][1] for r in results if r["ruleId"] == "SARIF2012"]
    assert no_help and not [rule for rule in no_help if rule.startswith("migrated-")]
