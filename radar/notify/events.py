"""Events: the new and resolved findings of a monitoring run, in the form notifications need.

An `Event` holds no value and no preview: a notification goes to people and systems that need
to know where a credential is and what to do about it, never what it is. Its `place` is already
escaped with `printable()` (scanned paths and names are chosen by whoever wrote the scanned
tree or the GitLab settings), so every target can show it on one line.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Sequence

from radar.report import detector_rule
from radar.report.gitlab import solution as finding_remediation  # the reports' remedy text, one copy
from radar.report.printable import printable
from radar.scan.findings import Finding

Kind = Literal["new", "resolved"]
Source = Literal["directory", "history", "gitlab"]
# A state entry the run no longer finds: (rule_id, fingerprint, secret_type, path).
Resolved = tuple[str, str, str, str]

RESOLVED_REMEDIATION = ("The value is no longer found here. If it was ever committed, pushed or shared, "
                        "make sure it was rotated at its provider: removing it does not revoke it.")
# Where a GitLab scan puts variables (radar.scan.sources.gitlab.variable_path); anything else is a file.
_VARIABLE_PREFIXES = ("variables/", "instance/variables/")


@dataclass(frozen=True)
class Event:
    kind: Kind
    rule_id: str
    fingerprint: str
    secret_type: str
    severity: str
    place: str  # printable: "app/.env:12", "group/proj:VAR [production]"
    remediation: str
    source: Source

    @property
    def key(self) -> tuple[str, str]:
        """What identifies the finding across runs (the monitor's state is keyed the same way)."""
        return (self.rule_id, self.fingerprint)

    def as_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "rule_id": self.rule_id, "fingerprint": self.fingerprint,
                "secret_type": self.secret_type, "severity": self.severity, "place": self.place,
                "remediation": self.remediation, "source": self.source}


def events_from(new: Sequence[Finding], resolved: Sequence[Resolved]) -> tuple[Event, ...]:
    """The new findings' events, then the resolved entries', each in the order given."""
    events = [_new_event(f) for f in new]
    for rule_id, fingerprint, secret_type, path in resolved:
        rule = detector_rule(rule_id)
        events.append(Event(
            kind="resolved", rule_id=printable(rule_id), fingerprint=printable(fingerprint),
            secret_type=printable(secret_type), severity=rule.severity if rule else "unknown",
            place=printable(path), remediation=RESOLVED_REMEDIATION,
            source="gitlab" if path.startswith(_VARIABLE_PREFIXES) else "directory",
        ))
    return tuple(events)


def _new_event(f: Finding) -> Event:
    return Event(kind="new", rule_id=printable(f.rule_id), fingerprint=printable(f.fingerprint),
                 secret_type=printable(f.secret_type), severity=printable(f.severity), place=place(f),
                 remediation=printable(finding_remediation(f)), source=source(f))


def source(f: Finding) -> Source:
    origin = f.origin
    if origin.variable_key is not None or origin.project or origin.group:
        return "gitlab"
    if f.history is not None or origin.commit:
        return "history"
    return "directory"


def place(f: Finding) -> str:
    """Where the finding is, for one line: a file and line (with the commit that added it, for a
    history finding), or a GitLab variable's owner, key and environment scope."""
    origin = f.origin
    if origin.variable_key is not None:
        owner = origin.project or origin.group or "instance"
        text = f"{owner}:{origin.variable_key} [{origin.environment_scope or '*'}]"
    elif origin.project:
        text = f"{origin.project}:{f.path}:{f.line}"
    elif origin.commit:
        text = f"{f.path}:{f.line} (commit {origin.commit[:12]})"
    else:
        text = f"{f.path}:{f.line}"
    return printable(text)
