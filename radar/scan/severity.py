"""The severity ladder: how urgent a finding is, from where its value is live, not from its rule.

A rule's `severity` says how bad a leak of that kind of credential is. The ladder says what to
do about this one: a value that applications read from Vault right now, or that sits in the
default branch's tree, must be rotated today; one that only history holds is less exposed; a
fixture under `tests/` or a guess of low confidence rarely matters. The first row that applies
decides:

| level    | when                                                                              |
|----------|-----------------------------------------------------------------------------------|
| info     | the finding is ignored (an inline marker, the config, or the baseline)            |
| critical | Vault holds the value in the latest version of a secret                            |
| low      | a test path (tag `test-fixture`) or low confidence (placeholder-like values too)  |
| critical | the value is in HEAD of the default branch                                        |
| high     | Vault holds the value in an older version, and it is not in HEAD                  |
| medium   | anything else: only in history, a GitLab CI/CD variable, a CI setting              |

"In HEAD" is what the scan saw: a directory scan reads the tree as it is (a CI job's checkout
of the default branch); a history scan says per finding (`History.in_head`); a GitLab scan reads
each project's CI file on its default branch, so a value found in it is in HEAD, while a
variable's value lives in GitLab's settings, not in a tree. Vault comes before the test-path
row on purpose: a value Vault serves is a real credential wherever a copy of it was found.
"""

from __future__ import annotations

from dataclasses import dataclass

from radar.scan.filters import TEST_FIXTURE
from radar.scan.findings import Finding

LEVELS = ("critical", "high", "medium", "low", "info")  # most urgent first
_RANK = {level: rank for rank, level in enumerate(LEVELS)}
_SETTINGS = "gitlab-ci-config"  # GitLab checks of a CI file's settings (CI_JOB_JWT, ...): no value to be live


@dataclass(frozen=True)
class LadderContext:
    """What the ladder needs to know about the scan a finding comes from."""

    kind: str  # "directory", "history" or "gitlab", as ReportContext.kind


def ladder(finding: Finding, context: LadderContext) -> str:
    """The finding's level, one of LEVELS: the first row of the table above that applies."""
    if finding.ignored:
        return "info"
    if any(place.latest for place in finding.in_vault):
        return "critical"
    if TEST_FIXTURE in finding.tags or finding.confidence == "low":
        return "low"
    if _in_head(finding, context):
        return "critical"
    if finding.in_vault:
        return "high"
    return "medium"


def at_least(level: str, threshold: str) -> bool:
    """Whether `level` is as urgent as `threshold` or more (both from LEVELS)."""
    return _RANK[level] <= _RANK[threshold]


def _in_head(finding: Finding, context: LadderContext) -> bool:
    if finding.history is not None:
        return finding.history.in_head
    if context.kind == "directory":
        return True
    if context.kind == "gitlab":
        return finding.origin.variable_key is None and finding.secret_type != _SETTINGS
    return False
