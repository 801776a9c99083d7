"""The JSON report: `{"findings": [...], "summary": {...}, "scan": {...}}`, stable keys, never a secret.

Each finding is `Finding.as_dict()`: rule_id, secret_type, description, path (relative to the
scanned root, `/`-separated), line/column and end_line/end_column (1-based), severity,
confidence, fingerprint, preview, tags, ignored (and ignore_reason), name (the variable or key
the value is assigned to, when known), plus origin fields (commit, author, date, variable_key,
project, project_id, group, namespace_id, environment_scope, ...) when a source provides them. A
`--history` finding adds `first_seen` ({commit, author, date}), `in_head` and `locations` (path,
line, commit, author, date), see `radar.scan.history`. With `--vault-index`, a finding whose value
Vault holds adds `in_vault` (namespace, mount, path, field, version, latest per place; see
`radar.scan.vault_index`). `summary` holds the totals (findings,
files, bytes, ...); `scan` says what was scanned (kind, target, root, started, finished,
radar_version). `radar plan` reads this document back. The schema, JSON Schema 2020-12, ships
beside this module as `findings.schema.json` (`SCHEMA_PATH`); tests validate every kind of scan
against it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Sequence

from radar.report.context import ReportContext
from radar.scan.findings import Finding

SCHEMA_PATH = Path(__file__).with_name("findings.schema.json")


def render(findings: Sequence[Finding], context: ReportContext) -> str:
    """The document `json.dumps(..., indent=2)` would give, built one finding at a time.

    Dumping the whole document at once holds every finding's dict and the encoder's many small
    string pieces at the same time: ~60 MB at its peak for a 7 MB report of 8,000 findings
    (benchmarks/scan_gitlab.py). Here only each finding's text is kept until the final join.
    """
    parts = ["{\n  \"findings\": ["]
    for index, f in enumerate(findings):
        parts.append(",\n" if index else "\n")
        parts.append(_indented(f.as_dict(), "    "))
    if findings:
        parts.append("\n  ")
    parts.append("],\n  \"summary\": " + _indented(dict(context.summary), "  ", first=False))
    parts.append(",\n  \"scan\": " + _indented(context.as_dict(), "  ", first=False) + "\n}\n")
    return "".join(parts)


def _indented(value: dict, margin: str, first: bool = True) -> str:
    text = json.dumps(value, indent=2, ensure_ascii=False).replace("\n", "\n" + margin)
    return margin + text if first else text
