"""`radar audit ci` as users run it: every report format (GitLab's and SARIF's validated against
their schemas), --output, --baseline, exit statuses, and hostile files that end in one error line
or in findings, never in a traceback or a value from the file."""

from __future__ import annotations

import csv
import io
import json
import subprocess
from pathlib import Path

import pytest

from radar.report.json import SCHEMA_PATH
from radar_cli import RADAR, WAIT, assert_absent, assert_one_line_error, clean_env, radar
from report_schemas import GITLAB_SCHEMA, SARIF_SCHEMA, validator
from test_report_formats import ACCEPTED_NOTES, sarif_validator_results

KEY = "a-fingerprint-key-for-the-audit-tests"
ENV = clean_env(RADAR_FINGERPRINT_KEY=KEY)
# A value written into the CI file: the audit reads settings, and must never print it.
PLANTED = "hunter2-planted-db-password-9f3k"

LEAKY = f"""\
variables:
  DB_PASSWORD_FALLBACK: "{PLANTED}"
deploy:
  environment: production
  secrets:
    DB_PASSWORD:
      vault: ci/app/production/db/password@secret
      file: false
  script:
    - set -x
    - echo "$DB_PASSWORD"
"""
CLEAN = """\
deploy:
  id_tokens:
    VAULT_ID_TOKEN:
      aud: https://vault.example.com
  environment: production
  rules:
    - if: $CI_COMMIT_REF_PROTECTED == "true"
  secrets:
    DB_PASSWORD:
      vault: ci/app/production/db/password@secret
      file: false
      token: $VAULT_ID_TOKEN
  script:
    - echo "$DB_PASSWORD" | ./deploy --password-stdin
"""
LEAKY_RULES = {("ci-secrets-without-id-token", 3), ("ci-secrets-unprotected-ref", 3), ("ci-shell-trace", 10),
               ("ci-secret-echoed", 11)}


def run(*args, env: dict[str, str] = ENV) -> subprocess.CompletedProcess:
    result = radar("audit", "ci", *args, env=env)
    assert_absent([PLANTED], result.stdout, result.stderr)
    return result


@pytest.fixture
def leaky(tmp_path) -> Path:
    (tmp_path / ".gitlab-ci.yml").write_text(LEAKY)
    return tmp_path


def test_findings_exit_1_with_each_rule_at_its_line(leaky):
    result = run(leaky, "--format", "json")
    assert result.returncode == 1, result.stderr
    document = json.loads(result.stdout)
    validator(SCHEMA_PATH).validate(document)
    assert {(f["rule_id"], f["line"]) for f in document["findings"]} == LEAKY_RULES
    assert {f["path"] for f in document["findings"]} == {".gitlab-ci.yml"}
    assert all(f["secret_type"] == "gitlab-ci-config" and f["remediation"] for f in document["findings"])


