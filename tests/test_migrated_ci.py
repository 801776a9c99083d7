"""After the migration, in `.gitlab-ci.yml` files and in repositories: jobs that still read a moved variable
without `secrets:` (extends:, !reference, hidden templates, default:, the reference forms), which moved
variables a file is checked for, moved values found again in a directory and in history, and the three
rules through every report format (SARIF and GitLab's report validated against their schemas)."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from radar.plan.read import parse_migration
from radar.report import FORMATS
from radar.scan.examples import expand
from radar.scan.findings import FingerprintKey
from radar.scan.migrated import _TOP_KEY, REAPPEARED, STILL_READ, _top_level_lines, check_ci_file
from radar_cli import assert_absent, clean_env, radar
from test_report_formats import ACCEPTED_NOTES, gitlab_schema_validator, sarif_validator_results

KEY = FingerprintKey(b"migrated-ci")
ENV = clean_env(RADAR_FINGERPRINT_KEY="migrated-ci")
GITLAB_TOKEN = "glpat-" + expand("{b64url:20}", "migrated-ci-token")
PASSWORD = "Hq7vpL2wQ8tmN4rz7Yh3"
PLANTED = (GITLAB_TOKEN, PASSWORD)


def moved(*variables: tuple[str, str, str], fingerprints: tuple[str, ...] = ()) -> object:
    """A plan that moved these (owner, key, scope) variables, each to its own Vault field."""
    entries = [{"fingerprint": KEY.fingerprint(f"value of {owner}/{key}"), "mount": "secret",
                "path": f"ci/{owner}/shared", "field": key.lower(), "vault": f"ci/{owner}/shared/{key.lower()}@secret",
                "file": False, "places": [{"path": f"variables/{key}[{scope}]", "line": 1, "project": owner,
                                           "variable_key": key, "environment_scope": scope}]}
               for owner, key, scope in variables]
    entries += [{"fingerprint": fp, "mount": "secret", "path": "ci/app/shared", "field": f"value_{n}",
                 "vault": f"ci/app/shared/value_{n}@secret", "file": False,
                 "places": [{"path": "config.env", "line": 1, "project": "app"}]} for n, fp in enumerate(fingerprints)]
    targets = [{"project": owner, "environment": "shared", "ci_template": f".vault-{owner.replace('/', '-')}-shared",
                "secrets": [{"variable": key, "vault": f"ci/{owner}/shared/{key.lower()}@secret", "file": False}]}
               for owner, key, _ in variables]
    return parse_migration(json.dumps({"plan": {"fingerprint_key_id": KEY.key_id}, "entries": entries,
                                       "targets": targets}))


API = moved(("acme/api", "DB_PASSWORD", "production"), ("acme", "GROUP_TOKEN", "*"), ("instance", "ADMIN_KEY", "*"),
            ("acme/web", "WEB_SECRET", "*"), ("other", "OTHER_TOKEN", "*"))


def reads(text: str, owner: str | None = "acme/api", migration=API) -> set[tuple[str, str]]:
    """(job, variable) of each migrated-variable-still-read finding in CI file `text`."""
    checked = check_ci_file(text, ".gitlab-ci.yml", owner, migration, KEY)
    assert checked.problem is None, checked.problem
    return {(f.description.split()[1], f.name) for f in checked.findings if f.rule_id == STILL_READ}


@pytest.mark.parametrize("script", [
    'echo "$DB_PASSWORD"', "echo ${DB_PASSWORD}", "echo ${DB_PASSWORD:-none}", "echo %DB_PASSWORD%",
    "Write-Output $env:DB_PASSWORD", "psql postgres://u:$DB_PASSWORD@db",
])
def test_every_form_of_reading_a_variable_counts(script):
    assert reads(f"job:\n  script:\n    - '{script}'\n") == {("job", "DB_PASSWORD")}


@pytest.mark.parametrize("script", [
    "echo $DB_PASSWORD_OLD", "echo $$DB_PASSWORD", "echo DB_PASSWORD", "echo $db_password", "echo ${DB_PASSWORDS}",
])
def test_look_alikes_are_not_reads(script):
    assert reads(f"job:\n  script:\n    - '{script}'\n") == set()


def test_a_secrets_entry_of_that_name_is_enough_wherever_it_comes_from():
    text = """\
