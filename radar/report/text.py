"""Human-readable findings: a rich table on a terminal, tab-separated lines when piped.

The plain form is one finding per line, `path:line:column`, rule, severity, confidence, preview,
the first 12 hex digits of the fingerprint and notes (`in Vault (latest)` with `--vault-index`),
so it greps and diffs well. Colour follows rich's
rules (off when NO_COLOR is set or the output is not a terminal). Both forms show scanned text in
radar's escaped form (`radar.report.printable`): a tab, line break or escape sequence in a file
name is shown as `\t`, `\n`, `\x1b`, so it can add no column or line and reach no terminal.
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
    """What else a reader should know: ignored (why), tags, for history findings locations and in_head,
    and whether Vault holds the value (`in Vault (latest)`: its current version)."""
    flags = [f"ignored ({f.ignore_reason})"] if f.ignored else []
    flags += [t for t in f.tags if t != "validated"]
    if f.history is not None:
        flags += [f"{len(f.history.locations)} location(s)", "in HEAD" if f.history.in_head else "history only"]
    if f.in_vault:
        flags.append("in Vault (latest)" if any(p.latest for p in f.in_vault) else "in Vault (old version)")
    return ", ".join(flags)


def render(findings: Sequence[Finding], context: ReportContext) -> str:
    lines = []
    for f in findings:
        fields = [location_label(f), f.rule_id, f.severity, f.confidence, f.preview, f.fingerprint[:12], notes(f)]
        lines.append("\t".join(fields).rstrip("\t") + "\n")
    return "".join(lines)


def render_table(findings: Sequence[Finding], out: TextIO, title: str) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from radar.report.printable import printable, printable_fields

    # Cells are Text, not strings: rich reads a string as markup ("[link=...]") and emoji codes
    # (":m:" becomes a symbol), and scanned text must be shown as it is.
    table = Table(title=Text(printable(title), style="table.title"), title_justify="left")
    for name in ("Location", "Rule", "Severity", "Confidence", "Preview", "Fingerprint", "Notes"):
        table.add_column(name, overflow="fold")
    for f in map(printable_fields, findings):  # like every format (radar.report.renderer)
        table.add_row(
            Text(location_label(f)), Text(f.rule_id), Text(f.severity, style=_SEVERITY_STYLE.get(f.severity, "")),
            Text(f.confidence), Text(f.preview), Text(f.fingerprint[:12]), Text(notes(f)),
            style="dim" if f.ignored else None,
        )
    Console(file=out).print(table)
