"""Human-readable findings: a table on a terminal (grouped by file, fitted to its width, see
`render_table`), tab-separated lines when piped.

The plain form is one finding per line, `path:line:column`, rule, severity, confidence, preview,
the first 12 hex digits of the fingerprint and notes (`in Vault (latest)` with `--vault-index`),
so it greps and diffs well. Colour follows rich's
rules (off when NO_COLOR is set or the output is not a terminal). Both forms show scanned text in
radar's escaped form (`radar.report.printable`): a tab, line break or escape sequence in a file
name is shown as `\t`, `\n`, `\x1b`, so it can add no column or line and reach no terminal.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Sequence

from radar.report.context import ReportContext
from radar.scan.findings import Finding

if TYPE_CHECKING:  # rich loads only when a table is drawn: piped output and radar's start-up skip it
    from rich.console import Console
    from rich.table import Table

_SEVERITY_STYLE = {"critical": "bold red", "high": "red", "medium": "yellow", "low": "cyan"}

# The terminal table's layout (`render_table`).
_INDENT = 2
_GAP = 2  # between columns: rich's padding of one on each side
_MIN_NOTES = 12  # below this the notes move under the rule (the stacked layout)
_MAX_PREVIEW = 24  # a preview is 4 characters and `…`, or up to 24 when escaped (`\x1b` each)
_SHORT = {"critical": "crit", "medium": "med"}
# (header, width) of the severity and confidence columns: full words, or short ones.
_WORDS = {False: (("Severity", 8), ("Confidence", 10)), True: (("Sev", 4), ("Conf", 4))}
_FINGERPRINT = 12


def location_label(f: Finding) -> str:
    """`path:line:column`, prefixed by the GitLab project or group (`acme/app:variables/KEY[*]:1:1`)."""
    return f"{_heading(f)}:{f.line}:{f.column}"


def notes(f: Finding) -> str:
    """What else a reader should know: ignored (why), tags, for history findings locations and in_head,
    and whether Vault holds the value (`in Vault (latest)`: its current version)."""
    return ", ".join(_notes(f))


def _notes(f: Finding) -> list[str]:
    flags = [f"ignored ({f.ignore_reason})"] if f.ignored else []
    flags += [t for t in f.tags if t != "validated"]
    if f.history is not None:
        flags += [f"{len(f.history.locations)} location(s)", "in HEAD" if f.history.in_head else "history only"]
    if f.in_vault:
        flags.append("in Vault (latest)" if any(p.latest for p in f.in_vault) else "in Vault (old version)")
    return flags


def render(findings: Sequence[Finding], context: ReportContext) -> str:
    lines = []
    for f in findings:
        fields = [location_label(f), f.rule_id, f.severity, f.confidence, f.preview, f.fingerprint[:12], notes(f)]
        lines.append("\t".join(fields).rstrip("\t") + "\n")
    return "".join(lines)


def render_table(findings: Sequence[Finding], console: Console, summary: str) -> None:
    """Findings for a person at a terminal `console.width` columns wide, then `summary`.

    Findings are grouped under their file (`owner:path` for GitLab), so the one long part of a
    location is a heading line of its own, never squeezed into a column: it is printed whole, and
    a terminal narrower than it wraps it as it wraps any long line. Under it each finding is a row
    of `line:column`, rule, severity, confidence, preview and notes. Line and rule are never
    wrapped; preview and notes fold when they must. What is shown follows the width: the
    fingerprint's first 12 hex digits where there is room (they are in every machine format), full
    words for severity and confidence, or `crit` and `med`; where even that leaves the notes no
    column, they go under the rule (only for the findings that have notes); where the row itself
    does not fit, each finding takes two lines: line and rule, then the rest. A clean scan says
    "No findings." before the summary.
    """
    from rich.padding import Padding
    from rich.text import Text

    from radar.report.printable import printable, printable_fields

    shown = list(map(printable_fields, findings))  # like every format (radar.report.renderer)
    if not shown:
        console.print(Text("No findings."))
        console.print(Text(printable(summary)), soft_wrap=True)
        return
    groups: dict[str, list[Finding]] = {}
    for f in shown:
        groups.setdefault(_heading(f), []).append(f)
    layout = _layout(shown, console.width)
    for n, (heading, group) in enumerate(groups.items()):
        if n:
            console.print()
        # soft_wrap: the heading is one line, however long; the terminal wraps it, rich does not cut it.
        console.print(Text(heading, style="bold"), soft_wrap=True)
        console.print(Padding(layout.table(group, header=n == 0), (0, 0, 0, _INDENT), expand=False))
    console.print()
    console.print(Text(printable(summary)), soft_wrap=True)


def _heading(f: Finding) -> str:
    """The file a finding is in: `path`, or `owner:path` for GitLab (`acme/app:variables/KEY[*]`)."""
    owner = f.origin.project or f.origin.group  # GitLab findings: the path is inside this owner
    return f"{owner + ':' if owner else ''}{f.path}"


def _position(f: Finding) -> str:
    return f"{f.line}:{f.column}"


@dataclass(frozen=True)
class _Layout:
    """Which columns a table of these findings shows at one width, and how wide each fixed one is
    (the same in every file's table, so that the columns line up down the page)."""

    short: bool  # crit/high/med/low instead of the full words
    fingerprint: bool
    stacked: bool  # two lines a finding: position and rule, then the rest
    notes_below: bool  # no notes column: a finding's notes go on a line of their own under its rule
    position: int
    rule: int
    preview: int
    notes: int  # the width left for the notes column

    def table(self, findings: Sequence[Finding], header: bool) -> Table:
        from rich.table import Table
        from rich.text import Text

        table = Table(box=None, pad_edge=False, padding=(0, 1), show_header=header, header_style="bold")
        table.add_column("Line", no_wrap=True, width=self.position)
        if self.stacked:
            table.add_column("Finding", overflow="fold")
        else:
            severity, confidence = _WORDS[self.short]
            table.add_column("Rule", no_wrap=True, width=self.rule)
            table.add_column(severity[0], no_wrap=True, width=severity[1])
            table.add_column(confidence[0], no_wrap=True, width=confidence[1])
            table.add_column("Preview", overflow="fold", width=self.preview)
            if self.fingerprint:
                table.add_column("Fingerprint", no_wrap=True, width=_FINGERPRINT)
            if not self.notes_below:
                table.add_column("Notes", overflow="fold", min_width=_MIN_NOTES)
        for f in findings:
            severity_cell = Text(self._word(f.severity), style=_SEVERITY_STYLE.get(f.severity, ""))
            row_style = "dim" if f.ignored else None
            if self.stacked:
                rest = (f"{f.confidence} confidence", f.preview, notes(f))
                cell = Text.assemble(f.rule_id, "\n", severity_cell, *(", " + part for part in rest if part))
                table.add_row(Text(_position(f)), cell, style=row_style)
                continue
            rule_cell = Text(f.rule_id)
            if self.notes_below and notes(f):
                # The rule column is never wrapped, but the notes under the rule are: this Text's own
                # no_wrap and overflow override the column's (the rule itself fits the column's width).
                rule_cell = Text.assemble(f.rule_id, "\n", notes(f), no_wrap=False, overflow="fold")
            cells = [Text(_position(f)), rule_cell, severity_cell, Text(self._word(f.confidence)), Text(f.preview)]
            if self.fingerprint:
                cells.append(Text(f.fingerprint[:_FINGERPRINT]))
            if not self.notes_below:
                cells.append(Text(self._notes(f)))
            table.add_row(*cells, style=row_style)
        return table

    def _notes(self, f: Finding) -> str:
        # One note a line when they do not fit on one: folding "validation-failed, placeholder-like"
        # would cut a word; a note longer than the column still folds.
        text = notes(f)
        return text if _cell_len(text) <= self.notes else "\n".join(_notes(f))

    def _word(self, word: str) -> str:
        return _SHORT.get(word, word) if self.short else word


def _layout(findings: Sequence[Finding], width: int) -> _Layout:
    """The widest layout whose fixed columns leave the notes `_MIN_NOTES` columns; else the one-line
    row with the notes under the rule, if that row fits; else two lines a finding."""
    position = max(len("Line"), *(len(_position(f)) for f in findings))
    rule = max(len("Rule"), *(len(f.rule_id) for f in findings))
    preview = min(_MAX_PREVIEW, max(len("Preview"), *(_cell_len(f.preview) for f in findings)))
    for short, fingerprint in ((False, True), (False, False), (True, False)):
        (_, severity), (_, confidence) = _WORDS[short]
        columns = [position, rule, severity, confidence, preview] + [_FINGERPRINT] * fingerprint
        needed = _INDENT + sum(columns) + _GAP * len(columns) + _MIN_NOTES
        if needed <= width:
            return _Layout(short, fingerprint, False, False, position, rule, preview, width - needed + _MIN_NOTES)
    # The short row without its notes column (so one gap fewer): the longest rule radar has (41
    # characters) still fits 80 columns this way.
    if needed - _MIN_NOTES - _GAP <= width:
        return _Layout(True, False, False, True, position, rule, preview, 0)
    return _Layout(False, False, True, False, position, rule, preview, 0)


def _cell_len(text: str) -> int:
    from rich.cells import cell_len as columns  # wide characters take two

    return columns(text)
