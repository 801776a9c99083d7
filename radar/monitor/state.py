"""The monitor's state file: what the last run of `radar monitor` saw, so that the next one can
say what is new since then and what was resolved.

It is radar's memory, not people's: written whole by each run, in the baseline's layout
(radar.scan.baseline), read as strictly:

    # radar monitor state: ...
    version = 1
    fingerprint_key_id = "3f9c0a1b2c4d"

    [[finding]]
    rule_id = "gitlab-personal-access-token"
    fingerprint = "8a1f...64 hex digits"
    secret_type = "GitLab personal access token"
    path = "app/.env"
    severity = "critical"
    first_seen = "2026-12-04"
    first_seen_pipeline = 123456

One entry per value a run reported (by `rule_id` and `fingerprint`, or the keyed place of a
finding without a value, as baselines match), with `secret_type` and `path` as notes from when it
was first seen, `severity` the ladder's level the last run gave it, and when it was first seen:
the UTC date and, in a GitLab job, the pipeline ($CI_PIPELINE_ID). Nothing in it changes unless
the findings do: identical runs leave identical bytes, so a state kept in git or as an artifact
does not churn. No value, no preview, no line numbers (which move with every edit).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Callable

import tomli_w

from radar.errors import RadarError
from radar.scan.baseline import FORMAT_VERSION, TABLE, check_entry, document, read_text
from radar.scan.findings import KEY_ENVIRONMENT, FingerprintKey
from radar.scan.severity import LEVELS

_TOP_LEVEL = ("version", "fingerprint_key_id", TABLE)
_FIELDS = ("rule_id", "fingerprint", "secret_type", "path", "severity", "first_seen", "first_seen_pipeline")
_REQUIRED = ("rule_id", "fingerprint", "severity", "first_seen")
_TEXT = ("rule_id", "fingerprint", "secret_type", "path", "severity", "first_seen")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
MAX_PIPELINE = 2**63 - 1  # GitLab's ids are bigints
HEADER = """\
# radar monitor state: what the last `radar monitor` run found, to tell new findings and resolved
# ones on the next. Written by radar on every run; no values. Keep it between runs (a CI artifact).
"""


class StateError(RadarError):
    """A monitor state file that cannot be used: unreadable, malformed, or made under another key."""


@dataclass(frozen=True)
class Seen:
    """When a run happened, as the state records it for entries that run added."""

    date: str  # YYYY-MM-DD, UTC
    pipeline: int | None = None  # $CI_PIPELINE_ID in a GitLab job


@dataclass(frozen=True)
class StateEntry:
    rule_id: str
    fingerprint: str  # or the keyed place of a finding without a value (baseline.match_key)
    severity: str  # the ladder's level at the last run that found it
    first_seen: Seen
    secret_type: str | None = None
    path: str | None = None  # where it was first seen: a note, never matched

    @property
    def key(self) -> tuple[str, str]:
        return (self.rule_id, self.fingerprint)

    def as_dict(self) -> dict[str, str | int]:
        data: dict[str, str | int] = {"rule_id": self.rule_id, "fingerprint": self.fingerprint}
        if self.secret_type is not None:
            data["secret_type"] = self.secret_type
        if self.path is not None:
            data["path"] = self.path
        data["severity"] = self.severity
        data["first_seen"] = self.first_seen.date
        if self.first_seen.pipeline is not None:
            data["first_seen_pipeline"] = self.first_seen.pipeline
        return data


@dataclass(frozen=True)
class State:
    key_id: str
    entries: tuple[StateEntry, ...] = ()  # sorted by key, one per key

    def __post_init__(self) -> None:
        object.__setattr__(self, "entries", tuple(sorted(self.entries, key=lambda e: e.key)))


def dumps(state: State) -> str:
    """The canonical text: the same state always gives the same bytes."""
    parts = [HEADER, tomli_w.dumps({"version": FORMAT_VERSION, "fingerprint_key_id": state.key_id})]
    for entry in state.entries:  # one block per entry, as baselines are laid out (see baseline.dumps)
        parts.append(f"\n[[{TABLE}]]\n" + tomli_w.dumps(entry.as_dict()))
    return "".join(parts)


def read(path: str) -> State | None:
    """The state file at `path`, checked; None when there is none yet (the first run)."""
    text = read_text(path, "monitor state", StateError)
    return None if text is None else loads(text, path)


def loads(text: str, name: str) -> State:
    """Parse and check state text; `name` (the file) is what errors are about."""
    def fail(problem: str) -> StateError:
        return StateError(f"monitor state {name}: {problem}")

    key_id, tables = document(text, "monitor state", _TOP_LEVEL, fail)
    entries: dict[tuple[str, str], StateEntry] = {}
    for index, table in enumerate(tables):
        entry = _entry(table, f"{TABLE}[{index}]", fail)
        if entry.key in entries:
            raise fail(f"{TABLE}[{index}] repeats the rule_id and fingerprint of an earlier entry; "
                       "remove the file to start afresh")
        entries[entry.key] = entry
    return State(key_id, tuple(entries.values()))


def check_key(state: State, key: FingerprintKey, name: str) -> None:
    """Refuse a state made under another fingerprint key: every finding would look new and every
    entry resolved."""
    if state.key_id != key.key_id:
        raise StateError(
            f"monitor state {name} was made with fingerprint key id {state.key_id}; this run uses {key.key_id} "
            f"(from {key.source}): set {KEY_ENVIRONMENT} to the key that made it, or remove the state "
            "file to start afresh (the next run then reports every finding as new)"
        )


def _entry(table: object, where: str, fail: Callable[[str], StateError]) -> StateEntry:
    table = check_entry(table, where, _FIELDS, _REQUIRED, _TEXT, fail)
    if table["severity"] not in LEVELS:
        raise fail(f"{where}.severity must be one of {', '.join(LEVELS)}")
    if not _is_date(table["first_seen"]):
        raise fail(f"{where}.first_seen must be a date, YYYY-MM-DD")
    pipeline = table.get("first_seen_pipeline")
    if pipeline is not None and (type(pipeline) is not int or not 1 <= pipeline <= MAX_PIPELINE):
        raise fail(f"{where}.first_seen_pipeline must be a pipeline id (a whole number from 1)")
    return StateEntry(table["rule_id"], table["fingerprint"], table["severity"],
                      Seen(table["first_seen"], pipeline), table.get("secret_type"), table.get("path"))



def _is_date(text: str) -> bool:
    if not _DATE.fullmatch(text):  # fromisoformat alone also takes 20261204 and week dates
        return False
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True
