"""Baselines: the findings a team has accepted as known, so that a scan reports only new ones.

A baseline is a TOML file that radar writes in one canonical form and people edit:

    # radar baseline: ...
    version = 1
    fingerprint_key_id = "3f9c0a1b2c4d"

    [[finding]]
    rule_id = "gitlab-personal-access-token"
    fingerprint = "8a1f...64 hex digits"
    secret_type = "GitLab personal access token"
    path = "app/.env"
    reason = "test instance, revoked"
    audited_by = "alice"

What an entry is:

- it matches a finding by `rule_id` and `fingerprint` (the keyed HMAC of the value), never by
  place: moving the value to another file or line, or renaming the file, keeps it known, and a
  different value on the same line is new. One entry covers every place where that rule finds
  that value. A finding with no value to fingerprint (a GitLab variable whose value GitLab
  hides) is matched by a keyed hash of its place instead (`match_key`);
- `secret_type` and `path` are for people and are never matched: `path` is where the finding
  was when the entry was made (`owner:path` for GitLab findings), and `update` leaves it as it
  is while the entry stays, so moving code does not change the file;
- `reason` and `audited_by` are optional and only ever written by people; radar keeps them.

The file holds no value and no preview, and no timestamp: the same findings under the same key
give the same bytes on every machine, entries are sorted by rule id then fingerprint, and each
is a block of its own, so two branches that each add entries merge without conflict unless they
add the same one. Comments other than radar's own header are not kept (use `reason`).

`fingerprint_key_id` names the fingerprint key (`FingerprintKey.key_id`); a baseline is only
meaningful under the key that made it, so a scan under another key is refused
(`check_key`) rather than reporting every finding as new.

`compare()` splits a scan's findings into new, known (marked ignored, reason `baseline` and the
entry's reason) and resolved entries (no finding of the scan has their key): what
`radar scan --baseline` shows, and what a monitor reports between runs. `updated()` is
`radar baseline update`: known entries kept as they are, new findings added, resolved entries
dropped (unless the scan could not read everything: then nothing is dropped).

Reading is strict and bounded: at most MAX_BYTES, no unknown key, every field checked, so a
hostile or mangled file is one clear error and never an exception from deep inside.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, replace
from typing import Callable, Iterable, Sequence

import tomli_w

from radar.errors import RadarError
from radar.report.printable import printable
from radar.scan.findings import KEY_ENVIRONMENT, KEY_ID_LENGTH, Finding, FingerprintKey

FORMAT_VERSION = 1
# 32 MiB holds about 150,000 entries; more is not a baseline anyone audited, and tomllib
# builds the whole document in memory.
MAX_BYTES = 32 * 1024 * 1024
IGNORE_REASON = "baseline"
TABLE = "finding"
_FIELDS = ("rule_id", "fingerprint", "secret_type", "path", "reason", "audited_by")
_REQUIRED = ("rule_id", "fingerprint")
_TOP_LEVEL = ("version", "fingerprint_key_id", TABLE)
_RULE_ID = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")  # the rule id form radar.scan.rules enforces
_FINGERPRINT = re.compile(r"[0-9a-f]{64}")
_KEY_ID = re.compile(rf"[0-9a-f]{{{KEY_ID_LENGTH}}}")
HEADER = """\
# radar baseline: findings accepted as known. `radar scan ... --baseline FILE` reports only others.
# An entry matches by rule_id and fingerprint (an HMAC of the value under the fingerprint key
# named below), wherever the value is; secret_type and path are notes. Add reason and audited_by
# to any entry; `radar baseline update FILE ...` keeps them, adds new findings, drops gone ones.
"""


class BaselineError(RadarError):
    """A baseline file that cannot be used: missing, unreadable, malformed, or for another key."""


@dataclass(frozen=True)
class Entry:
    rule_id: str
    fingerprint: str
    secret_type: str | None = None
    path: str | None = None  # where it was found when recorded: a note, never matched
    reason: str | None = None
    audited_by: str | None = None

    @property
    def key(self) -> tuple[str, str]:
        return (self.rule_id, self.fingerprint)

    def as_dict(self) -> dict[str, str]:
        return {name: value for name in _FIELDS if (value := getattr(self, name)) is not None}


@dataclass(frozen=True)
class Baseline:
    key_id: str
    entries: tuple[Entry, ...] = ()  # sorted by key, one per key

    def __post_init__(self) -> None:
        object.__setattr__(self, "entries", tuple(sorted(self.entries, key=lambda e: e.key)))


@dataclass(frozen=True)
class Comparison:
    """A scan's findings against a baseline."""

    findings: tuple[Finding, ...]  # every finding in the scan's order, known ones marked ignored
    new: tuple[Finding, ...]  # not ignored and not in the baseline
    known: tuple[Finding, ...]  # in the baseline (and not ignored otherwise)
    resolved: tuple[Entry, ...]  # entries that no finding of the scan matched


