"""Reading radar's JSON findings report back (`radar scan --format json`) for `radar plan`.

The document must follow the report's published schema, `radar/report/findings.schema.json`
(checked by `radar.report.schema`, which names the first offending field: `findings[3].severity
must be one of critical, high, medium, low`); anything else is refused with one `RadarError` line
naming the file and the place, and saying how to get a valid report. That covers a file that is
not JSON, nests arrays and objects too deeply to read, is not a radar report, lacks a field or
has one of the wrong type or value (`severity: "apocalyptic"`, `confidence: null`, `line: -5`).
Each finding then becomes a `radar.scan.findings.Finding` again, with its `Origin` (GitLab ids,
variable key, environment scope, commit), for `--history` findings its `History` (`in_head`,
`locations`), and its `in_vault` places.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from typing import Any

from radar import json_input
from radar.errors import RadarError
from radar.report.schema import Check, SchemaViolation, compile_schema
from radar.scan.findings import Finding, History, Location, Origin, VaultPlace

_HOW = "create it with: radar scan PATH --format json --output FILE"


class ReportError(RadarError):
    """The findings file is not a radar JSON report radar can plan from."""


@dataclass(frozen=True)
class ScanInfo:
    """What the report says about its scan: `kind` (directory, history, gitlab) and `target`."""

    kind: str
    target: str
    root: str
    fingerprint_key_id: str | None = None  # the key the fingerprints were made with (absent in old reports)


@dataclass(frozen=True)
class Report:
    findings: tuple[Finding, ...]
    scan: ScanInfo


def load_report(path: str) -> Report:
    return parse_report(read_report_text(path), path)


def read_report_text(path: str) -> str:
    """The text of the report file at `path`, or a ReportError saying why it cannot be read."""
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except FileNotFoundError:
        raise ReportError(f"{path}: no such file; {_HOW}") from None
    except IsADirectoryError:
        raise ReportError(f"{path}: is a directory, not a findings report; {_HOW}") from None
    except UnicodeDecodeError:
        raise ReportError(f"{path}: is not UTF-8 text, so not a radar JSON report; {_HOW}") from None
    except OSError as e:
        raise ReportError(f"{path}: cannot read it: {e.strerror}") from None
    return text


def parse_report(text: str, path: str = "<report>") -> Report:
    document = parse_document(text, path)
    scan = document["scan"]
    return Report(tuple(map(finding_from_dict, document["findings"])),
                  ScanInfo(scan["kind"], scan["target"], scan["root"], scan.get("fingerprint_key_id")))


def parse_document(text: str, path: str = "<report>") -> dict[str, Any]:
    """The JSON document, once it is known to follow the report's schema; else a ReportError."""
    try:
        document = json_input.loads(text)
    except json_input.JSONNestingError as e:
        raise ReportError(f"{path}: not a report radar can read: {e}; {_HOW}") from None
    except json.JSONDecodeError as e:
        # e.msg and the position only: the document could quote anything.
        raise ReportError(f"{path}: not JSON ({e.msg} at line {e.lineno} column {e.colno}); {_HOW}") from None
    try:
        _report_schema()(document)
    except SchemaViolation as violation:
        raise ReportError(f"{path}: not a radar findings report: {violation}; {_HOW}") from None
    return document


@functools.cache
def _report_schema() -> Check:
    from radar.report.json import SCHEMA_PATH

    return compile_schema(json.loads(SCHEMA_PATH.read_text(encoding="utf-8")))


def finding_from_dict(item: dict[str, Any]) -> Finding:
    """A finding of a document the schema accepted (integers may be written 1.0: JSON Schema allows it)."""
    origin = Origin(
        commit=item.get("commit"), author=item.get("author"), date=item.get("date"), blob=item.get("blob"),
        variable_key=item.get("variable_key", item.get("key")), environment_scope=item.get("environment_scope"),
        project=item.get("project"), group=item.get("group"), project_id=_whole(item.get("project_id")),
        namespace_id=_whole(item.get("namespace_id")),
    )
    history = None
    if "in_head" in item:  # the schema requires first_seen and locations with it
        history = History(in_head=item["in_head"], locations=tuple(
            Location(loc["path"], int(loc["line"]), loc["commit"], loc["author"], loc["date"])
            for loc in item["locations"]))
    return Finding(
        rule_id=item["rule_id"], secret_type=item["secret_type"], description=item["description"],
        severity=item["severity"], confidence=item["confidence"], path=item["path"], line=int(item["line"]),
        column=int(item["column"]), end_line=int(item["end_line"]), end_column=int(item["end_column"]),
        fingerprint=item["fingerprint"], preview=item["preview"], tags=tuple(item["tags"]),
        ignored=item["ignored"], ignore_reason=item.get("ignore_reason"), origin=origin,
        history=history, remediation=item.get("remediation"), name=item.get("name"),
        in_vault=tuple(VaultPlace(p["namespace"], p["mount"], p["path"], p["field"], _whole(p["version"]), p["latest"])
                       for p in item.get("in_vault", ())),
    )


def _whole(value: int | float | None) -> int | None:
    return None if value is None else int(value)
