"""GitLab report cases a directory or history scan does not reach: GitLab CI/CD variable findings,
an empty scan, scan warnings, and ids that change when the place changes."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime, timezone

import jsonschema

from radar.report import gitlab
from radar.report.context import ReportContext
from radar.scan.findings import Finding, Origin
from report_schemas import GITLAB_SCHEMA as SCHEMA

MOMENT = datetime(2024, 3, 1, 12, 0, 5, tzinfo=timezone.utc)
CONTEXT = ReportContext(kind="gitlab", target="https://gitlab.example.com", root="https://gitlab.example.com",
                        started=MOMENT, finished=MOMENT, warnings=("project acme/old: 403 Forbidden",))
VARIABLE = Finding(
    rule_id="gitlab-variable-unprotected", secret_type="gitlab-ci-variable",
    description="CI/CD variable holding a credential is not protected", severity="medium", confidence="high",
    path="variables/DB_PASSWORD[*]", line=1, column=1, end_line=1, end_column=1, fingerprint="ab" * 32,
    preview="[redacted]", origin=Origin(project="acme/app", variable_key="DB_PASSWORD"), name="DB_PASSWORD",
    remediation="protect it, or better: move to Vault at acme/app/DB_PASSWORD and read it with secrets:",
)


def validate(document: dict) -> None:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft7Validator(schema, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER).validate(document)


def test_a_variable_finding_has_the_placeholder_commit_and_its_own_remedy():
    document = gitlab.document([VARIABLE], CONTEXT)
    validate(document)
    [v] = document["vulnerabilities"]
    assert v["location"] == {"file": "acme/app/variables/DB_PASSWORD[*]", "start_line": 1, "end_line": 1,
                             "commit": {"sha": "0000000"}}
    assert v["solution"] == "Protect it, or better: move to Vault at acme/app/DB_PASSWORD and read it with secrets:"
    assert v["identifiers"] == [{"type": "radar_rule_id", "name": "radar rule gitlab-variable-unprotected",
                                 "value": "gitlab-variable-unprotected"}]  # not a detector rule: no docs URL
    assert v["severity"] == "Medium" and v["name"] == VARIABLE.description


def test_scan_times_have_no_zone_and_warnings_become_messages():
    scan = gitlab.document([], CONTEXT)["scan"]
    assert scan["start_time"] == scan["end_time"] == "2024-03-01T12:00:05"
    assert scan["messages"] == [{"level": "warn", "value": "project acme/old: 403 Forbidden"}]


def test_an_empty_scan_is_a_valid_report():
    document = gitlab.document([], replace(CONTEXT, warnings=()))
    validate(document)
    assert document["vulnerabilities"] == [] and "messages" not in document["scan"]


def test_the_id_changes_with_the_place_not_with_the_run():
    moved = replace(VARIABLE, path="variables/DB_PASSWORD[production]")
    first, again = gitlab.document([VARIABLE, moved], CONTEXT), gitlab.document([VARIABLE, moved], CONTEXT)
    ids = [v["id"] for v in first["vulnerabilities"]]
    assert ids == [v["id"] for v in again["vulnerabilities"]] and len(set(ids)) == 2
