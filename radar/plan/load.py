"""Reading radar's JSON findings report back (`radar scan --format json`) for `radar plan`.

The report's shape is `radar.report.json`'s. Each finding becomes a `radar.scan.findings.Finding`
again, with its `Origin` (GitLab ids, variable key, environment scope, commit) and, for
`--history` findings, its `History` (`in_head`, `locations`). Anything else is refused with one
`RadarError` line naming the file, the finding's index and the field, and saying how to get a
valid report: not JSON, not a radar report, a missing field, a field of the wrong type.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from radar.errors import RadarError
from radar.scan.findings import Finding, History, Location, Origin

_HOW = "create it with: radar scan PATH --format json --output FILE"

# Field -> the JSON type it must have (int also accepts no bool).
_REQUIRED: dict[str, type] = {
    "rule_id": str, "secret_type": str, "description": str, "path": str, "line": int,
    "severity": str, "confidence": str, "fingerprint": str,
}
_OPTIONAL: dict[str, type] = {
    "column": int, "end_line": int, "end_column": int, "preview": str, "tags": list, "ignored": bool,
    "ignore_reason": str, "name": str, "commit": str, "author": str, "date": str, "blob": str,
    "variable_key": str, "key": str, "environment_scope": str, "project": str, "group": str,
    "project_id": int, "namespace_id": int, "remediation": str, "in_head": bool, "locations": list,
}
_LOCATION: dict[str, type] = {"path": str, "line": int, "commit": str, "author": str, "date": str}


class ReportError(RadarError):
    """The findings file is not a radar JSON report radar can plan from."""


@dataclass(frozen=True)
class ScanInfo:
    """What the report says about its scan: `kind` (directory, history, gitlab) and `target`."""

    kind: str
    target: str
    root: str


@dataclass(frozen=True)
class Report:
    findings: tuple[Finding, ...]
    scan: ScanInfo


def load_report(path: str) -> Report:
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
    return parse_report(text, path)


def parse_report(text: str, path: str = "<report>") -> Report:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as e:
        # e.msg and the position only: the document could quote anything.
        raise ReportError(f"{path}: not JSON ({e.msg} at line {e.lineno} column {e.colno}); {_HOW}") from None
    if not isinstance(document, dict) or "findings" not in document:
        raise ReportError(f"{path}: not a radar findings report (no top-level \"findings\"); {_HOW}")
    raw = document["findings"]
    if not isinstance(raw, list):
        raise ReportError(f"{path}: \"findings\" must be a list, not {_json_type(raw)}; {_HOW}")
    findings = tuple(_finding(item, i, path) for i, item in enumerate(raw))
    scan = document.get("scan")
    if scan is None:
        scan = {}
    if not isinstance(scan, dict):
        raise ReportError(f"{path}: \"scan\" must be an object, not {_json_type(scan)}; {_HOW}")
    info = ScanInfo(*(_text(scan, key, path) for key in ("kind", "target", "root")))
    return Report(findings, info)


def _text(scan: dict, key: str, path: str) -> str:
    value = scan.get(key, "")
    if not isinstance(value, str):
        raise ReportError(f"{path}: scan.{key} must be a string, not {_json_type(value)}; {_HOW}")
    return value


def _finding(item: Any, index: int, path: str) -> Finding:
    where = f"{path}: findings[{index}]"
    if not isinstance(item, dict):
        raise ReportError(f"{where} must be an object, not {_json_type(item)}; {_HOW}")
    missing = [key for key in _REQUIRED if key not in item]
    if missing:
        raise ReportError(f"{where} lacks {', '.join(missing)}; {_HOW}")
    for fields in (_REQUIRED, _OPTIONAL):
        for key, kind in fields.items():
            if key in item and item[key] is not None and not _is(item[key], kind):
                raise ReportError(
                    f"{where}.{key} must be {_TYPE_NAMES[kind]}, not {_json_type(item[key])}; {_HOW}"
                )
    tags = item.get("tags") or []
    if not all(isinstance(t, str) for t in tags):
        raise ReportError(f"{where}.tags must be a list of strings; {_HOW}")
    origin = Origin(
        commit=item.get("commit"), author=item.get("author"), date=item.get("date"), blob=item.get("blob"),
        variable_key=item.get("variable_key", item.get("key")), environment_scope=item.get("environment_scope"),
        project=item.get("project"), group=item.get("group"), project_id=item.get("project_id"),
        namespace_id=item.get("namespace_id"),
    )
    history = None
    if "in_head" in item or "locations" in item:
        locations = tuple(_location(loc, f"{where}.locations[{i}]")
                          for i, loc in enumerate(item.get("locations") or []))
        history = History(in_head=bool(item.get("in_head", True)), locations=locations)
    line = item["line"]
    return Finding(
        rule_id=item["rule_id"], secret_type=item["secret_type"], description=item["description"],
        severity=item["severity"], confidence=item["confidence"], path=item["path"], line=line,
        column=item.get("column", 1), end_line=item.get("end_line", line), end_column=item.get("end_column", 1),
        fingerprint=item["fingerprint"], preview=item.get("preview", ""), tags=tuple(tags),
        ignored=bool(item.get("ignored", False)), ignore_reason=item.get("ignore_reason"), origin=origin,
        history=history, remediation=item.get("remediation"), name=item.get("name"),
    )


def _location(item: Any, where: str) -> Location:
    if not isinstance(item, dict):
        raise ReportError(f"{where} must be an object, not {_json_type(item)}; {_HOW}")
    for key, kind in _LOCATION.items():
        if key not in item:
            raise ReportError(f"{where} lacks {key}; {_HOW}")
        if not _is(item[key], kind):
            raise ReportError(f"{where}.{key} must be {_TYPE_NAMES[kind]}, not {_json_type(item[key])}; {_HOW}")
    return Location(**{key: item[key] for key in _LOCATION})


_TYPE_NAMES = {str: "a string", int: "a whole number", bool: "true or false", list: "a list"}


def _is(value: Any, kind: type) -> bool:
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, kind)


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    return {dict: "an object", list: "a list", str: "a string", int: "a number", float: "a number"}.get(
        type(value), type(value).__name__)
