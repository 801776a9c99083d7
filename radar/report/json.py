"""The JSON report: `{"findings": [...], "summary": {...}, "scan": {...}}`, stable keys, never a secret.

Each finding is `Finding.as_dict()`: rule_id, secret_type, description, path (relative to the
scanned root, `/`-separated), line/column and end_line/end_column (1-based), severity,
confidence, fingerprint, preview, tags, ignored (and ignore_reason), name (the variable or key
the value is assigned to, when known), plus origin fields (commit, author, date, variable_key,
project, project_id, group, namespace_id, environment_scope, ...) when a source provides them. A
`--history` finding adds `first_seen` ({commit, author, date}), `in_head` and `locations` (path,
line, commit, author, date), see `radar.scan.history`. `summary` holds the totals (findings,
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
    document = {
        "findings": [f.as_dict() for f in findings],
        "summary": dict(context.summary),
        "scan": context.as_dict(),
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
