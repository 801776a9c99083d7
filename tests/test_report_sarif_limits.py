"""SARIF within GitHub's upload limits, and the parts of SARIF a directory scan does not reach:
the cut to 25,000 results (most severe kept, noted in the log and on standard error), 1,000
related locations, 20 tags, GitLab scans' base URI, security-severity bands."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime, timezone

from radar.report import renderer, report_warnings
from radar.report import sarif
from radar.report.context import ReportContext
from radar.scan.findings import Finding, History, Location, Origin

MOMENT = datetime(2024, 3, 1, 12, 0, tzinfo=timezone.utc)
CONTEXT = ReportContext(kind="directory", target=".", root="/work/some repo", started=MOMENT, finished=MOMENT)


def finding(n: int, severity: str = "medium", **changes) -> Finding:
    base = Finding(rule_id="generic-password", secret_type="Password", description="Password assigned in code",
                   severity=severity, confidence="medium", path=f"src/file{n}.py", line=n + 1, column=3,
                   end_line=n + 1, end_column=20, fingerprint=f"{n:064x}", preview="[redacted]")
    return replace(base, **changes)


def test_the_most_severe_results_are_kept_and_the_cut_is_noted():
    items = [finding(0, "low"), finding(1, "critical"), finding(2, "medium"), finding(3, "high"), finding(4, "low")]
    run = sarif.document(items, CONTEXT, limit=3)["runs"][0]
    assert [r["properties"]["severity"] for r in run["results"]] == ["critical", "high", "medium"]
    [note] = run["invocations"][0]["toolExecutionNotifications"]
    assert note["level"] == "warning" and "2 less severe finding(s) left out" in note["message"]["text"]


def test_no_notification_when_everything_fits():
    run = sarif.document([finding(0)], CONTEXT)["runs"][0]
    assert "toolExecutionNotifications" not in run["invocations"][0]


def test_a_report_over_githubs_limit_comes_with_a_warning_for_the_user():
    items = [finding(n, "low") for n in range(sarif.MAX_RESULTS)] + [finding(sarif.MAX_RESULTS, "critical")]
    document = json.loads(renderer("sarif")(items, CONTEXT))
    results = document["runs"][0]["results"]
    assert len(results) == sarif.MAX_RESULTS == 25_000
    assert results[0]["properties"]["severity"] == "critical"  # the one critical finding survived the cut
    [warning] = report_warnings("sarif", items, CONTEXT)
    assert warning.startswith("SARIF report truncated to 25000 results")
    assert report_warnings("sarif", items[:10], CONTEXT) == ()
    assert report_warnings("json", items, CONTEXT) == ()


def test_related_locations_stop_at_1000():
    locations = tuple(Location(f"f{n}.env", 1, f"{n:040x}", "dev", "2024-03-01") for n in range(1_500))
    item = finding(0, history=History(False, locations),
                   origin=Origin(commit=locations[0].commit, author="dev", date="2024-03-01"), path="f0.env", line=1)
    [result] = sarif.document([item], CONTEXT)["runs"][0]["results"]
    assert len(result["relatedLocations"]) == sarif.MAX_LOCATIONS == 1_000
    assert result["properties"]["relatedLocationsOmitted"] == 499  # 1,500 places: 1 primary, 1,000 related
    assert result["properties"]["locationCount"] == 1_500 and result["properties"]["inHead"] is False


def test_tags_stop_at_20():
    item = finding(0, tags=tuple(f"tag{n}" for n in range(30)))
    [result] = sarif.document([item], CONTEXT)["runs"][0]["results"]
    assert len(result["properties"]["tags"]) == sarif.MAX_TAGS == 20


def test_security_severity_falls_in_githubs_bands():
    bands = {"critical": (9.0, 10.0), "high": (7.0, 8.9), "medium": (4.0, 6.9), "low": (0.1, 3.9)}
    for severity, (low, high) in bands.items():
        assert low <= float(sarif.SECURITY_SEVERITY[severity]) <= high


def test_a_gitlab_scan_is_based_on_the_gitlab_url_and_owner_paths():
    context = replace(CONTEXT, kind="gitlab", target="https://gitlab.example.com", root="https://gitlab.example.com")
    item = finding(0, rule_id="gitlab-variable-unmasked", secret_type="gitlab-ci-variable",
                   description="CI/CD variable holding a credential is not masked", severity="high",
                   path="variables/DB_PASSWORD[*]", line=1, column=1, end_line=1, end_column=1,
                   origin=Origin(project="acme/app", variable_key="DB_PASSWORD"), name="DB_PASSWORD",
                   remediation="mask it, or better: move to Vault at acme/app/DB_PASSWORD and read it with secrets:")
    run = sarif.document([item], context)["runs"][0]
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == "https://gitlab.example.com/"
    [result] = run["results"]
    location = result["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == "acme/app/variables/DB_PASSWORD%5B%2A%5D"
    assert location["region"] == {"startLine": 1, "startColumn": 1, "endLine": 1, "endColumn": 2}
    [rule] = run["tool"]["driver"]["rules"]
    assert "helpUri" not in rule  # GitLab checks are not detector rules and have no format documentation
    assert rule["help"]["text"].startswith("Mask it, or better: move to Vault")
    assert result["message"]["text"].startswith(
        "CI/CD variable holding a credential is not masked in CI/CD variable DB_PASSWORD (preview [redacted]")


def test_a_directory_root_becomes_a_percent_encoded_file_uri():
    run = sarif.document([finding(0, path="a b/#x.env")], CONTEXT)["runs"][0]
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == "file:///work/some%20repo/"
    assert run["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "a%20b/%23x.env"