.vault:
  secrets:
    DB_PASSWORD:
      vault: ci/acme/api/shared/db_password@secret
direct:
  secrets:
    DB_PASSWORD:
      vault: ci/acme/api/shared/db_password@secret
  script: echo $DB_PASSWORD
extended:
  extends: .vault
  script: echo $DB_PASSWORD
wrong-name:
  secrets:
    DATABASE_PASSWORD:
      vault: ci/acme/api/shared/db_password@secret
  script: echo $DB_PASSWORD
"""
    assert reads(text) == {("wrong-name", "DB_PASSWORD")}


def test_hidden_templates_are_reported_through_the_jobs_that_use_them():
    text = """\
.base:
  before_script:
    - export T=$GROUP_TOKEN
.middle:
  extends: .base
  script: echo middle
one:
  extends: .middle
two:
  extends: [.base]
  before_script: echo "overridden, reads nothing"
"""
    assert reads(text) == {("one", "GROUP_TOKEN")}


def test_reference_default_and_global_variables_are_resolved():
    text = """\
variables:
  URL: "https://admin:$ADMIN_KEY@example.com"
  SAFE: "plain"
default:
  after_script:
    - echo ${DB_PASSWORD}
.snippets:
  read: ['echo $GROUP_TOKEN']
inherits-all:
  script: !reference [.snippets, read]
no-defaults:
  inherit:
    default: false
    variables: false
  script: echo nothing
only-safe:
  inherit:
    default: [before_script]
    variables: [SAFE]
  script: echo $SAFE
"""
    assert reads(text) == {("inherits-all", "ADMIN_KEY"), ("inherits-all", "DB_PASSWORD"),
                           ("inherits-all", "GROUP_TOKEN")}


def test_a_job_variable_replaces_the_files_variable_of_the_same_name():
    text = """\
variables:
  DSN: "postgres://app:$DB_PASSWORD@db"
  DB_PASSWORD: "set-in-the-file"
replaces-dsn:
  variables:
    DSN: "sqlite://local"
  script: echo $DSN
keeps-dsn:
  script: echo $DSN
reads-through-its-own:
  variables:
    DB_PASSWORD: $DB_PASSWORD
  script: echo $DSN
only-dsn:
  inherit:
    variables: [DSN]
  script: echo $DSN
"""
    # DSN reads DB_PASSWORD, which the file defines itself: only a job that replaces the file's
    # definition with a reference of the moved variable reads it, and one inheriting DSN alone.
    assert reads(text) == {("reads-through-its-own", "DB_PASSWORD"), ("only-dsn", "DB_PASSWORD")}


def test_a_job_that_defines_the_variable_itself_reads_its_own_definition():
    text = """\
own:
  variables:
    DB_PASSWORD: local-only
  script: echo $DB_PASSWORD
passes-it-on:
  variables:
    DB_PASSWORD: $DB_PASSWORD
  script: echo $DB_PASSWORD
raw:
  variables:
    NOTE:
      value: "$DB_PASSWORD"
      expand: false
  script: echo $NOTE
