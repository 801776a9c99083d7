"""Human-readable findings: a rich table on a terminal, tab-separated lines when piped.

The plain form is one finding per line, `path:line:column`, rule, severity, confidence, preview
and the first 12 hex digits of the fingerprint, so it greps and diffs well. Colour follows rich's
rules (off when NO_COLOR is set or the output is not a terminal).
"""

from __future__ import annotations

from typing import Sequence, TextIO

from radar.report.context import ReportContext
from radar.scan.findings import Finding

_SEVERITY_STYLE = {"critical": "bold red", "high": "red", "medium": "yellow", "low": "cyan"}


def location_label(f: Finding) -> str:
    """`path:line:column`, prefixed by the GitLab project or group (`acme/app:variables/KEY[*]:1:1`)."""
    owner = f.origin.project or f.origin.group  # GitLab findings: the path is inside this owner
    return f"{owner + ':' if owner else ''}{f.path}:{f.line}:{f.column}"


def notes(f: Finding) -> str:
    """What else a reader should know: ignored (why), tags, and for history findings locations and in_head."""
    flags = [f"ignored ({f.ignore_reason})"] if f.ignored else []
    flags += [t for t in f.tags if t != "validated"]
    if f.history is not None:
        flags += [f"{len(f.history.locations)} location(s)", "in HEAD" if f.history.in_head else "history only"]
    return ", ".join(flags)


def render(findings: Sequence[Finding], context: ReportContext) -> str:
    lines = []
    for f in findings:
        fields = [location_label(f), f.rule_id, f.severity, f.confidence, f.preview, f.fingerprint[:12], notes(f)]
        lines.append("\t".join(fields).rstrip("\t") + "\n")
    return "".join(lines)


def render_table(findings: Sequence[Finding], out: TextIO, title: str) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=title, title_justify="left")
    for name in ("Location", "Rule", "Severity", "Confidence", "Preview", "Fingerprint", "Notes"):
        table.add_column(name, overflow="fold")
    for f in findings:
        style = _SEVERITY_STYLE.get(f.severity, "")
        table.add_row(
            escape(location_label(f)), f.rule_id, f"[{style}]{f.severity}[/{style}]" if style else f.severity,
            f.confidence, escape(f.preview), f.fingerprint[:12], escape(notes(f)),
            style="dim" if f.ignored else None,
        )
    Console(file=out).print(table)
