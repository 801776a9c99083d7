"""Findings -> formats: one module per report format, each exposing `render(findings, context) -> str`.

`text` (tab-separated lines; a rich table on a terminal), `json` (radar's own, stable schema),
`sarif` (SARIF 2.1.0 for code-scanning dashboards), `gitlab` (GitLab's secret-detection report),
`csv`, `markdown` and `html` (for people). Every format shows a redacted preview and a
fingerprint, never the secret. Adding a format is adding a module and its name below.

`renderer()` hands a format the findings and context with every string in radar's escaped form
(`radar.report.printable`: undecodable bytes as `\\xNN`, control characters made visible), so no
format sees a file name it cannot encode or a line break, tab or escape sequence from the scan.

A format module may also define `warnings(findings, context) -> tuple[str, ...]`: things the
user must hear about the report itself (SARIF's cut to GitHub's 25,000-result limit);
`report_warnings()` collects them and the CLI prints them with its other warnings. A format
whose reports grow large (`json`: a GitLab scan of 10,000 projects writes 36 MB) may also define
`render_chunks(findings, context)`, yielding the same text in pieces: `chunk_renderer()` hands those
to `radar.files.write_file`, so the whole report is never held as one string.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Callable, Iterator, Sequence

if TYPE_CHECKING:
    # The CLI imports FORMATS for every command, `radar mask` too: the finding model (~15 ms) and
    # the rule engine load only when a report is written.
    from radar.report.context import ReportContext
    from radar.scan.check_rules import CheckRule
    from radar.scan.findings import Finding
    from radar.scan.rules import Rule

FORMATS = ("text", "json", "sarif", "gitlab", "csv", "markdown", "html")

Renderer = Callable[[Sequence["Finding"], "ReportContext"], str]
ChunkRenderer = Callable[[Sequence["Finding"], "ReportContext"], Iterator[str]]


def detector_rule(rule_id: str, added: Sequence[Rule] = ()) -> Rule | None:
    """The detector rule behind a finding (its docs link, kind, severity): a shipped one, or one of
    `added` by a scan configuration (`ReportContext.added_rules`); None for GitLab checks
    (unmasked variable, CI_JOB_JWT, ...), which are not detector rules."""
    from radar.scan.rules import load_default_rules

    for rule in added:
        if rule.id == rule_id:
            return rule
    try:
        return load_default_rules().get(rule_id)
    except KeyError:
        return None


def check_rule(rule_id: str) -> CheckRule | None:
    """The rule-level text of a check that is not a detector rule (the checks after a migration, audits)."""
    from radar.audit.ci import DOCS as CI_AUDIT_DOCS, RULES as CI_AUDIT_RULES
    from radar.audit.vault import RULES as VAULT_AUDIT_RULES
    from radar.scan.check_rules import RULES, CheckRule

    ci = CI_AUDIT_RULES.get(rule_id)
    return (RULES.get(rule_id) or VAULT_AUDIT_RULES.get(rule_id)
            or (CheckRule(ci.risk, ci.fix, CI_AUDIT_DOCS) if ci else None))


def renderer(name: str) -> Renderer:
    """Format `name`'s render function, given printable findings and context (see above)."""
    from radar.report.printable import printable_fields

    render = _format(name).render

    def render_printable(findings: Sequence[Finding], context: ReportContext) -> str:
        return render([printable_fields(f) for f in findings], printable_fields(context))

    return render_printable


def chunk_renderer(name: str) -> ChunkRenderer:
    """Like `renderer()`, the same text in pieces (one piece for a format without `render_chunks`)."""
    from radar.report.printable import printable_fields

    module = _format(name)
    chunks = getattr(module, "render_chunks", None)

    def render_printable(findings: Sequence[Finding], context: ReportContext) -> Iterator[str]:
        shown = map(printable_fields, findings)  # one finding at a time, as the pieces are written
        if chunks is None:
            yield module.render(list(shown), printable_fields(context))
        else:
            yield from chunks(shown, printable_fields(context))

    return render_printable


def report_warnings(name: str, findings: Sequence[Finding], context: ReportContext) -> tuple[str, ...]:
    """What the user must hear about format `name`'s report of these findings (none for most)."""
    warn = getattr(_format(name), "warnings", None)
    return tuple(warn(findings, context)) if warn else ()


def _format(name: str):
    if name not in FORMATS:
        raise ValueError(f"unknown report format {name!r}; choose one of {', '.join(FORMATS)}")
    return importlib.import_module(f"radar.report.{name}")
