"""The severity ladder (radar.scan.severity), row by row as the README's table states it: named
cases of findings built with their places (HEAD, history, Vault) set directly. The same rows as
users meet them, on real repositories, are in test_monitor_cli.py."""

from __future__ import annotations

from dataclasses import replace

import pytest

from radar.scan.findings import Finding, History, Location, Origin, VaultPlace
from radar.scan.severity import LEVELS, LadderContext, at_least, ladder

DIRECTORY, HISTORY, GITLAB = LadderContext("directory"), LadderContext("history"), LadderContext("gitlab")
LOCATION = Location("app/config.py", 3, "a" * 40, "Dev One", "2024-01-01T12:00:00+00:00")
LATEST = VaultPlace("", "secret", "app/db", "password", 3, True)
OLDER = VaultPlace("", "secret", "app/db", "password", 2, False)
KV1 = VaultPlace("team/", "kv", "app/db", "password", None, False)


def finding(**changes) -> Finding:
    f = Finding(rule_id="github-personal-access-token", secret_type="GitHub token", description="d",
                severity="critical", confidence="high", path="app/config.py", line=3, column=5, end_line=3,
                end_column=44, fingerprint="f" * 64, preview="ghp_…")
    return replace(f, **changes)


def in_head(head: bool) -> History:
    return History(head, (LOCATION,))


CASES = {
    # info: ignored, whatever else is true
    "ignored inline": (finding(ignored=True, ignore_reason="inline"), DIRECTORY, "info"),
    "ignored but live in Vault": (
        finding(ignored=True, ignore_reason="baseline", in_vault=(LATEST,)), DIRECTORY, "info"),
    # critical: Vault's latest version, even where the ladder would say low
    "latest in Vault, history only": (finding(history=in_head(False), in_vault=(LATEST,)), HISTORY, "critical"),
    "latest in Vault, a test fixture": (finding(tags=("test-fixture",), in_vault=(LATEST,)), DIRECTORY, "critical"),
    "latest in Vault, low confidence": (finding(confidence="low", in_vault=(OLDER, LATEST)), HISTORY, "critical"),
    "latest in Vault, a GitLab variable": (
        finding(origin=Origin(variable_key="TOKEN", project="acme/api"), in_vault=(LATEST,)), GITLAB, "critical"),
    # low: test paths and low confidence
    "a test fixture in HEAD": (finding(tags=("test-fixture",)), DIRECTORY, "low"),
    "low confidence in HEAD": (finding(confidence="low"), DIRECTORY, "low"),
    "a test fixture in an older Vault version": (finding(tags=("test-fixture",), in_vault=(OLDER,)), HISTORY, "low"),
    # critical: HEAD of the default branch
    "a directory scan's tree": (finding(), DIRECTORY, "critical"),
    "history, still in HEAD": (finding(history=in_head(True)), HISTORY, "critical"),
    "history, in HEAD and an older Vault version": (
        finding(history=in_head(True), in_vault=(OLDER,)), HISTORY, "critical"),
    "a GitLab project's CI file": (
        finding(origin=Origin(project="acme/api"), path=".gitlab-ci.yml"), GITLAB, "critical"),
    "medium confidence in HEAD": (finding(confidence="medium"), DIRECTORY, "critical"),
    # high: only in history (or not in a tree) but Vault still holds it
    "history only, an older Vault version": (finding(history=in_head(False), in_vault=(OLDER,)), HISTORY, "high"),
    "history only, KV v1": (finding(history=in_head(False), in_vault=(KV1,)), HISTORY, "high"),
    "a GitLab variable in an older Vault version": (
        finding(origin=Origin(variable_key="TOKEN", project="acme/api"), in_vault=(OLDER,)), GITLAB, "high"),
    # medium: the rest
    "history only": (finding(history=in_head(False)), HISTORY, "medium"),
    "a GitLab variable": (finding(origin=Origin(variable_key="TOKEN", project="acme/api")), GITLAB, "medium"),
    "a CI setting, not a value": (
        finding(secret_type="gitlab-ci-config", origin=Origin(project="acme/api"), path=".gitlab-ci.yml"),
        GITLAB, "medium"),
}


@pytest.mark.parametrize("case", CASES)
def test_the_ladder_gives_each_row_of_its_table(case):
    f, context, level = CASES[case]
    assert ladder(f, context) == level


def test_the_rule_severity_does_not_move_a_finding_on_the_ladder():
    assert {ladder(finding(severity=s), DIRECTORY) for s in ("critical", "high", "medium", "low")} == {"critical"}
    assert {ladder(finding(severity=s, history=in_head(False)), HISTORY) for s in ("critical", "low")} == {"medium"}


@pytest.mark.parametrize("threshold", LEVELS)
def test_at_least_orders_the_levels_from_critical_to_info(threshold):
    expected = LEVELS[:LEVELS.index(threshold) + 1]
    assert [level for level in LEVELS if at_least(level, threshold)] == list(expected)
