"""Delivering a monitoring run's events to every target, and what came of it.

Notifying is the last thing a run does, after its report is written, and it never raises for a
target that fails: the findings are what a run is for, and a broken webhook must not hide them.
What failed comes back as warnings, and `exit_status` says what the run exits with: the
findings' own status, except that a run whose findings alone would pass (0) exits 2 when a
notification was not delivered, so that a scheduled job that could not tell anyone is seen.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from radar.notify import gitlab_issues, webhook
from radar.notify.events import Event
from radar.notify.targets import GITLAB_ISSUES, NotifySettings, Target
from radar.notify.text import webhook_payload

EXIT_UNDELIVERED = 2


@dataclass(frozen=True)
class NotifyOutcome:
    created: int = 0  # GitLab issues opened
    updated: int = 0  # GitLab issues noted as still found, or reopened
    closed: int = 0  # GitLab issues closed
    posted: int = 0  # webhooks that accepted the summary
    warnings: tuple[str, ...] = ()
    undelivered: int = 0  # events a target could not be told, and webhooks that refused the summary

    def exit_status(self, findings_status: int) -> int:
        """The run's exit status: the findings' own, or 2 when they say 0 and something was not delivered."""
        return EXIT_UNDELIVERED if findings_status == 0 and self.undelivered else findings_status


def send(targets: Sequence[Target], events: Sequence[Event], settings: NotifySettings) -> NotifyOutcome:
    """Tell each target about `events`; a run with no events tells nobody (no empty summaries)."""
    if not events:
        return NotifyOutcome()
    created = updated = closed = posted = undelivered = 0
    warnings: list[str] = []
    for target in dict.fromkeys(targets):
        if target.kind == GITLAB_ISSUES:
            outcome = gitlab_issues.sync(events, settings)
            created, updated, closed = created + outcome.created, updated + outcome.updated, closed + outcome.closed
            undelivered += outcome.undelivered
            warnings += outcome.warnings
        else:
            warning = webhook.post(target, webhook_payload(events, settings.subject), settings)
            if warning is None:
                posted += 1
            else:
                undelivered += 1
                warnings.append(warning)
    return NotifyOutcome(created, updated, closed, posted, tuple(warnings), undelivered)
