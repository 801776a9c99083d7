"""The Vault index file: keyed digests of Vault's values, and the findings whose values are in it.

`radar index vault` writes it (`radar.vault.index`); `radar scan ... --vault-index INDEX` reads
it and gives each finding whose fingerprint is in it `in_vault` places (namespace, mount, path,
field, version, latest). The file holds no value: a digest is `FingerprintKey.fingerprint()`,
the same HMAC as findings' fingerprints, so a finding is looked up by its fingerprint and a
digest cannot be reversed without the key; the header names the key by its id
(`FingerprintKey.key_id`), and a scan with another key is refused.

The format is JSON lines, UTF-8 (ASCII, in fact: written with `\\u` escapes):

- line 1, the header: `{"radar_vault_index": 1, "key_id", "vault" (the address), "namespaces"
  (walked), "mounts" ([{namespace, mount, kv_version}]), "generated" (UTC), "radar_version",
  "complete" (false when something could not be read), "unreadable" (how many things),
  "values" (fields read), "entries" (lines that follow)}`;
- then one entry per line: `{"digest", "namespace", "mount", "path", "field", "version",
  "latest", "deleted", "destroyed", "form"}`. A version Vault no longer gives out (deleted or
  destroyed) has `digest`, `field` and `form` null: it is listed so the index says it exists.
  `version` is null for KV v1. `form` says which text was hashed (`value_digests`).

What is hashed for one value (`value_digests`): the value as a job gets it; trimmed of
surrounding white space; for a value of several lines, its lines joined by LF and by CRLF, as
a JSON string's inside (`\\n` escapes, with and without the final line break: a PEM key in a
JSON file) and indented by 2 and by 4 spaces after the first line (a YAML block); and the
fingerprint of each finding radar's detectors make in the value itself (the private key inside a
service-account JSON stored whole, the password inside a stored connection string). A scan
finds the same texts in files, so their fingerprints meet.

Reading (`load_index`) is bounded against a hostile file: lines of at most MAX_LINE_BYTES, at
most MAX_ENTRIES entries, each line checked (radar's own layout by one pattern, any other by the
JSON parser and the schema); anything else is one `VaultIndexError` line naming the file, the
line and what is wrong there, never the line's text. A line in radar's layout is kept as text and
parsed only when a finding's fingerprint asks for it; in memory an entry costs about 450 bytes
(benchmarks/vault_index.py measures it), and deleted or destroyed versions are not kept.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from radar import json_input
from radar.errors import RadarError
from radar.report.schema import Check, SchemaViolation, compile_schema
from radar.scan.findings import Finding, FingerprintKey, VaultPlace

if TYPE_CHECKING:
    from radar.scan.engine import Engine
    from radar.scan.scanner import ScanReport

FORMAT = 1
MAX_LINE_BYTES = 64 * 1024
MAX_ENTRIES = 2_000_000
# Bodies of up to this many bytes an entry are read in one piece (radar writes about 250); larger
# ones, which radar does not write, line by line.
_FAST_LINE_BYTES = 4096
_HOW = "create it with: radar index vault --output INDEX"

_TEXT = {"type": "string"}
_NAME = {"type": "string", "minLength": 1}
_HEADER_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["radar_vault_index", "key_id", "vault", "namespaces", "mounts", "generated", "radar_version",
                 "complete", "unreadable", "values", "entries"],
    "additionalProperties": False,
    "properties": {
        "radar_vault_index": {"type": "integer", "minimum": 1},
        "key_id": {"type": "string", "pattern": "^[0-9a-f]{12}$"},
        "vault": _TEXT,
        "namespaces": {"type": "array", "items": _TEXT},
        "mounts": {"type": "array", "items": {
            "type": "object", "required": ["namespace", "mount", "kv_version"], "additionalProperties": False,
            "properties": {"namespace": _TEXT, "mount": _NAME, "kv_version": {"enum": [1, 2]}},
        }},
        "generated": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$"},
        "radar_version": _TEXT,
        "complete": {"type": "boolean"},
        "unreadable": {"type": "integer", "minimum": 0},
        "values": {"type": "integer", "minimum": 0},
        "entries": {"type": "integer", "minimum": 0},
    },
}
_ENTRY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["digest", "namespace", "mount", "path", "field", "version", "latest", "deleted", "destroyed", "form"],
    "additionalProperties": False,
    "properties": {
        "digest": {"type": ["string", "null"], "pattern": "^[0-9a-f]{64}$"},
        "namespace": _TEXT,
        "mount": _NAME,
        "path": _NAME,
        "field": {"type": ["string", "null"]},
        "version": {"type": ["integer", "null"], "minimum": 1},
        "latest": {"type": "boolean"},
        "deleted": {"type": "boolean"},
        "destroyed": {"type": "boolean"},
        "form": {"type": ["string", "null"]},
    },
}


class VaultIndexError(RadarError):
    """The Vault index file cannot be used: unreadable, not an index, broken, or made with another key."""


@dataclass(frozen=True)
class IndexEntry:
    """One line of the index after its header (see the module's docstring)."""

    digest: str | None
    namespace: str
    mount: str
    path: str
    field: str | None
    version: int | None
    latest: bool
    deleted: bool = False
    destroyed: bool = False
    form: str | None = None

    @property
    def sort_key(self) -> tuple:
        return (self.namespace, self.mount, self.path, self.version or 0, self.field or "", self.digest or "")


@dataclass(frozen=True)
class IndexHeader:
    key_id: str
    vault: str
    namespaces: tuple[str, ...]
    mounts: tuple[tuple[str, str, int], ...]  # (namespace, mount, kv_version)
    generated: str
    radar_version: str
    complete: bool
    unreadable: int
    values: int
    entries: int
    format: int = FORMAT

    def as_dict(self) -> dict[str, Any]:
        return {
            "radar_vault_index": self.format, "key_id": self.key_id, "vault": self.vault,
            "namespaces": list(self.namespaces),
            "mounts": [{"namespace": n, "mount": m, "kv_version": v} for n, m, v in self.mounts],
            "generated": self.generated, "radar_version": self.radar_version, "complete": self.complete,
            "unreadable": self.unreadable, "values": self.values, "entries": self.entries,
        }


# --- what is hashed ------------------------------------------------------------------------------

def value_digests(value: str, key: FingerprintKey, engine: Engine | None = None) -> dict[str, str]:
    """The digests a scan could give the value `value` as a fingerprint, each with its form's name
    (see the module's docstring)."""
    texts: dict[str, str] = {}

    def add(text: str, form: str) -> None:
        if text.strip() and text not in texts:
            texts[text] = form

    add(value, "value")
    trimmed = value.strip()
    add(trimmed, "trimmed")
    if "\n" in trimmed:
        lines = trimmed.replace("\r\n", "\n").split("\n")
        add("\n".join(lines), "lf")
        add("\r\n".join(lines), "crlf")
        # A JSON file holds the lines as one string with \n escapes (json.dumps' own escaping, as
        # most writers do); a service-account key keeps its final line break.
        add(json.dumps("\n".join(lines), ensure_ascii=False)[1:-1], "json-escaped")
        add(json.dumps("\n".join(lines) + "\n", ensure_ascii=False)[1:-1], "json-escaped")
        for indent in (2, 4):  # a YAML block scalar (`key: |`) indents every line but the first one found
            add(("\n" + " " * indent).join(lines), f"indented-{indent}")
    digests = {key.fingerprint(text): form for text, form in texts.items()}
    if engine is not None:
        # A path without a suffix: not program source, where unquoted values are not reported.
        for finding in engine.scan(value, "vault-value").findings:
            digests.setdefault(finding.fingerprint, f"found:{finding.rule_id}")
    return digests


# --- writing -------------------------------------------------------------------------------------

def render(header: IndexHeader, entries: Sequence[IndexEntry]) -> str:
    """The index file's text: the header line, then one line per entry."""
    lines = [json.dumps(header.as_dict(), separators=(",", ":"))]
    lines += [json.dumps(dataclasses.asdict(entry), separators=(",", ":")) for entry in entries]
    return "\n".join(lines) + "\n"


# --- reading -------------------------------------------------------------------------------------

class VaultIndex:
    """A loaded index: the places of each digest of a value Vault still gives out."""

    def __init__(self, path: str, header: IndexHeader, places: dict[str, Any]) -> None:
        self.path = path
        self.header = header
        self._places = places

    def __len__(self) -> int:
        return len(self._places)

    def places(self, fingerprint: str) -> tuple[VaultPlace, ...]:
        found = self._places.get(fingerprint)
        if found is None:
            return ()
        if not isinstance(found, tuple):  # parsed once, when first asked
            found = self._places[fingerprint] = _resolve(found)
        return found

    @property
    def warnings(self) -> tuple[str, ...]:
        if self.header.complete:
            return ()
        return (f"Vault index {self.path} is incomplete: {self.header.unreadable} thing(s) could not be read "
                f"when it was made; a value stored there is not marked in_vault",)

    def mark(self, findings: Iterable[Finding]) -> list[Finding]:
        """`findings`, each whose fingerprint is in the index with its `in_vault` places."""
        marked = []
        for finding in findings:
            places = self.places(finding.fingerprint) if finding.fingerprint else ()
            marked.append(dataclasses.replace(finding, in_vault=places) if places else finding)
        return marked

    def apply(self, report: ScanReport) -> None:
        """Mark a scan's findings, and add the index's own warnings to the scan's."""
        report.findings = self.mark(report.findings)
        report.warnings.extend(self.warnings)


def load_index(path: str, key: FingerprintKey) -> VaultIndex:
    """The index at `path`, checked line by line, made with `key` (else VaultIndexError)."""
    try:
        with open(path, "rb") as stream:
            return _read(stream, path, key)
    except FileNotFoundError:
        raise VaultIndexError(f"{path}: no such file; {_HOW}") from None
    except IsADirectoryError:
        raise VaultIndexError(f"{path}: is a directory, not a Vault index; {_HOW}") from None
    except OSError as e:
        raise VaultIndexError(f"{path}: cannot read it: {e.strerror}") from None


def parse_index(data: bytes, key: FingerprintKey, path: str = "<index>") -> VaultIndex:
    """`load_index` of a file's bytes (tests and tools)."""
    import io

    return _read(io.BytesIO(data), path, key)


def _read(stream: Any, path: str, key: FingerprintKey) -> VaultIndex:
    header_line = _line(stream, path, 1)
    if header_line is None:
        raise VaultIndexError(f"{path}: is empty, not a Vault index; {_HOW}")
    document = _json(header_line, path, 1)
    if not isinstance(document, dict) or "radar_vault_index" not in document:
        raise VaultIndexError(f"{path}: not a radar Vault index (its first line is no index header); {_HOW}")
    if document.get("radar_vault_index") != FORMAT:
        raise VaultIndexError(f"{path}: a Vault index in a format this radar does not read (it reads format "
                              f"{FORMAT}); re-create it with this radar: radar index vault --output INDEX")
    _check(_header_schema(), document, path, 1)
    header = IndexHeader(
        key_id=document["key_id"], vault=document["vault"], namespaces=tuple(document["namespaces"]),
        mounts=tuple((m["namespace"], m["mount"], int(m["kv_version"])) for m in document["mounts"]),
        generated=document["generated"], radar_version=document["radar_version"], complete=document["complete"],
        unreadable=int(document["unreadable"]), values=int(document["values"]), entries=int(document["entries"]),
    )
    if header.key_id != key.key_id:
        raise VaultIndexError(
            f"{path}: made with the fingerprint key {header.key_id}, but this scan's key is {key.key_id}, so no "
            f"fingerprint could match; scan with the key that made the index (RADAR_FINGERPRINT_KEY or "
            f"RADAR_FINGERPRINT_KEY_FILE), or re-create the index with this one"
        )
    if header.entries > MAX_ENTRIES:
        raise VaultIndexError(f"{path}: holds {header.entries} entries, more than the {MAX_ENTRIES} radar reads; "
                              f"make an index per part of Vault with --mount or --path")
    start = stream.tell()
    body = stream.read(header.entries * _FAST_LINE_BYTES + 1)
    fast = _radar_written_places(body, header.entries) if len(body) <= header.entries * _FAST_LINE_BYTES else None
    if fast is not None:
        return VaultIndex(path, header, fast)
    stream.seek(start)  # not all in radar's own layout: line by line, naming the first bad line
    check = _entry_schema()
    # digest: a line as radar writes it (parsed when a finding asks), a VaultPlace (from a line in
    # another layout, parsed already), or a list of those when the value is in several places.
    places: dict[str, Any] = {}
    count = 0
    number = 1
    while (line := _line(stream, path, number + 1)) is not None:
        number += 1
        if not line.strip():
            continue
        count += 1
        if count > header.entries:
            raise VaultIndexError(f"{path}: line {number}: more entries than its header says ({header.entries}); "
                                  f"the file was changed after radar wrote it; {_HOW}")
        line = line.rstrip("\n")
        written = _ENTRY_LINE.fullmatch(line)
        if written is not None:  # radar's own layout: well formed by construction, parsed on demand
            digest, has_field = written["digest"], written["field"] != "null"
            found: str | VaultPlace = line
        else:
            item = _json(line, path, number)
            if not _well_formed(item):
                _check(check, item, path, number)  # the schema names what is wrong (or accepts a 2.0)
            digest, has_field = item["digest"], item["field"] is not None
            found = _place(item) if digest is not None and has_field else line
        if digest is None:
            continue  # a deleted or destroyed version: nothing to match
        if not has_field:
            raise VaultIndexError(f"{path}: line {number}: an entry with a digest must name its field; {_HOW}")
        before = places.get(digest)
        if before is None:
            places[digest] = found
        elif isinstance(before, list):
            before.append(found)
        else:
            places[digest] = [before, found]
    if count != header.entries:
        raise VaultIndexError(f"{path}: holds {count} entries where its header says {header.entries}: the file "
                              f"is cut short or was changed; {_HOW}")
    return VaultIndex(path, header, places)


# An entry line exactly as `render` writes it (keys in order, compact, ASCII): matching it proves
# the line well formed, so loading keeps it as it is and parses it only when a finding's
# fingerprint asks for it. Parsing and checking every line cost 15-20 us an entry (0.2 s for a
# 10,000-value index, most of what --vault-index added to a scan); this match costs about 1 us.
# Each alternative starts with a different character and nothing backtracks: linear in the line's length.
_CHARACTERS = r'(?:[^"\\\x00-\x1f]++|\\["\\/bfnrt]|\\u[0-9a-fA-F]{4})'  # runs of plain ones at once
_STRING = '"' + _CHARACTERS + '*+"'
_NAME_STRING = '"' + _CHARACTERS + '++"'
_BOOL = "(?:true|false)"
_ENTRY_LINE = re.compile(
    r'\{"digest":(?:null|"(?P<digest>[0-9a-f]{64})"),"namespace":' + _STRING + ',"mount":' + _NAME_STRING
    + ',"path":' + _NAME_STRING + ',"field":(?P<field>null|' + _STRING + '),"version":(?:null|[1-9][0-9]{0,17}),'
    + '"latest":' + _BOOL + ',"deleted":' + _BOOL + ',"destroyed":' + _BOOL + ',"form":(?:null|' + _STRING
    + r')\}'
)


def _radar_written_places(body: bytes, entries: int) -> dict[str, Any] | None:
    """The places of an index body whose every line is in radar's own layout (`_ENTRY_LINE`), read
    in one pass: the same checks as the line-by-line reader, without its per-line calls (they were
    most of what loading cost a scan). None when any line is not: the careful reader then says which."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return None
    lines = text.split("\n")
    if lines.pop() != "" or len(lines) != entries:  # radar ends every line with a newline
        return None
    matches = list(map(_ENTRY_LINE.fullmatch, lines))
    if None in matches:
        return None
    places: dict[str, Any] = {}
    for line, match in zip(lines, matches):
        digest = match["digest"]
        if digest is None:
            continue  # a deleted or destroyed version
        if match["field"] == "null":
            return None  # an error the careful reader names
        before = places.get(digest)
        if before is None:
            places[digest] = line
        elif isinstance(before, list):
            before.append(line)
        else:
            places[digest] = [before, line]
    return places


def _place(item: dict[str, Any]) -> VaultPlace:
    version = None if item["version"] is None else int(item["version"])
    return VaultPlace(item["namespace"], item["mount"], item["path"], item["field"], version, item["latest"])


def _resolve(found: str | VaultPlace | list[str | VaultPlace]) -> tuple[VaultPlace, ...]:
    """The places of one digest, parsed, without repeats, latest versions first."""
    items = found if isinstance(found, list) else [found]
    unique = {(_place(json.loads(x)) if isinstance(x, str) else x): None for x in items}
    return tuple(sorted(unique, key=_place_order))


_ENTRY_KEYS = frozenset(_ENTRY_SCHEMA["required"])
_DIGEST = re.compile("[0-9a-f]{64}")


def _well_formed(item: Any) -> bool:
    """What `_ENTRY_SCHEMA` accepts, checked directly: the general validator costs 20 µs an entry
    (measured: 0.2 s of a 10,000-value index's load, most of what --vault-index added to a scan);
    anything this rejects goes to the schema, which says what is wrong."""
    if type(item) is not dict or item.keys() != _ENTRY_KEYS:
        return False
    digest, version = item["digest"], item["version"]
    return ((digest is None or (type(digest) is str and _DIGEST.fullmatch(digest) is not None))
            and type(item["namespace"]) is str and type(item["mount"]) is str and item["mount"] != ""
            and type(item["path"]) is str and item["path"] != ""
            and (item["field"] is None or type(item["field"]) is str)
            and (version is None or (type(version) is int and version >= 1))
            and type(item["latest"]) is bool and type(item["deleted"]) is bool and type(item["destroyed"]) is bool
            and (item["form"] is None or type(item["form"]) is str))


def _place_order(place: VaultPlace) -> tuple:
    """Latest versions first, then by place, newer versions before older ones."""
    return (not place.latest, place.namespace, place.mount, place.path, place.field, -(place.version or 0))


def _line(stream: Any, path: str, number: int) -> str | None:
    raw = stream.readline(MAX_LINE_BYTES + 1)
    if not raw:
        return None
    if len(raw) > MAX_LINE_BYTES:
        raise VaultIndexError(f"{path}: line {number} is longer than {MAX_LINE_BYTES // 1024} KiB, longer than "
                              f"any line radar writes; {_HOW}")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise VaultIndexError(f"{path}: line {number} is not UTF-8 text, so not a Vault index; {_HOW}") from None


def _json(line: str, path: str, number: int) -> Any:
    try:
        return json_input.loads(line)
    except json_input.JSONNestingError as e:
        raise VaultIndexError(f"{path}: line {number}: {e}; {_HOW}") from None
    except json.JSONDecodeError as e:  # its message and column only: the line could hold anything
        raise VaultIndexError(f"{path}: line {number}: not JSON ({e.msg} at column {e.colno}); {_HOW}") from None


def _check(check: Check, value: Any, path: str, number: int) -> None:
    try:
        check(value)
    except SchemaViolation as violation:
        what = "the header" if number == 1 else "the entry"
        raise VaultIndexError(f"{path}: line {number}: {str(violation).replace('the document', what, 1)}; "
                              f"{_HOW}") from None


@functools.cache
def _header_schema() -> Check:
    return compile_schema(_HEADER_SCHEMA)


@functools.cache
def _entry_schema() -> Check:
    return compile_schema(_ENTRY_SCHEMA)
