"""The JSON report: `{"findings": [...], "summary": {...}}`, stable keys, never a secret value.

Each finding is `Finding.as_dict()`: rule_id, secret_type, description, path (relative to the
scanned root, `/`-separated), line/column and end_line/end_column (1-based), severity,
confidence, fingerprint, preview, tags, ignored (and ignore_reason), plus origin fields (commit,
author, date, variable_key, project, ...) when a source provides them. A `--history` finding
adds `first_seen` ({commit, author, date}), `in_head` and `locations` (path, line, commit,
author, date), see `radar.scan.history`.
"""

from __future__ import annotations

import json
from typing import Sequence

from radar.scan.findings import Finding


def render(findings: Sequence[Finding], summary: dict | None = None) -> str:
    document: dict = {"findings": [f.as_dict() for f in findings]}
    if summary is not None:
        document["summary"] = summary
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
