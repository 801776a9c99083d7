"""Confidence reaches CI: GitLab's severity and SARIF's level and security-severity are the rule's
severity lowered for the finding's confidence (README, Report formats), while ids and fingerprints
stay as they were, so baselines and GitLab's vulnerability tracking do not churn."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from git_repo import Repo
from radar.report import gitlab, sarif
from radar.report.context import ReportContext
from radar.scan.examples import expand
from radar.scan.findings import Finding
from radar_cli import clean_env, radar
from report_schemas import GITLAB_SCHEMA, SARIF_SCHEMA, validator
from test_report_formats import ACCEPTED_NOTES, sarif_validator_results

MOMENT = datetime(2024, 3, 1, 12, 0, tzinfo=timezone.utc)
CONTEXT = ReportContext(kind="directory", target=".", root="/work/repo", started=MOMENT, finished=MOMENT)
SEVERITIES = ("critical", "high", "medium", "low")
CONFIDENCES = ("high", "medium", "low")  # most confident first
URGENCY = ("Critical", "High", "Medium", "Low", "Info")  # GitLab's, most urgent first
SARIF_URGENCY = ("error", "warning", "note")
ENV = clean_env(RADAR_FINGERPRINT_KEY="confidence tests")
TOKEN = "glpat-" + expand("{b64url:20}", "confidence-app")
FIXTURE_TOKEN = "glpat-" + expand("{b64url:20}", "confidence-fixture")

# What a high-confidence finding showed before confidence reached CI, and still shows.
UNCHANGED = {"critical": ("Critical", "error", "9.5"), "high": ("High", "error", "8.0"),
             "medium": ("Medium", "warning", "5.5"), "low": ("Low", "note", "2.0")}


def finding(severity: str, confidence: str, n: int = 0, rule_id: str = "custom-check") -> Finding:
    # A rule id radar does not ship: the SARIF rule's security-severity then comes from its findings.
    return Finding(rule_id=rule_id, secret_type="Token", description="Token assigned in code",
                   severity=severity, confidence=confidence, path=f"src/f{n}.py", line=n + 1, column=1,
                   end_line=n + 1, end_column=30, fingerprint=f"{n:064x}", preview="glpa…")


def shown(f: Finding, context: ReportContext = CONTEXT) -> tuple[str, str, str]:
    """(GitLab severity, SARIF level, SARIF rule security-severity) for a report of `f` alone."""
    [v] = gitlab.document([f], context)["vulnerabilities"]
    run = sarif.document([f], context)["runs"][0]
    [result], [rule] = run["results"], run["tool"]["driver"]["rules"]
    assert rule["defaultConfiguration"]["level"] == result["level"]  # one rule, one result: they agree
    return v["severity"], result["level"], rule["properties"]["security-severity"]


def test_readmes_table_is_what_the_reports_show():
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| (critical|high|medium|low) \| high / medium / low \| (.+?) \| (.+?) \| (.+?) \|$",
                      readme, re.MULTILINE)
    assert [row[0] for row in rows] == list(SEVERITIES)
    for severity, *columns in rows:
        cells = [[cell.strip(" `") for cell in column.split(" / ")] for column in columns]
        assert [shown(finding(severity, c)) for c in CONFIDENCES] == [tuple(triple) for triple in zip(*cells)]


def test_high_confidence_keeps_the_mapping_it_always_had():
    for severity, expected in UNCHANGED.items():
        assert shown(finding(severity, "high")) == expected


def test_a_low_confidence_guess_of_a_critical_rule_is_low_and_a_note():
    assert shown(finding("critical", "low")) == ("Low", "note", "2.0")
    assert shown(finding("high", "low")) == ("Low", "note", "2.0")


def test_a_low_confidence_guess_of_a_medium_or_low_rule_is_info():
    assert shown(finding("medium", "low")) == ("Info", "note", "1.0")
    assert shown(finding("low", "low")) == ("Info", "note", "1.0")


def test_medium_confidence_is_one_step_lower_and_never_below_low():
    assert [shown(finding(s, "medium")) for s in SEVERITIES] == [
        ("High", "error", "8.0"), ("Medium", "warning", "5.5"), ("Low", "note", "2.0"), ("Low", "note", "2.0")]


def test_a_shipped_rule_is_rated_by_its_most_confident_result():
    """GitHub reads security-severity from the rule: a rule whose every result is a guess is not
    critical, one with a confident result is."""
    guesses = [finding("critical", "low", n, "gitlab-personal-access-token") for n in range(2)]
    [rule] = sarif.document(guesses, CONTEXT)["runs"][0]["tool"]["driver"]["rules"]
    assert (rule["properties"]["security-severity"], rule["defaultConfiguration"]["level"]) == ("2.0", "note")
    mixed = guesses + [finding("critical", "high", 2, "gitlab-personal-access-token")]
    run = sarif.document(mixed, CONTEXT)["runs"][0]
    [rule] = run["tool"]["driver"]["rules"]
    assert (rule["properties"]["security-severity"], rule["defaultConfiguration"]["level"]) == ("9.5", "error")
    assert [r["level"] for r in run["results"]] == ["error", "note", "note"]  # the confident one first


def test_ids_and_fingerprints_do_not_depend_on_confidence():
    ids, fingerprints = set(), set()
    for confidence in CONFIDENCES:
        f = finding("critical", confidence)
        [v] = gitlab.document([f], CONTEXT)["vulnerabilities"]
        [result] = sarif.document([f], CONTEXT)["runs"][0]["results"]
        ids.add(v["id"])
        fingerprints.add(result["partialFingerprints"][sarif.FINGERPRINT_KEY])
    assert len(ids) == 1 and fingerprints == {finding("critical", "high").fingerprint}


def test_a_monitor_report_shows_its_ladder_level_as_it_is():
    """radar monitor's severity is already its ladder level, which weighs confidence: not lowered twice."""
    context = replace(CONTEXT, monitor={"new": 1})
    assert shown(finding("critical", "medium"), context) == ("Critical", "error", "9.5")
    assert shown(finding("low", "low"), context) == ("Low", "note", "2.0")