"""
    assert reads(text) == {("passes-it-on", "DB_PASSWORD")}


def test_a_file_is_checked_for_its_project_its_groups_and_the_instance():
    text = "job:\n  script: echo $DB_PASSWORD $GROUP_TOKEN $ADMIN_KEY $WEB_SECRET $OTHER_TOKEN\n"
    assert {v for _, v in reads(text, "acme/api")} == {"DB_PASSWORD", "GROUP_TOKEN", "ADMIN_KEY"}
    assert {v for _, v in reads(text, "acme/web")} == {"GROUP_TOKEN", "ADMIN_KEY", "WEB_SECRET"}
    assert {v for _, v in reads(text, "acmex/api")} == {"ADMIN_KEY"}  # acme is not acmex's group
    assert {v for _, v in reads(text, None)} == {"DB_PASSWORD", "GROUP_TOKEN", "ADMIN_KEY", "WEB_SECRET",
                                                 "OTHER_TOKEN"}


def test_findings_point_at_the_job_and_say_what_to_add():
    text = 'variables:\n  A: "1"\n\n"quoted job":\n  script: echo $GROUP_TOKEN\n'
    [finding] = check_ci_file(text, "ci/pipeline.yml", "acme/api", API, KEY).findings
    assert (finding.path, finding.line, finding.origin.project) == ("ci/pipeline.yml", 4, "acme/api")
    assert finding.remediation == ("add a secrets: entry for GROUP_TOKEN to job quoted job: GROUP_TOKEN: "
                                   "{vault: ci/acme/shared/group_token@secret, file: false} with the job's Vault ID "
                                   "token, or let the job extend .vault-acme-shared (radar plan's CI stanza, which "
                                   "provides it)")


def test_a_literal_holding_a_moved_value_is_found_where_it_is_written():
    migration = moved(fingerprints=(KEY.fingerprint(PASSWORD),))
    text = f'.hidden:\n  variables:\n    PW: {{value: "{PASSWORD}"}}\njob:\n  script: make\n'
    [finding] = check_ci_file(text, ".gitlab-ci.yml", None, migration, KEY).findings
    assert (finding.rule_id, finding.line, finding.column, finding.name) == (REAPPEARED, 3, 18, "PW")
    assert finding.fingerprint == KEY.fingerprint(PASSWORD) and finding.preview == "Hq7v…"


def test_jobs_of_a_file_with_include_are_still_checked():
    # radar does not follow include:; the file's own jobs are checked, and an extends: of a job
    # defined only in an included file is a problem named in a warning, not a silent pass.
    text = "include:\n  - local: ci/other.yml\njob:\n  script: echo $DB_PASSWORD\n"
    assert reads(text) == {("job", "DB_PASSWORD")}
    checked = check_ci_file(text + "other:\n  extends: .from-include\n", ".gitlab-ci.yml", "acme/api", API, KEY)
    assert "extends unknown job '.from-include'" in checked.problem


def test_the_files_variables_are_read_once_not_once_per_job(monkeypatch):
    """Work done, not time: each `variables:` entry is read once however many jobs inherit it
    (reading every top-level variable for every job cost jobs x variables)."""
    import radar.vault.ciyaml as ciyaml

    reads_of_variables = []
    original = ciyaml._variable
    monkeypatch.setattr(ciyaml, "_variable", lambda *a: reads_of_variables.append(a[0]) or original(*a))
    top = [f'  V{i}: "https://u:$DB_PASSWORD@host/{i}"' for i in range(300)]
    jobs = [f"job-{i}:\n  variables:\n    OWN: x\n  script: echo $GROUP_TOKEN" for i in range(300)]
    text = "variables:\n" + "\n".join(top) + "\n" + "\n".join(jobs) + "\n"
    found = reads(text)
    assert len(found) == 600  # every job reads both: DB_PASSWORD through the file's variables
    assert len(reads_of_variables) == 300 + 300


@pytest.mark.parametrize("text, expected", [
    ("job:\n  extends: .missing\n", "extends unknown job '.missing'"),
    ("job: [\n", "malformed YAML"),
    ("a: &a [*a]\n", "inside its own anchor"),
    ("job:\n  script: !reference [.nope, script]\n", "could not be found"),
])
def test_a_file_that_cannot_be_resolved_is_a_problem_not_a_crash(text, expected):
    checked = check_ci_file(text, ".gitlab-ci.yml", "acme/api", API, KEY)
    assert checked.findings == ()
    assert checked.problem.startswith("project acme/api: .gitlab-ci.yml: cannot check its jobs against the migration")
    assert expected in checked.problem


yaml_words = st.sampled_from(["job", ".hidden", "script", "before_script", "variables", "extends", "secrets",
                              "default", "inherit", "- ", ": ", "\n", "  ", "$DB_PASSWORD", "${GROUP_TOKEN}",
                              "%ADMIN_KEY%", "!reference [.hidden, script]", "[", "]", "{", "}", "&a", "*a", "'", '"'])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=st.lists(yaml_words, max_size=40).map("".join) | st.text(max_size=200))
def test_any_ci_text_gives_findings_or_one_problem(text):
    checked = check_ci_file(text, ".gitlab-ci.yml", "acme/api", API, KEY)
    assert checked.problem is None or (not checked.findings and "\n" not in checked.problem)
    for f in checked.findings:
        assert f.rule_id == STILL_READ and f.line >= 1 and not f.name.startswith("$")


# --- directory and history scans through the command line ---------------------------------------

def assert_no_value(*outputs: bytes | str) -> None:
    assert_absent(PLANTED, *outputs)


def git(repo: Path, *args: str) -> str:
    env = {"PATH": "/usr/bin:/bin", "GIT_AUTHOR_NAME": "Dev", "GIT_AUTHOR_EMAIL": "dev@example.com",
           "GIT_COMMITTER_NAME": "Dev", "GIT_COMMITTER_EMAIL": "dev@example.com",
           "GIT_AUTHOR_DATE": "2024-03-01T12:00:00+00:00", "GIT_COMMITTER_DATE": "2024-03-01T12:00:00+00:00"}
    return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, env=env, check=True,
                          text=True).stdout.strip()


def scan(*args) -> tuple[subprocess.CompletedProcess, list[dict]]:
    result = radar("scan", *args, "--format", "json", env=ENV)
    assert_no_value(result.stdout, result.stderr)
    return result, json.loads(result.stdout)["findings"] if result.stdout else []


@pytest.fixture
def planned(tmp_path) -> tuple[Path, Path]:
    """A repository whose config/deploy.env held both values, and the plan made from its scan."""
    repo = tmp_path / "app"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    (repo / "config").mkdir()
    (repo / "config" / "deploy.env").write_text(f"GITLAB_TOKEN={GITLAB_TOKEN}\nDB_PASSWORD={PASSWORD}\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "config")
    plan = tmp_path / "plan.json"
    result = radar("scan", repo, "--format", "json", "--plan", plan, "--project", "acme/app", env=ENV)
    assert result.returncode == 1, result.stderr
    return repo, plan


def migrate(repo: Path) -> None:
    """The migration, with one slip: the token was pasted into a new file, in a new commit."""
    (repo / "config" / "deploy.env").write_text("GITLAB_TOKEN=\nDB_PASSWORD=\n")
    (repo / "scripts").mkdir()
    (repo / "scripts" / "release.sh").write_text(f"export RELEASE_TOKEN={GITLAB_TOKEN}\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "move to vault")


def test_a_moved_value_found_again_in_a_directory_is_re_identified(planned):
    repo, plan = planned
    migrate(repo)
    result, findings = scan(repo, "--migrated", plan)
    assert result.returncode == 1, result.stderr
    assert [(f["rule_id"], f["path"], f["secret_type"]) for f in findings] == [
        (REAPPEARED, "scripts/release.sh", "GitLab access token")]
    assert "ci/acme/app/" in findings[0]["description"] and findings[0]["remediation"].startswith("rotate it")
    # Without --migrated the same value is the detector's finding: the flag re-identifies, it does not add.
    _, plain = scan(repo)
    assert [(f["rule_id"], f["path"]) for f in plain] == [("gitlab-personal-access-token", "scripts/release.sh")]


def test_in_history_every_commit_that_still_holds_a_moved_value_is_reported(planned):
    repo, plan = planned
    migrate(repo)
    result, findings = scan(repo, "--history", "--migrated", plan)
    assert result.returncode == 1, result.stderr
    # Rotation is what makes the copies in history worthless: each value is reported, once, with its commits.
    assert sorted((f["rule_id"], f["in_head"], len(f["locations"])) for f in findings) == [
        (REAPPEARED, False, 1), (REAPPEARED, True, 2)]


def test_the_root_ci_file_of_a_directory_scan_is_checked(planned, tmp_path):
    repo, plan = planned
    migrate(repo)
    # The plan moved file values only; a GitLab plan moves variables: use one that moved DB_PASSWORD.
    document = json.loads(plan.read_text())
    document["entries"][0]["places"].append({"path": "variables/DB_PASSWORD[*]", "line": 1, "project": "acme",
                                             "variable_key": "DB_PASSWORD", "environment_scope": "*"})
    gitlab_plan = tmp_path / "gitlab-plan.json"
    gitlab_plan.write_text(json.dumps(document))
    (repo / ".gitlab-ci.yml").write_text("migrate:\n  script: psql -p $DB_PASSWORD\n")
    _, findings = scan(repo, "--migrated", gitlab_plan)
    assert [(f["rule_id"], f["path"], f["line"], f["name"]) for f in findings if f["rule_id"] == STILL_READ] == [
        (STILL_READ, ".gitlab-ci.yml", 1, "DB_PASSWORD")]
    # --project names the directory's project: a variable of another group does not apply to it.
    _, other = scan(repo, "--migrated", gitlab_plan, "--project", "other/app")
    assert [f for f in other if f["rule_id"] == STILL_READ] == []
    (repo / ".gitlab-ci.yml").write_text("migrate: [\n")
    result, findings = scan(repo, "--migrated", gitlab_plan)
    assert result.returncode == 2
    assert ".gitlab-ci.yml: cannot check its jobs against the migration plan" in result.stderr.decode()
    assert {f["rule_id"] for f in findings} == {REAPPEARED}  # the report still holds what was found


# --- every report format --------------------------------------------------------------------------

@pytest.fixture
def reports(planned, tmp_path) -> dict[str, str]:
    repo, plan = planned
    migrate(repo)
    document = json.loads(plan.read_text())
    document["entries"][0]["places"].append({"path": "variables/DB_PASSWORD[*]", "line": 1, "project": "acme/app",
                                             "variable_key": "DB_PASSWORD", "environment_scope": "*"})
    plan.write_text(json.dumps(document))
    (repo / ".gitlab-ci.yml").write_text("migrate:\n  script: psql -p $DB_PASSWORD\n")
    out = {}
    for name in FORMATS:
        path = tmp_path / f"report.{name}"
        result = radar("scan", repo, "--migrated", plan, "--format", name, "--output", path, env=ENV)
        assert result.returncode == 1, result.stderr
        out[name] = path.read_text(encoding="utf-8")
        assert_no_value(out[name], result.stderr)
    return out


def test_every_format_carries_the_rule_ids(reports):
    for name, text in reports.items():
        assert STILL_READ in text and REAPPEARED in text, name


def test_sarif_describes_the_rules_and_passes_the_validator(reports, tmp_path):
    document = json.loads(reports["sarif"])
    rules = {r["id"]: r for r in document["runs"][0]["tool"]["driver"]["rules"]}
    assert set(rules) == {STILL_READ, REAPPEARED}
    # Rule-level texts, not one finding's: the job and the Vault path are in each result's message.
    assert rules[STILL_READ]["shortDescription"]["text"] == \
        "CI job reads a variable the migration moved to Vault without a secrets: entry for it."
    assert rules[STILL_READ]["help"]["text"].startswith("Add a secrets: entry of that name to the job")
    assert rules[STILL_READ]["helpUri"] == "https://docs.gitlab.com/ci/secrets/"
    assert rules[REAPPEARED]["help"]["text"].startswith("Rotate the credential")
    results = {r["ruleId"]: r for r in document["runs"][0]["results"]}
    assert "job migrate reads $DB_PASSWORD" in results[STILL_READ]["message"]["text"]
    path = tmp_path / "radar.sarif"
    path.write_text(reports["sarif"], encoding="utf-8")
    results = sarif_validator_results(path, tmp_path / "validation.sarif")
    assert [r for r in results if r.get("level", "warning") != "note"] == []
    assert {r["ruleId"] for r in results} <= ACCEPTED_NOTES


def test_the_gitlab_report_is_valid_and_names_the_rules(reports):
    document = json.loads(reports["gitlab"])
    assert [f"{list(e.absolute_path)}: {e.message}" for e in gitlab_schema_validator().iter_errors(document)] == []
    names = {i["value"]: v["name"] for v in document["vulnerabilities"] for i in v["identifiers"]}
    assert names == {STILL_READ: "CI job reads a variable the migration moved to Vault without a secrets: entry for it",
                     REAPPEARED: "Value the migration moved to Vault is exposed again"}
    still_read = next(v for v in document["vulnerabilities"] if v["identifiers"][0]["value"] == STILL_READ)
    assert "DB_PASSWORD: {vault: ci/acme/app/" in still_read["solution"]


# The expression before: its plain key was lazy before `[ \t]*:`, quadratic over a line of blanks.
_LAZY_TOP_KEY = re.compile(r"""^(?:"((?:[^"\\]|\\.)*)"|'((?:[^']|'')*)'|([^\s#'"][^:#]*?))[ \t]*:(?:[ \t]|$)""")


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet="ab :#'\"\\\t-", max_size=16))
def test_a_top_level_key_is_read_as_before_and_a_long_line_returns(line):
    old, new = _LAZY_TOP_KEY.match(line), _TOP_KEY.match(line)
    assert (old and old.groups()) == (new and new.groups())
    assert _top_level_lines("a" + " " * 2_000_000 + line.replace(":", "") + "\n") == {}