@dataclass(frozen=True)
class Update:
    baseline: Baseline
    added: int
    kept: int
    dropped: int  # resolved entries removed
    unchecked: int  # resolved entries kept because the scan could not read everything


def match_key(finding: Finding, key: FingerprintKey) -> tuple[str, str]:
    """What a baseline entry matches a finding by: its rule and the fingerprint of its value, or,
    for a finding without a value (GitLab hides it), a keyed hash of its place."""
    if finding.fingerprint:
        return (finding.rule_id, finding.fingerprint)
    return (finding.rule_id, key.fingerprint(f"\0radar place\0{place(finding)}"))


def compare(baseline: Baseline, findings: Sequence[Finding], key: FingerprintKey) -> Comparison:
    entries = {e.key: e for e in baseline.entries}
    seen: set[tuple[str, str]] = set()
    marked, new, known = [], [], []
    for f in findings:
        k = match_key(f, key)
        seen.add(k)
        entry = entries.get(k)
        if f.ignored:  # already silenced (inline, config): it stays as it is
            marked.append(f)
        elif entry is None:
            marked.append(f)
            new.append(f)
        else:
            reason = f"{IGNORE_REASON}: {entry.reason}" if entry.reason else IGNORE_REASON
            f = replace(f, ignored=True, ignore_reason=reason)
            marked.append(f)
            known.append(f)
    resolved = tuple(e for e in baseline.entries if e.key not in seen)
    return Comparison(tuple(marked), tuple(new), tuple(known), resolved)


def is_baselined(finding: Finding) -> bool:
    """Whether `compare` marked this finding as known (rather than ignored in the source or config)."""
    reason = finding.ignore_reason or ""
    return finding.ignored and (reason == IGNORE_REASON or reason.startswith(IGNORE_REASON + ": "))


def created(findings: Iterable[Finding], key: FingerprintKey) -> Baseline:
    """A baseline of `findings` (the caller picks them: not ignored, confident enough)."""
    return updated(Baseline(key.key_id), findings, (), key, complete=True).baseline


def updated(baseline: Baseline, accepted: Iterable[Finding], found: Iterable[Finding], key: FingerprintKey,
            complete: bool) -> Update:
    """`baseline` with an entry added for each of `accepted` it lacks, and without the entries
    that neither `accepted` nor `found` (every finding of the scan, ignored ones too) match.
    Entries of an incomplete scan (`complete=False`) are all kept: what was not read may hold them.
    Kept entries are unchanged, reason, audited_by and path included."""
    entries = {e.key: e for e in baseline.entries}
    additions: dict[tuple[str, str], Entry] = {}
    seen: set[tuple[str, str]] = set()
    for f in accepted:
        k = match_key(f, key)
        seen.add(k)
        if k in entries:
            continue
        candidate = Entry(k[0], k[1], printable(f.secret_type), printable(place(f)))
        previous = additions.get(k)
        if previous is None or (candidate.path or "") < (previous.path or ""):  # the same on every run
            additions[k] = candidate
    seen.update(match_key(f, key) for f in found)
    gone = [e for e in baseline.entries if e.key not in seen]
    kept = [e for e in baseline.entries if e.key in seen or not complete]
    result = Baseline(baseline.key_id, (*kept, *additions.values()))
    return Update(result, added=len(additions), kept=len(baseline.entries) - len(gone),
                  dropped=len(gone) if complete else 0, unchecked=0 if complete else len(gone))


def check_key(baseline: Baseline, key: FingerprintKey, name: str) -> None:
    """Refuse a baseline made under another fingerprint key: every finding would look new."""
    if baseline.key_id != key.key_id:
        raise BaselineError(
            f"baseline {name} was made with fingerprint key id {baseline.key_id}; this run uses {key.key_id} "
            f"(from {key.source}): set {KEY_ENVIRONMENT} to the key that made it, or recreate the baseline"
        )


def dumps(baseline: Baseline) -> str:
    """The canonical text: the same baseline always gives the same bytes."""
    parts = [HEADER, tomli_w.dumps({"version": FORMAT_VERSION, "fingerprint_key_id": baseline.key_id})]
    for entry in baseline.entries:
        # Each entry is its own [[finding]] block, laid out here: tomli_w would write the whole
        # array inline whenever every entry fits in 100 columns, rewriting the file when one grows.
        parts.append(f"\n[[{TABLE}]]\n" + tomli_w.dumps(entry.as_dict()))
    return "".join(parts)


def read(path: str) -> Baseline:
    """Read and check the baseline file at `path`."""
    text = read_text(path, "baseline", BaselineError)
    if text is None:
        raise BaselineError(f"no baseline {path}: create it with radar baseline create {path} PATH")
    return loads(text, path)


