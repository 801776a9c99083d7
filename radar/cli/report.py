"""`radar report merge FILE...`: the JSON reports of a sharded GitLab scan's shards -> one report in
any format (radar.report.merge decides; this module reads the files and writes the result)."""

from __future__ import annotations

import argparse
import sys

from radar.cli.common import say


def add_parser(sub: argparse._SubParsersAction) -> None:
    from radar.report import FORMATS  # a constant only; the formats themselves load when used

    p = sub.add_parser("report", help="work with radar's JSON reports (merge the shards of a sharded scan)",
                       description="Work with the JSON reports radar scans write.")
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    m = actions.add_parser(
        "merge", prog="radar report merge", usage="radar report merge FILE... [--format FORMAT] [--output FILE]",
        help="join the JSON reports of every shard of one radar scan gitlab --shard I/N run",
        description=(
            "Join the JSON reports of the shards of one `radar scan gitlab --shard I/N` run (every I from 1 to N "
            "once, same GitLab, scope and fingerprint key) into the report the unsharded scan gives: findings "
            "in its order, the same credential stored in projects of different shards found again "
            "(gitlab-variable-duplicated), counts added up. One report that is not a shard is given back as it is. "
            "Exit 0 when the merged report has no findings, 1 when it has, 2 on errors and when a shard's scan "
            "could not read everything (the report is still written)."
        ),
    )
    m.add_argument("reports", nargs="+", metavar="FILE", help="the shards' reports (radar scan gitlab --shard I/N "
                                                                 "--format json --output FILE)")
    m.add_argument("--format", choices=FORMATS, default="text",
                   help="text (default): a table on a terminal, tab-separated lines otherwise; json, sarif, gitlab, "
                        "csv, markdown, html: as radar scan --format")
    m.add_argument("--output", metavar="FILE",
                   help="write the report to FILE instead of standard output (replaced whole, as radar scan --output)")
    m.set_defaults(run=_run_merge, takes_command=False)


def _run_merge(args: argparse.Namespace) -> int:
    from radar.files import check_writable, write_file
    from radar.plan.load import parse_document, read_report_text
    from radar.report import chunk_renderer, renderer, report_warnings
    from radar.report.merge import merge_reports

    if args.output:
        check_writable(args.output)
    merged = merge_reports([(path, parse_document(read_report_text(path), path)) for path in args.reports])
    findings, context = merged.findings, merged.context
    # The output steps of radar scan's report (cli/scan.py), without its filters: the shards applied
    # --min-confidence and --show-ignored already, and the merge keeps its own finish time.
    for warning in context.warnings:
        say("warning", warning)
    reported = [f for f in findings if not f.ignored]
    summary = f"{len(reported)} finding(s) in {len(args.reports)} report(s)"
    for warning in report_warnings(args.format, findings, context):
        say("warning", warning)
    if args.output:
        write_file(args.output, chunk_renderer(args.format)(findings, context))
        if sys.stderr.isatty():
            say("info", f"{summary}; {args.format} report written to {args.output}")
    elif args.format == "text" and sys.stdout.isatty():
        from radar.report.text import render_table

        render_table(findings, sys.stdout, summary)
    else:
        sys.stdout.write(renderer(args.format)(findings, context))
    if context.incomplete:
        where = "each named in a warning above" if context.warnings else "the scan's warnings named each"
        say("error", f"scan incomplete: {context.incomplete} ({where})")
        return 2
    return 1 if reported else 0
