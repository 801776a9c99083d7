"""How urgent a finding looks in CI dashboards: its severity lowered for its confidence.

GitLab's vulnerability report and SARIF viewers (GitHub code scanning) have one urgency field and
no notion of confidence, so a low-confidence guess of a critical rule (a test fixture, a value
that looks like a placeholder) would read as a Critical vulnerability or a SARIF `error`. The
GitLab and SARIF formats therefore show the level below, not the rule's severity. Findings stay in
the reports rather than being dropped by a default `--min-confidence medium`: every format then
lists the same findings, a real credential that merely looks unusual still reaches the
merge-request widget, and the exit status and baselines do not depend on the format.

| severity \\ confidence | high     | medium | low  |
|------------------------|----------|--------|------|
| critical               | critical | high   | low  |
| high                   | high     | medium | low  |
| medium                 | medium   | low    | info |
| low                    | low      | low    | info |

High confidence keeps the severity (every check and audit finding is high confidence); medium
confidence is one step lower, never below low; low confidence is low, or info for rules that are
medium or low already. The level never rises as confidence falls.

radar monitor's findings already carry their level on the severity ladder, which weighs
confidence itself (radar.scan.severity): they are shown as they are.
"""

from __future__ import annotations

from radar.report.context import ReportContext
from radar.scan.findings import Finding
from radar.scan.severity import LEVELS  # the same five levels, most urgent first

# One row per confidence: what each severity becomes (the table above, read by columns).
_LOWERED = {
    "high": {level: level for level in LEVELS},
    "medium": {"critical": "high", "high": "medium", "medium": "low", "low": "low", "info": "info"},
    "low": {"critical": "low", "high": "low", "medium": "info", "low": "info", "info": "info"},
}
_RANK = {level: n for n, level in enumerate(LEVELS)}


def ci_level(severity: str, confidence: str) -> str:
    """The table above: `severity` lowered for `confidence`. An unknown severity or confidence is
    passed through as it is, for the formats' own fallbacks."""
    return _LOWERED.get(confidence, {}).get(severity, severity)


def finding_level(finding: Finding, context: ReportContext) -> str:
    """The level a CI format shows for `finding`: see the module's docstring."""
    if context.monitor is not None:  # already a ladder level, confidence weighed
        return finding.severity
    return ci_level(finding.severity, finding.confidence)


def rank(level: str) -> int:
    """Sort key, most urgent first; unknown levels last."""
    return _RANK.get(level, len(LEVELS))