def test_the_sarif_cut_keeps_what_the_report_shows_as_most_urgent():
    items = [finding("critical", "low", 0), finding("medium", "high", 1), finding("high", "medium", 2)]
    run = sarif.document(items, CONTEXT, limit=2)["runs"][0]
    assert [r["level"] for r in run["results"]] == ["warning", "warning"]
    # Equal levels: the more severe rule first. The critical guess (a note) is what was cut.
    assert [(r["properties"]["severity"], r["properties"]["confidence"]) for r in run["results"]] == [
        ("high", "medium"), ("medium", "high")]


@settings(max_examples=200, deadline=None)
@given(severity=st.sampled_from(SEVERITIES), confidences=st.lists(st.sampled_from(CONFIDENCES), min_size=2, max_size=2),
       rule_id=st.sampled_from(["custom-check", "gitlab-personal-access-token", "generic-password"]))
def test_the_ci_level_never_rises_when_confidence_falls(severity, confidences, rule_id):
    more, less = sorted(confidences, key=CONFIDENCES.index)
    a, b = shown(finding(severity, more, rule_id=rule_id)), shown(finding(severity, less, rule_id=rule_id))
    assert URGENCY.index(a[0]) <= URGENCY.index(b[0])
    assert SARIF_URGENCY.index(a[1]) <= SARIF_URGENCY.index(b[1])
    assert float(a[2]) >= float(b[2])
    if more == "high":
        assert a == UNCHANGED[severity]


def _fixture_repo(tmp_path) -> Repo:
    r = Repo(tmp_path / "repo")
    r.write("deploy.env", f"GITLAB_TOKEN={TOKEN}\n")
    r.write("tests/fixtures/settings.py", f"GITLAB_TOKEN = '{FIXTURE_TOKEN}'\n")  # a test fixture: low confidence
    r.commit("a token and a fixture")
    return r


def test_a_scanned_test_fixture_is_low_in_gitlab_and_a_note_in_sarif(tmp_path):
    repo = _fixture_repo(tmp_path)
    by_path = {}
    for format in ("json", "gitlab", "sarif"):
        result = radar("scan", repo.path, "--format", format, env=ENV)
        assert result.returncode == 1, result.stderr
        by_path[format] = json.loads(result.stdout)
    confidence = {f["path"]: f["confidence"] for f in by_path["json"]["findings"]}
    assert confidence == {"deploy.env": "high", "tests/fixtures/settings.py": "low"}
    validator(GITLAB_SCHEMA).validate(by_path["gitlab"])
    validator(SARIF_SCHEMA).validate(by_path["sarif"])
    gitlab_severity = {v["location"]["file"]: v["severity"] for v in by_path["gitlab"]["vulnerabilities"]}
    assert gitlab_severity == {"deploy.env": "Critical", "tests/fixtures/settings.py": "Low"}
    run = by_path["sarif"]["runs"][0]
    levels = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]: r["level"] for r in run["results"]}
    assert levels == {"deploy.env": "error", "tests/fixtures/settings.py": "note"}


def test_a_report_of_guesses_alone_passes_microsofts_validator(tmp_path):
    repo = _fixture_repo(tmp_path)
    (repo.path / "deploy.env").unlink()
    path = tmp_path / "guesses.sarif"
    result = radar("scan", repo.path, "--format", "sarif", "--output", path, env=ENV)
    assert result.returncode == 1, result.stderr
    run = json.loads(path.read_text(encoding="utf-8"))["runs"][0]
    [rule] = run["tool"]["driver"]["rules"]
    assert (rule["properties"]["security-severity"], [r["level"] for r in run["results"]]) == ("2.0", ["note"])
    problems = sarif_validator_results(path, tmp_path / "validation.sarif")
    assert [r for r in problems if r.get("level", "warning") != "note"] == []
    assert {r["ruleId"] for r in problems} <= ACCEPTED_NOTES