def test_a_clean_pipeline_exits_0(tmp_path):
    (tmp_path / ".gitlab-ci.yml").write_text(CLEAN)
    result = run(tmp_path / ".gitlab-ci.yml", "--format", "json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["findings"] == []


def test_without_a_path_the_current_directorys_ci_file_is_audited(leaky):
    result = subprocess.run([*RADAR, "audit", "ci", "--format", "json"], cwd=leaky, capture_output=True, env=ENV,
                            timeout=WAIT)
    assert result.returncode == 1, result.stderr
    assert {(f["rule_id"], f["line"]) for f in json.loads(result.stdout)["findings"]} == LEAKY_RULES


def test_the_gitlab_report_is_valid_against_gitlabs_schema(leaky):
    document = json.loads(run(leaky, "--format", "gitlab").stdout)
    assert [f"{list(e.absolute_path)}: {e.message}" for e in validator(GITLAB_SCHEMA).iter_errors(document)] == []
    assert len(document["vulnerabilities"]) == len(LEAKY_RULES)


def test_the_sarif_report_is_valid_and_describes_each_rule_with_its_fix(leaky):
    document = json.loads(run(leaky, "--format", "sarif").stdout)
    assert [f"{list(e.absolute_path)}: {e.message}" for e in validator(SARIF_SCHEMA).iter_errors(document)] == []
    run_ = document["runs"][0]
    assert {r["id"] for r in run_["tool"]["driver"]["rules"]} == {rule for rule, _ in LEAKY_RULES}
    trace = next(r for r in run_["tool"]["driver"]["rules"] if r["id"] == "ci-shell-trace")
    assert "set +x" in trace["help"]["text"]
    assert trace["helpUri"] == "https://docs.gitlab.com/ci/secrets/"  # the page every rule follows
    assert {(r["ruleId"], r["locations"][0]["physicalLocation"]["region"]["startLine"])
            for r in run_["results"]} == LEAKY_RULES


def test_the_sarif_report_passes_microsofts_validator(leaky, tmp_path):
    path = tmp_path / "audit.sarif"
    path.write_bytes(run(leaky, "--format", "sarif").stdout)
    results = sarif_validator_results(path, tmp_path / "validation.sarif")
    assert [(r["ruleId"], r.get("level", "warning")) for r in results if r.get("level", "warning") != "note"] == []
    assert {r["ruleId"] for r in results} <= ACCEPTED_NOTES


@pytest.mark.parametrize("format", ["text", "csv", "markdown", "html"])
def test_every_format_for_people_lists_every_rule(leaky, format):
    result = run(leaky, "--format", format)
    assert result.returncode == 1, result.stderr
    out = result.stdout.decode()
    for rule_id, _ in LEAKY_RULES:
        assert rule_id in out, rule_id
    if format == "csv":
        assert len(list(csv.DictReader(io.StringIO(out)))) == len(LEAKY_RULES)


def test_output_writes_the_report_to_a_file(leaky, tmp_path):
    target = tmp_path / "report.sarif"
    result = run(leaky, "--format", "sarif", "--output", target)
    assert result.returncode == 1 and result.stdout == b""
    assert json.loads(target.read_text())["version"] == "2.1.0"


def test_a_baseline_keeps_known_findings_quiet_and_reports_a_new_one(leaky, tmp_path):
    baseline = tmp_path / "audit-baseline.toml"
    created = radar("baseline", "create", baseline, "audit", "ci", leaky, env=ENV)
    assert created.returncode == 0, created.stderr
    assert_absent([PLANTED], baseline.read_text())
    # Unrelated lines move the findings: they stay known.
    (leaky / ".gitlab-ci.yml").write_text("stages: [deploy]\n\n" + LEAKY)
    quiet = run(leaky, "--baseline", baseline, "--format", "json")
    assert quiet.returncode == 0, quiet.stderr
    assert json.loads(quiet.stdout)["findings"] == []
    (leaky / ".gitlab-ci.yml").write_text(LEAKY + "    - env\n")
    new = run(leaky, "--baseline", baseline, "--format", "json")
    assert new.returncode == 1
    assert [f["rule_id"] for f in json.loads(new.stdout)["findings"]] == ["ci-environment-dumped"]


def test_a_missing_file_is_one_error_line_naming_it(tmp_path):
    result = run(tmp_path)
    assert result.returncode == 2
    assert ".gitlab-ci.yml: no such file" in assert_one_line_error(result)


def test_malformed_yaml_is_one_error_line_without_the_files_text(tmp_path):
    (tmp_path / ".gitlab-ci.yml").write_text(f"deploy:\n  script: [\"{PLANTED}\"\n  oops: {{\n")
    result = run(tmp_path)
    assert result.returncode == 2
    assert "malformed YAML" in assert_one_line_error(result, PLANTED.encode())


def test_an_alias_bomb_is_refused_in_one_line(tmp_path):
    lines = ['a0: &a0 ["x", "x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    lines += [f"a{n}: &a{n} [" + ", ".join([f"*a{n - 1}"] * 10) + "]" for n in range(1, 9)]
    (tmp_path / ".gitlab-ci.yml").write_text("\n".join(lines) + "\njob:\n  script: *a8\n")
    result = run(tmp_path)
    assert result.returncode == 2
    assert "values" in assert_one_line_error(result)


def test_deep_nesting_is_refused_in_one_line(tmp_path):
    (tmp_path / ".gitlab-ci.yml").write_text("job:\n  script: " + "[" * 200 + "]" * 200 + "\n")
    result = run(tmp_path)
    assert result.returncode == 2
    assert "levels deep" in assert_one_line_error(result)


def test_a_configuration_over_the_size_limit_is_refused_in_one_line(tmp_path):
    (tmp_path / ".gitlab-ci.yml").write_text("job:\n  script:\n" + "    - echo hello\n" * 400_000)
    result = run(tmp_path)
    assert result.returncode == 2
    assert "larger than 4 MB" in assert_one_line_error(result)


def test_a_huge_script_within_the_limits_is_audited(tmp_path):
    body = "".join(f"    - echo step {n} done\n" for n in range(50_000))
    (tmp_path / ".gitlab-ci.yml").write_text(LEAKY + body + "    - printenv\n")
    result = run(tmp_path, "--format", "json")
    assert result.returncode == 1, result.stderr
    found = {(f["rule_id"], f["line"]) for f in json.loads(result.stdout)["findings"]}
    assert found == LEAKY_RULES | {("ci-environment-dumped", 12 + 50_000)}


def test_audit_ci_takes_no_scan_only_options(leaky):
    result = run(leaky, "--history")
    assert result.returncode == 2 and b"unrecognized arguments: --history" in result.stderr


def test_an_include_that_is_not_followed_is_a_warning_and_the_rest_is_audited(leaky):
    (leaky / ".gitlab-ci.yml").write_text("include:\n  - project: group/ci\n    file: /vault.yml\n" + LEAKY)
    result = run(leaky, "--format", "json")
    assert result.returncode == 1
    assert b"radar: warning: .gitlab-ci.yml: include 'project: group/ci' is not followed" in result.stderr
    assert len(json.loads(result.stdout)["findings"]) == len(LEAKY_RULES)