def read_text(path: str, what: str, error: type[RadarError]) -> str | None:
    """The text of a file radar wrote (a baseline, a monitor state) at `path`, None when there is
    none; at most MAX_BYTES. Problems raise `error`, naming the file as `what`."""
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_BYTES + 1)
    except FileNotFoundError:
        return None
    except IsADirectoryError:
        raise error(f"{what} {path} is a directory; give the {what} file") from None
    except OSError as e:
        raise error(f"cannot read the {what} {path}: {e.strerror or e}") from None
    if len(data) > MAX_BYTES:
        raise error(f"{what} {path} is larger than {MAX_BYTES // (1024 * 1024)} MiB: "
                    f"not a {what} radar wrote; recreate it")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise error(f"{what} {path} is not UTF-8 text (byte {e.start + 1}); recreate it") from None


def loads(text: str, name: str) -> Baseline:
    """Parse and check baseline text; `name` (the file) is what errors are about."""
    def fail(problem: str) -> BaselineError:  # raised by the caller, so tracebacks end where it was found
        return BaselineError(f"baseline {name}: {problem}")

    key_id, tables = document(text, "baseline", _TOP_LEVEL, fail)
    entries: dict[tuple[str, str], Entry] = {}
    for index, table in enumerate(tables):
        entry = _entry(table, f"{TABLE}[{index}]", fail)
        if entry.key in entries:
            raise fail(f"{TABLE}[{index}] repeats the rule_id and fingerprint of an earlier entry; keep one")
        entries[entry.key] = entry
    return Baseline(key_id, tuple(entries.values()))


def document(text: str, what: str, top_level: Sequence[str], fail: Callable[[str], RadarError]) -> tuple[str, list]:
    """The fingerprint key id and the [[finding]] tables of TOML `text` in the layout radar's
    files share (a baseline, a monitor state): version, fingerprint_key_id, entries. Only the keys
    `top_level` may be there; problems are `fail(problem)`, raised, naming the file as `what`."""
    try:
        parsed = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise fail(f"not valid TOML: {e}; fix it or recreate the {what}") from None
    except RecursionError:
        raise fail(f"arrays or tables nested too deeply: not a radar {what}") from None
    unknown = [k for k in parsed if k not in top_level]
    if unknown:
        raise fail(f"unknown key {quoted_key(unknown[0])} (a {what} has {', '.join(top_level)})")
    version = parsed.get("version")
    if version is None:
        raise fail(f"no version: not a radar {what}")
    if type(version) is not int:
        raise fail("version must be a whole number")
    if version != FORMAT_VERSION:
        raise fail(f"is version {version}; this radar reads version {FORMAT_VERSION}: "
                   f"use the radar that wrote it, or recreate the {what}")
    key_id = parsed.get("fingerprint_key_id")
    if not isinstance(key_id, str) or not _KEY_ID.fullmatch(key_id):
        raise fail(f"fingerprint_key_id must be {KEY_ID_LENGTH} lowercase hex digits")
    tables = parsed.get(TABLE, [])
    if not isinstance(tables, list):
        raise fail(f"{TABLE} must be an array of tables ([[{TABLE}]] blocks)")
    return key_id, tables


def _entry(table: object, where: str, fail: Callable[[str], BaselineError]) -> Entry:
    entry = check_entry(table, where, _FIELDS, _REQUIRED, _FIELDS, fail)
    return Entry(**entry)


def check_entry(table: object, where: str, fields: Sequence[str], required: Sequence[str], text: Sequence[str],
                fail: Callable[[str], RadarError]) -> dict:
    """An entry of a file radar writes (a baseline's, a monitor state's): a table of known keys,
    the required ones present, the `text` ones strings, and a rule_id and fingerprint of radar's form."""
    if not isinstance(table, dict):
        raise fail(f"{where} must be a table")
    for name in table:
        if name not in fields:
            raise fail(f"{where}: unknown key {quoted_key(name)} (an entry has {', '.join(fields)})")
    for name in required:
        if name not in table:
            raise fail(f"{where}: {name} is missing")
    for name in text:
        if name in table and not isinstance(table[name], str):
            raise fail(f"{where}.{name} must be a string")
    check_match_key(table["rule_id"], table["fingerprint"], where, fail)
    return table


def check_match_key(rule_id: str, fingerprint: str, where: str, fail: Callable[[str], RadarError]) -> None:
    """Refuse an entry's rule_id or fingerprint that is not of the form radar writes."""
    if not _RULE_ID.fullmatch(rule_id):
        raise fail(f"{where}.rule_id must be a rule id (lowercase letters, digits and single dashes)")
    if not _FINGERPRINT.fullmatch(fingerprint):
        raise fail(f"{where}.fingerprint must be 64 lowercase hex digits")


def quoted_key(key: str) -> str:
    """A key from the file, quoted and cut short: it is hostile text like the rest of the file."""
    return repr(key if len(key) <= 40 else key[:40] + "…")


def place(finding: Finding) -> str:
    owner = finding.origin.project or finding.origin.group  # GitLab findings: the path is inside it
    return f"{owner}:{finding.path}" if owner else finding.path
