"""CSV for spreadsheets and ad-hoc tooling: one header row, then one row per finding.

Columns (stable; new ones are only ever appended): `COLUMNS` below. A `--history` finding is one
row, like in the JSON report (a row is a secret, so counting rows counts secrets): its place is
where the value was first committed, `commit`/`author`/`date` name that commit, `in_head` says
whether HEAD still has it, and `locations` lists every place as `path:line@commit`, separated by
`; `. `in_vault` lists where Vault holds the value (`--vault-index`), as
`[namespace/]mount/path#field vN (latest)`, separated by `; `. Empty cells mean "does not apply".

Spreadsheets run a cell that starts with `=`, `+`, `-`, `@` (and tab or CR, which some strip
first) as a formula, and scanned paths, names and descriptions are attacker-controlled text: such
a cell gets a leading `'` (OWASP's advice), which shows as text and is dropped by most spreadsheet
programs. The file is UTF-8, with RFC 4180 quoting and CRLF line ends from the csv module.
"""

from __future__ import annotations

import csv
import io
from typing import Sequence

from radar.report.context import ReportContext
from radar.scan.findings import Finding

COLUMNS = (
    "path", "line", "column", "end_line", "end_column", "rule_id", "secret_type", "description",
    "severity", "confidence", "preview", "fingerprint", "name", "tags", "ignored", "ignore_reason",
    "commit", "author", "date", "project", "group", "variable_key", "environment_scope",
    "in_head", "location_count", "locations", "in_vault",
)
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def defuse(cell: str) -> str:
    """`cell` made safe to open in a spreadsheet: a leading `'` when it would start a formula."""
    return "'" + cell if cell.startswith(_FORMULA_STARTS) else cell


def _row(f: Finding) -> dict[str, str | int]:
    history = f.history
    values: dict[str, str | int | None] = {
        "path": f.path, "line": f.line, "column": f.column, "end_line": f.end_line, "end_column": f.end_column,
        "rule_id": f.rule_id, "secret_type": f.secret_type, "description": f.description,
        "severity": f.severity, "confidence": f.confidence, "preview": f.preview, "fingerprint": f.fingerprint,
        "name": f.name, "tags": " ".join(f.tags), "ignored": "true" if f.ignored else "false",
        "ignore_reason": f.ignore_reason, "commit": f.origin.commit, "author": f.origin.author,
        "date": f.origin.date, "project": f.origin.project, "group": f.origin.group,
        "variable_key": f.origin.variable_key, "environment_scope": f.origin.environment_scope,
        "in_head": ("true" if history.in_head else "false") if history else None,
        "location_count": len(history.locations) if history else None,
        "locations": "; ".join(f"{loc.path}:{loc.line}@{loc.commit}" for loc in history.locations) if history else None,
        "in_vault": "; ".join(place.label() for place in f.in_vault) or None,
    }
    return {k: (defuse(v) if isinstance(v, str) else "" if v is None else v) for k, v in values.items()}


def render(findings: Sequence[Finding], context: ReportContext) -> str:
    out = io.StringIO(newline="")
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    for f in findings:
        writer.writerow(_row(f))
    return out.getvalue()
