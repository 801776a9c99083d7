"""`radar plan` and `radar scan --plan` through the real command line: formats, files, exit statuses,
and every bad input as one `radar: error:` line with exit status 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from radar_cli import assert_absent, assert_one_line_error, clean_env, radar

ENV = clean_env(RADAR_FINGERPRINT_KEY="plan-cli")
PASSWORD = "Vq3#xL9pK2mW7zR4tY8n"


def finding(**fields) -> dict:
    base = {"rule_id": "generic-password", "secret_type": "Password", "description": "Password", "path": ".env.staging",
            "line": 1, "column": 13, "end_line": 1, "end_column": 32, "severity": "high", "confidence": "high",
            "fingerprint": "ab" * 32, "preview": "Vq3#…", "tags": [], "ignored": False, "name": "DB_PASSWORD"}
    base.update(fields)
    return base


def document(findings: list, **parts) -> dict:
    """A whole report, as radar scan --format json writes it (the schema requires summary and scan)."""
    scan = {"kind": "directory", "target": "app", "root": "/work/app", "started": "2024-03-01T12:00:00Z",
            "finished": "2024-03-01T12:00:05Z", "radar_version": "0.1.0"}
    return {"findings": findings, "summary": {"findings": len(findings)}, "scan": scan, **parts}


def report(tmp_path: Path, document: object, name: str = "findings.json") -> Path:
    path = tmp_path / name
    path.write_text(document if isinstance(document, str) else json.dumps(document))
    return path


@pytest.fixture
def repo(tmp_path) -> Path:
    root = tmp_path / "app"
    (root / "config").mkdir(parents=True)
    (root / "config" / "production.yml").write_text(f"db_password: \"{PASSWORD}\"\n")
    return root


# --- plans --------------------------------------------------------------------------------------

def test_plan_prints_markdown_and_exits_0_when_the_project_id_is_known(tmp_path):
    result = radar("plan", report(tmp_path, document([finding()])), "--project", "g/app", "--project-id", "42", env=ENV)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(b"# Vault migration plan\n")
    assert b"vault: ci/g/app/staging/db_password@secret" in result.stdout
    assert result.stderr.count(b"warning") == 1 and b"inferred" in result.stderr


def test_an_unknown_project_id_writes_the_plan_warns_how_to_fix_it_and_exits_3(tmp_path):
    out = tmp_path / "plan.json"
    result = radar("plan", report(tmp_path, document([finding()])), "--format", "json", "--output", out, env=ENV)
    assert result.returncode == 3
    assert b"radar: warning: no GitLab project id for" in result.stderr and b"--project-id N" in result.stderr
    plan = json.loads(out.read_text())
    assert plan["plan"]["complete"] is False
    assert plan["targets"][0]["role"]["bound_claims"]["project_id"] == "<PROJECT_ID>"


def test_the_mapping_file_sets_defaults_and_ids(tmp_path):
    mapping = tmp_path / "radar-plan.toml"
    mapping.write_text('[vault]\nmount = "kv"\naudience = "https://bao.internal"\ntoken_ttl = 120\n'
                       '[project]\npath = "g/app"\nid = 7\n')
    result = radar("plan", report(tmp_path, document([finding()])), "--mapping", mapping, "--format", "json", env=ENV)
    assert result.returncode == 0, result.stderr
    target = json.loads(result.stdout)["targets"][0]
    assert target["role"]["bound_claims"]["project_id"] == "7"
    assert target["role"]["bound_audiences"] == ["https://bao.internal"]
    assert target["role"]["token_explicit_max_ttl"] == 120
    assert target["secrets"][0]["vault"] == "ci/g/app/staging/db_password@kv"


@pytest.mark.parametrize("suffix, start", [(".md", b"# Vault migration plan"), (".html", b"<!DOCTYPE html>"),
                                           (".json", b"{")])
def test_scan_writes_the_plan_in_the_format_its_suffix_names(repo, tmp_path, suffix, start):
    plan = tmp_path / f"plan{suffix}"
    result = radar("scan", repo, "--format", "json", "--plan", plan, "--project-id", "42", env=ENV)
    assert result.returncode == 1  # findings
    assert json.loads(result.stdout)["findings"]  # the findings report still goes to stdout
    assert plan.read_bytes().startswith(start)
    assert_absent([PASSWORD], plan.read_bytes(), message="the planted password is in the plan")


def test_scan_names_the_project_after_the_directory_by_default(repo, tmp_path):
    plan = tmp_path / "plan.json"
    radar("scan", repo, "--plan", plan, "--project-id", "42", env=ENV)
    # --project-id without --project applies to the directory's project
    assert json.loads(plan.read_text())["targets"][0]["project"] == "app"


# --- errors: one line, exit 2 ----------------------------------------------------------------------

@pytest.mark.parametrize("content, message", [
    ("{not json", "not JSON (Expecting property name enclosed in double quotes at line 1 column 2)"),
    ("[]", "not a radar findings report: the document must be an object, not a list"),
    ({"results": []}, "not a radar findings report: the document has an unexpected key results"),
    (document({}), "findings must be a list, not an object"),
    (document([17]), "findings[0] must be an object, not a number"),
    (document([finding(), {"rule_id": "x"}]), "findings[1] lacks secret_type, description, path, line, column"),
    (document([finding(line="3")]), "findings[0].line must be a whole number, not a string"),
    (document([finding(project_id=True, project="g/app")]),
     "findings[0].project_id must be a whole number, not true/false"),
    (document([finding(tags=[1])]), "findings[0].tags[0] must be a string, not a number"),
    (document([finding(in_head=False, locations=[{"path": "a"}])]), "findings[0].locations[0] lacks line"),
    (document([], scan=[]), "scan must be an object, not a list"),
    (document([finding(severity="apocalyptic")]), "findings[0].severity must be one of critical, high, medium, low"),
    (document([finding(), finding(confidence=None)]), "findings[1].confidence must be one of high, medium, low"),
    (document([finding(line=-5)]), "findings[0].line must be at least 1"),
    (document([finding(fingerprint="xyz")]), "findings[0].fingerprint must match ^([0-9a-f]{64})?$"),
    (document([finding(in_head=True)]), "findings[0] has in_head but lacks first_seen, locations"),
    (document([finding(severty="high")]), "findings[0] has an unexpected key severty"),
    (document([finding(**{"glpat-Abc123": 1})]), "findings[0] has an unexpected key (not shown: it is not a field name)"),
    (document([], summary={"findings": 0, "Files\x1b": -1}), "summary.<key> must be at least 0"),
    ('{"findings": ' + "[" * 100_000 + "]" * 100_000 + "}",
     "not a report radar can read: arrays and objects nested too deeply"),
], ids=["not-json", "a-list", "another-report", "findings-object", "finding-number", "missing-fields",
        "line-string", "id-boolean", "tags", "location", "scan-list", "severity", "confidence-null", "line-negative",
        "fingerprint", "history-half", "unknown-key", "unknown-key-not-shown", "summary-key-not-shown", "deep"])
def test_a_bad_findings_file_is_one_line_naming_the_problem_and_the_fix(tmp_path, content, message):
    result = radar("plan", report(tmp_path, content), env=ENV)
    assert result.returncode == 2
    line = assert_one_line_error(result)
    assert message in line and "radar scan PATH --format json" in line


def test_a_missing_findings_file_is_one_line(tmp_path):
    result = radar("plan", tmp_path / "nope.json", env=ENV)
    assert result.returncode == 2 and "no such file" in assert_one_line_error(result)


@pytest.mark.parametrize("toml, message", [
    ("[vault\n", "not valid TOML"),
    ("[vault]\nmout = 'x'\n", "[vault] has unknown key 'mout'"),
    ("[vault]\ntoken_ttl = 86400\n", "token_ttl must be a whole number of seconds from 1 to 3600"),
    ("[vault]\npath = 'ci/{team}'\n", "uses unknown {team}"),
    ("[project]\nid = 3\n", '[project] needs path = "group/project"'),
    ("[projects.'g/a']\nid = 'x'\n", "id must be GitLab's numeric id"),
    ("[[rules]]\npath = 'a/**'\nfeild = 'x'\n", "rules[0]: unknown key(s) feild"),
    ("[[rules]]\nfile = 'yes'\n", "rules[0]: file must be true or false"),
    ("[roles]\npipeline_sources = ['push', 'cron']\n", "pipeline_sources has 'cron', not a GitLab pipeline source"),
    ("[roles]\nprotected_refs = ['refs/heads/main']\n", "give the short name"),
    ("[roles]\nref_protected = 'no'\n", "[roles]: ref_protected must be true or false"),
], ids=["toml", "vault-key", "ttl", "template", "project-path", "project-id", "rule-key", "rule-file",
        "roles-source", "roles-ref", "roles-ref-protected"])
def test_a_bad_mapping_file_is_one_line_naming_the_key(tmp_path, toml, message):
    mapping = tmp_path / "m.toml"
    mapping.write_text(toml)
    result = radar("plan", report(tmp_path, document([finding()])), "--mapping", mapping, env=ENV)
    assert result.returncode == 2
    assert message in assert_one_line_error(result)


def test_a_plan_file_without_a_known_suffix_is_refused_before_scanning(repo, tmp_path):
    result = radar("scan", repo, "--plan", tmp_path / "plan.txt", env=ENV)
    assert result.returncode == 2  # a usage error, in argparse's words: usage, then one error line
    assert result.stderr.decode().splitlines()[-1].startswith("radar scan: error: argument --plan:")
    assert "end it with .md, .html or .json" in result.stderr.decode() and b"Traceback" not in result.stderr


def test_a_mapping_that_mixes_environments_in_one_secret_is_one_line(tmp_path):
    findings = [finding(path="config/production.yml", fingerprint="01" * 32), finding(fingerprint="02" * 32)]
    result = radar("plan", report(tmp_path, document(findings)), "--path-template", "ci/{project}", env=ENV)
    assert result.returncode == 2
    assert "put {environment} in the path template" in assert_one_line_error(result)


def test_a_json_plan_names_the_fingerprint_key_of_its_findings(repo, tmp_path):
    """`radar scan --migrated` compares the plan's fingerprints with a later scan's: only under one key."""
    key_id = json.loads(radar("scan", repo, "--format", "json", env=ENV).stdout)["scan"]["fingerprint_key_id"]
    findings = tmp_path / "findings.json"
    assert radar("scan", repo, "--format", "json", "--output", findings, env=ENV).returncode == 1
    plan, direct = tmp_path / "plan.json", tmp_path / "direct.json"
    assert radar("plan", findings, "--format", "json", "--output", plan, env=ENV).returncode == 3
    assert radar("scan", repo, "--format", "json", "--plan", direct, env=ENV).returncode == 1
    assert json.loads(plan.read_text())["plan"]["fingerprint_key_id"] == key_id
    assert json.loads(direct.read_text())["plan"]["fingerprint_key_id"] == key_id
    old = json.loads(findings.read_text())
    del old["scan"]["fingerprint_key_id"]  # a report of radar before the key id: the plan says it does not know
    old_report = report(tmp_path, old, "old.json")
    assert radar("plan", old_report, "--format", "json", "--output", plan, env=ENV).returncode == 3
    assert json.loads(plan.read_text())["plan"]["fingerprint_key_id"] is None


def test_default_branch_is_the_ref_production_roles_bind_and_the_plan_says_where_it_came_from(tmp_path):
    out = tmp_path / "plan.json"
    result = radar("plan", report(tmp_path, document([finding(path="config/production.yml")])), "--project-id", "42",
                   "--default-branch", "trunk", "--format", "json", "--output", out, env=ENV)
    assert result.returncode == 0, result.stderr
    plan = json.loads(out.read_text())
    production = plan["targets"][0]
    assert production["role"]["bound_claims"]["ref"] == "trunk"
    assert plan["plan"]["roles"]["default_branch_source"] == "command line"
    assert any("(from --default-branch)" in line for line in production["reasons"])


def test_a_default_branch_given_as_a_full_ref_is_one_line(tmp_path):
    result = radar("plan", report(tmp_path, document([finding()])), "--default-branch", "refs/heads/main", env=ENV)
    assert result.returncode == 2
    assert "--default-branch: 'refs/heads/main': give the short name" in assert_one_line_error(result)


def test_scan_refuses_default_branch_without_plan(repo):
    result = radar("scan", repo, "--default-branch", "main", env=ENV)
    assert result.returncode == 2
    assert "--default-branch applies to the migration plan only" in result.stderr.decode()
