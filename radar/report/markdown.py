"""A Markdown report for people: merge-request comments, wiki pages, issue bodies.

A title; what was scanned, when and with which radar; a summary by severity and a table of
secret types by severity; then one table row per finding (location, rule, severity, confidence,
preview, fingerprint prefix, notes such as ignored, history-only or in HEAD).

Cells hold scanned text (paths, names, descriptions), so `cell()` escapes everything that could
change the table or the page: `|` and line breaks (which would end the cell or the row),
backslashes, backticks and the emphasis and link characters (which would start formatting),
and `<`, `>`, `&` as HTML entities (GitLab and GitHub render inline HTML).
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Sequence

from radar.report.context import ReportContext
from radar.report.page import ordered_severities
from radar.report.text import location_label, notes
from radar.scan.findings import Finding

TITLE = "radar scan report"
FINDING_COLUMNS = ("#", "Location", "Rule", "Severity", "Confidence", "Preview", "Fingerprint", "Notes")
_SPECIAL = re.compile(r"([\\`|*_\[\]~])")
_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}


def cell(text: object) -> str:
    """`text` as the content of one GitHub/GitLab-flavoured Markdown table cell, shown literally."""
    value = re.sub(r"[\r\n\u2028\u2029\x0b\x0c\x85]+", " ", str(text))
    value = "".join(_ENTITIES.get(c, c) for c in value)
    return _SPECIAL.sub(r"\\\1", value).strip() or " "


def table(headers: Sequence[str], rows: Sequence[Sequence[object]], right: frozenset[int] = frozenset()) -> str:
    align = ["---:" if i in right else "---" for i in range(len(headers))]
    lines = ["| " + " | ".join(cell(h) for h in headers) + " |", "| " + " | ".join(align) + " |"]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def render(findings: Sequence[Finding], context: ReportContext) -> str:
    reported = [f for f in findings if not f.ignored]
    scan = context.as_dict()
    what = {"directory": "directory", "history": "git history", "gitlab": "GitLab", "vault": "Vault configuration"}.get(context.kind, context.kind)
    parts = [
        f"# {TITLE}",
        "",
        f"- **Scanned:** {cell(context.target)} ({cell(what)})",
        f"- **Started:** {scan['started']}, **finished:** {scan['finished']}",
        f"- **radar version:** {cell(context.tool_version)}",
        f"- **Findings:** {len(reported)}"
        + (f" (and {len(findings) - len(reported)} ignored)" if len(reported) != len(findings) else ""),
        "",
        "Secrets are never shown: each finding has a redacted preview and the first 12 hex digits of its "
        "keyed fingerprint (equal secrets share it).",
    ]
    for warning in context.warnings:
        parts.append(f"\n> **Warning:** {cell(warning)}")
    parts += ["", "## Summary", ""]
    if reported:
        severities = ordered_severities(f.severity for f in reported)
        by_severity = Counter(f.severity for f in reported)
        parts += [table(["Severity", "Findings"], [[s, by_severity[s]] for s in severities], frozenset({1})), ""]
        by_type: dict[str, Counter[str]] = {}
        for f in reported:
            by_type.setdefault(f.secret_type, Counter())[f.severity] += 1
        rows = [[t, *(c[s] for s in severities), sum(c.values())]
                for t, c in sorted(by_type.items(), key=lambda item: (-sum(item[1].values()), item[0]))]
        parts += [table(["Secret type", *severities, "Total"], rows,
                        frozenset(range(1, len(severities) + 2))), ""]
    else:
        parts += ["No findings.", ""]
    parts += ["## Findings", ""]
    if findings:
        rows = [[n, location_label(f), f.rule_id, f.severity, f.confidence, f.preview, f.fingerprint[:12], notes(f)]
                for n, f in enumerate(findings, 1)]
        parts += [table(FINDING_COLUMNS, rows, frozenset({0})), ""]
    else:
        parts += ["No findings.", ""]
    return "\n".join(parts) + "\n"
