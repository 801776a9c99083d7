"""One monitor run: a scan's findings (after the baseline) against the state the last run left.

- Every finding's `severity` becomes its level on the ladder (radar.scan.severity): in a monitor
  report, severity says how urgent this finding is, not how bad its kind of credential is.
- The run tracks the findings it reports: not ignored (inline marker, config, baseline) and of a
  confidence it reports. Tracked and not in the state: new. Tracked and in the state: known,
  marked ignored with the reason `monitor: first seen DATE`, so that reports list them only with
  --show-ignored, as they do baselined findings.
- Resolved: a state entry that no finding of the scan matches, ignored findings included. An
  entry whose value is still found but now ignored or baselined was accepted, not removed: it
  leaves the state without being reported. An incomplete scan resolves nothing and leaves the
  state as it was (what it could not read may hold anything), so the next complete run reports
  its new findings again rather than never.
- The next state: one entry per tracked key; known entries keep when and where they were first
  seen and take the level of this run.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Collection, Sequence

from radar.monitor.state import Seen, State, StateEntry
from radar.report.printable import printable
from radar.scan.baseline import match_key, place
from radar.scan.findings import Finding, FingerprintKey
from radar.scan.severity import LEVELS, LadderContext, at_least, ladder

IGNORE_REASON = "monitor"


@dataclass(frozen=True)
class MonitorResult:
    """What a monitor run found, for reports, the exit status and notifications."""

    findings: tuple[Finding, ...]  # every finding in the scan's order: ladder levels, known ones marked ignored
    new: tuple[Finding, ...]  # tracked, not in the last run's state
    known: tuple[Finding, ...]  # tracked, in the last run's state (marked ignored)
    resolved: tuple[StateEntry, ...]  # in the last run's state, no longer found (empty after an incomplete scan)
    state: State | None  # what the next run compares with; None after an incomplete scan: keep the old one
    first_run: bool  # there was no state: everything tracked is new

    def failing(self, threshold: str) -> tuple[Finding, ...]:
        """The new findings at `threshold` (a level) or more urgent: what fails the run."""
        return tuple(f for f in self.new if at_least(f.severity, threshold))


def compare(previous: State | None, findings: Sequence[Finding], key: FingerprintKey, context: LadderContext,
            now: Seen, confident: Collection[str], complete: bool) -> MonitorResult:
    """`findings` (every finding of the scan, baselined ones marked ignored) against `previous`;
    `now` is this run, recorded for the entries it adds; findings of a confidence not in
    `confident` are not reported, so not tracked."""
    entries = {e.key: e for e in previous.entries} if previous else {}
    seen: set[tuple[str, str]] = set()
    tracked: dict[tuple[str, str], list[Finding]] = {}
    marked, new, known = [], [], []
    for f in findings:
        f = replace(f, severity=ladder(f, context))
        k = match_key(f, key)
        seen.add(k)
        if not f.ignored and f.confidence in confident:
            tracked.setdefault(k, []).append(f)
            entry = entries.get(k)
            if entry is None:
                new.append(f)
            else:
                f = replace(f, ignored=True, ignore_reason=f"{IGNORE_REASON}: first seen {_when(entry.first_seen)}")
                known.append(f)
        marked.append(f)
    if not complete:
        return MonitorResult(tuple(marked), tuple(new), tuple(known), (), None, previous is None)
    resolved = tuple(e for e in entries.values() if e.key not in seen)
    state = State(key.key_id, tuple(_entry(entries.get(k), group, k, now) for k, group in tracked.items()))
    return MonitorResult(tuple(marked), tuple(new), tuple(known), resolved, state, previous is None)


def _entry(previous: StateEntry | None, group: list[Finding], k: tuple[str, str], now: Seen) -> StateEntry:
    """The next state's entry for the findings of one value: the last run's, with this run's most
    urgent level; or a new one, noting the first of its places (the same whatever the scan's order)."""
    severity = min((f.severity for f in group), key=LEVELS.index)
    if previous is not None:
        return replace(previous, severity=severity)
    first = min(group, key=lambda f: printable(place(f)))
    return StateEntry(k[0], k[1], severity, now, printable(first.secret_type), printable(place(first)))


def _when(seen: Seen) -> str:
    return seen.date + (f" (pipeline {seen.pipeline})" if seen.pipeline is not None else "")
