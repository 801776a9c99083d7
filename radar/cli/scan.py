"""`radar scan PATH` and `radar scan gitlab`: a source -> the detector suite -> a report in the chosen
format (and, with --plan, the migration plan). The scanner loads only when a scan runs."""

from __future__ import annotations

import argparse
import os
import sys

from radar.cli.common import byte_size, non_empty, positive_int, say
from radar.cli.plan import add_plan_options, built_plan, plan_file
from radar.errors import RadarError


def add_parser(sub: argparse._SubParsersAction) -> None:
    # No scan import here: building the parser runs for every radar command, and the detector
    # suite takes ~0.1 s to load, which `radar mask` and `radar exec` must not pay.
    p = sub.add_parser(
        "scan",
        usage="radar scan PATH [--format FORMAT] [--output FILE] [--show-ignored] [--exclude GLOB ...] "
              "[--max-file-size SIZE] [--follow-symlinks] [--min-confidence low|medium|high] "
              "[--decode-depth N] [--jobs N] [--history [--all-refs] [--branch NAME] [--since-commit REV]] "
              "[--plan FILE [--mapping FILE] [--project PATH] [--project-id N] ...]",
        help="find hardcoded credentials in a directory tree (GitLab: radar scan gitlab --help)",
        description=(
            "Scan the files under PATH for hardcoded credentials with radar's detector suite. "
            "Findings show a redacted preview and a fingerprint (an HMAC of the value), never the "
            "secret. Exit 0 when nothing is found, 1 when something is, 2 on errors and when something "
            "could not be read (the report still holds all that was). Lines marked "
            "radar:ignore, gitleaks:allow or 'pragma: allowlist secret' are not reported."
        ),
        epilog="Globs in PATH/.radarignore are excluded too; .git/ is always skipped. Fingerprints "
               "use $RADAR_FINGERPRINT_KEY when set, else a per-installation key.",
    )
    p.add_argument("path", metavar="PATH", help="directory (or file) to scan")
    _add_report_arguments(p)
    p.add_argument("--exclude", action="append", default=[], metavar="GLOB",
                   help="skip paths matching GLOB (a name at any depth, or a path from PATH with '/'); repeatable; "
                        "with --history, content seen only under such paths is not scanned")
    p.add_argument("--max-file-size", type=byte_size, default=None, metavar="SIZE",
                   help="skip larger files, with a warning (bytes, or with K/M/G; default 10M)")
    p.add_argument("--follow-symlinks", action="store_true", help="follow symbolic links (loops are detected)")
    p.add_argument("--decode-depth", type=int, choices=range(0, 4), default=2, metavar="N",
                   help="how many layers of base64/percent encoding to look through (0-3, default 2)")
    p.add_argument("--jobs", type=positive_int, default=None, metavar="N",
                   help="worker processes (default: one per core)")
    history = p.add_argument_group("git history (PATH is a repository)")
    history.add_argument("--history", action="store_true",
                         help="scan every blob reachable from branches and tags, once; one finding per secret "
                              "value with every location, first_seen and in_head")
    history.add_argument("--all-refs", action="store_true", help="with --history: also remote-tracking refs and the stash")
    history.add_argument("--branch", type=non_empty, metavar="NAME", help="with --history: only this branch")
    history.add_argument("--since-commit", type=non_empty, metavar="REV",
                         help="with --history: only what commits after REV added (REV..refs)")
    p.set_defaults(run=_run_scan, takes_command=False)


def _run_scan(args: argparse.Namespace) -> int:
    from radar.report.context import now
    from radar.scan.findings import FingerprintKey
    from radar.scan.scanner import DEFAULT_MAX_FILE_SIZE, ScanOptions, scan_directory

    options = ScanOptions(
        max_file_size=args.max_file_size or DEFAULT_MAX_FILE_SIZE, exclude=tuple(args.exclude),
        follow_symlinks=args.follow_symlinks, jobs=args.jobs or 0, decode_depth=args.decode_depth,
    )
    _check_outputs(args)
    key = FingerprintKey.load()
    index = _vault_index(args, key)
    started = now()
    scan = scan_directory
    if args.history:
        from radar.scan.history import scan_history
        from radar.scan.sources.git import RefSelection

        selection = RefSelection(args.all_refs, args.branch, args.since_commit)

        def scan(path, options, key, progress=None):
            return scan_history(path, selection, options, key, progress)
    elif args.all_refs or args.branch or args.since_commit:
        raise RadarError("--all-refs, --branch and --since-commit need --history")
    if sys.stderr.isatty():
        from rich.console import Console
        from rich.progress import Progress

        with Progress(console=Console(stderr=True), transient=True) as bar:
            task = bar.add_task("scanning", total=None)
            report = scan(args.path, options, key,
                          progress=lambda done, total: bar.update(task, completed=done, total=total))
    else:
        report = scan(args.path, options, key)
    if index is not None:
        index.apply(report)
    stats = report.stats
    context = {"kind": "history" if args.history else "directory", "target": args.path,
               "root": os.path.abspath(args.path), "started": started}
    return _print_scan_report(args, report, context, f"{stats.files} file(s), {stats.bytes / 1e6:.1f} MB scanned"
                              + (f", {stats.binary} binary file(s) skipped" if stats.binary else ""),
                              {"files": stats.files, "bytes": stats.bytes, "binary_files": stats.binary})


def _print_scan_report(args: argparse.Namespace, report, context_fields: dict, scanned: str, counts: dict) -> int:
    from radar.files import write_file
    from radar.report import renderer, report_warnings
    from radar.report.context import ReportContext, now
    from radar.scan.rules import CONFIDENCES

    for warning in report.warnings:
        say("warning", warning)
    rank = {c: n for n, c in enumerate(CONFIDENCES)}  # most confident first
    shown = [f for f in report.findings
             if rank[f.confidence] <= rank[args.min_confidence] and (args.show_ignored or not f.ignored)]
    reported = [f for f in shown if not f.ignored]
    summary = f"{len(reported)} finding(s) in {scanned}"
    incomplete = report.incomplete()
    context = ReportContext(finished=now(), summary={"findings": len(reported), **counts,
                                                     "unreadable": sum(report.stats.unreadable.values())},
                            warnings=tuple(report.warnings), incomplete=incomplete, **context_fields)
    for warning in report_warnings(args.format, shown, context):
        say("warning", warning)
    if args.output:
        write_file(args.output, renderer(args.format)(shown, context))
        if sys.stderr.isatty():
            say("info", f"{summary}; {args.format} report written to {args.output}")
    elif args.format == "text" and sys.stdout.isatty():
        from radar.report.text import render_table

        render_table(shown, sys.stdout, summary)
    else:
        sys.stdout.write(renderer(args.format)(shown, context))
        if sys.stderr.isatty() and not sys.stdout.isatty():
            say("info", summary)
    if args.plan:  # after the report, so that a plan that cannot be made loses no findings
        _write_scan_plan(args, report.findings, context)
    if incomplete:  # after the report: it holds everything that was read; but this run is not a pass
        say("error", f"scan incomplete: {incomplete} (each named in a warning above)")
        return 2
    return 1 if reported else 0


def _add_report_arguments(p: argparse.ArgumentParser, *, project_option: bool = True) -> None:
    from radar.report import FORMATS  # a constant only; the formats themselves load when used

    p.add_argument("--format", choices=FORMATS, default="text",
                   help="text: a table on a terminal, tab-separated lines otherwise; json: radar's schema "
                        "({\"findings\": [...]}); sarif: SARIF 2.1.0; gitlab: GitLab's secret-detection "
                        "report; csv, markdown, html: for people")
    p.add_argument("--output", metavar="FILE",
                   help="write the report to FILE instead of standard output (a file is replaced whole, never "
                        "half-written; a device or pipe is written in place; a link's target is written)")
    p.add_argument("--show-ignored", action="store_true", help="also list suppressed findings, marked ignored")
    p.add_argument("--min-confidence", choices=("low", "medium", "high"), default="low",
                   help="report only findings of at least this confidence (default low: everything)")
    p.add_argument("--vault-index", metavar="INDEX",
                   help="mark each finding whose value Vault holds (in_vault: path, field, version, whether "
                        "latest), from an index made by radar index vault with the same fingerprint key")
    p.add_argument("--plan", type=plan_file, metavar="FILE",
                   help="also write the Vault migration plan to FILE (.md, .html or .json: the format "
                        "follows the suffix); the plan options are radar plan's (see radar plan --help)")
    add_plan_options(p, project_option=project_option)


def add_gitlab_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "scan-gitlab", prog="radar scan gitlab",
        usage="radar scan gitlab --url URL (--group PATH [--include-subgroups] [--skip-archived] | "
              "--project PATH ... | --instance) [--token-env NAME] [--format FORMAT] [--output FILE] "
              "[--show-ignored] [--min-confidence low|medium|high] [--jobs N] [--plan FILE [--mapping FILE] ...]",
        description=(
            "Scan GitLab CI/CD variables (instance, group, project) and each project's CI file on its "
            "default branch for credentials, and report credentials in variables that are unmasked, "
            "unprotected, not hidden, scoped to all environments or duplicated, and CI files that use "
            "CI_JOB_JWT or set VAULT_SKIP_VERIFY. Never prints a value. Exit 0 when nothing is found, "
            "1 when something is, 2 on errors and when a project, group or CI file could not be read "
            "(the report still holds all that was). (`radar scan ./gitlab` scans a directory named gitlab.)"
        ),
        epilog="The token comes from $GITLAB_TOKEN (or --token-env NAME); inside a CI job, $CI_SERVER_URL "
               "and $CI_JOB_TOKEN are used when --url or the token are missing. Reading variables needs "
               "the Maintainer role; --instance needs an administrator's token.",
    )
    p.add_argument("--url", metavar="URL", help="GitLab's address (default $CI_SERVER_URL)")
    target = p.add_mutually_exclusive_group(required=True)
    target.add_argument("--group", type=non_empty, metavar="PATH", help="a group's full path (or id) and its projects")
    target.add_argument("--project", type=non_empty, nargs="+", metavar="PATH", help="projects' full paths (or ids)")
    target.add_argument("--instance", action="store_true", help="instance-level CI/CD variables (administrator token)")
    p.add_argument("--include-subgroups", action="store_true", help="with --group: also projects of its subgroups")
    p.add_argument("--skip-archived", action="store_true", help="with --group: leave archived projects out")
    p.add_argument("--token-env", default="GITLAB_TOKEN", metavar="NAME",
                   help="environment variable holding the access token (default GITLAB_TOKEN)")
    _add_report_arguments(p, project_option=False)
    p.add_argument("--jobs", type=positive_int, default=None, metavar="N",
                   help="worker processes (default: one per core)")
    p.set_defaults(run=_run_scan_gitlab, takes_command=False)


def _run_scan_gitlab(args: argparse.Namespace) -> int:
    from radar.report.context import now
    from radar.scan.findings import FingerprintKey
    from radar.scan.gitlab_checks import scan_gitlab
    from radar.scan.scanner import ScanOptions
    from radar.scan.sources.gitlab import Scope, connect

    if (args.include_subgroups or args.skip_archived) and not args.group:
        raise RadarError("--include-subgroups and --skip-archived apply to --group only")
    url = args.url or os.environ.get("CI_SERVER_URL")
    if not url:
        raise RadarError("no GitLab address: give --url URL (or run inside a job, where CI_SERVER_URL is set)")
    token = os.environ.get(args.token_env)
    job_token = None if token else os.environ.get("CI_JOB_TOKEN")
    if not token and not job_token:
        raise RadarError(f"no GitLab token: set {args.token_env} to an access token with the read_api scope")
    client = connect(url, private_token=token, job_token=job_token)
    scope = Scope(groups=(args.group,) if args.group else (), projects=tuple(args.project or ()),
                  instance=args.instance, include_subgroups=args.include_subgroups,
                  skip_archived=args.skip_archived)
    options = ScanOptions(jobs=args.jobs or 0)
    _check_outputs(args)
    key = FingerprintKey.load()
    index = _vault_index(args, key)
    started = now()
    if sys.stderr.isatty():
        from rich.console import Console
        from rich.progress import Progress, SpinnerColumn, TextColumn

        with Progress(SpinnerColumn(), TextColumn("{task.description}"), TextColumn("{task.completed} project(s)"),
                      console=Console(stderr=True), transient=True) as bar:
            task = bar.add_task("scanning GitLab", total=None)
            report = scan_gitlab(client, scope, options, key,
                                 on_project=lambda path: bar.update(task, advance=1, description=path))
    else:
        report = scan_gitlab(client, scope, options, key)
    if index is not None:
        index.apply(report)
    context = {"kind": "gitlab", "target": url, "root": url.rstrip("/"), "started": started}
    return _print_scan_report(args, report, context, f"{report.stats.files} variable(s) and CI file(s)",
                              {"units": report.stats.files})


def _check_outputs(args: argparse.Namespace) -> None:
    """Refuse a bad --output, --plan or --mapping before a scan that may take minutes, not after it."""
    from radar.files import check_writable

    if args.output:
        check_writable(args.output)
    if args.plan:
        from radar.plan.mapping import load_mapping

        check_writable(args.plan, "plan")
        load_mapping(args.mapping)


def _vault_index(args: argparse.Namespace, key):  # -> radar.scan.vault_index.VaultIndex | None
    """The --vault-index file, read and checked before the scan: a wrong one costs no scan."""
    if not args.vault_index:
        return None
    from radar.scan.vault_index import load_index

    return load_index(args.vault_index, key)


def _write_scan_plan(args: argparse.Namespace, findings, context) -> None:
    from radar.files import write_file
    from radar.plan import format_for, render
    from radar.plan.load import ScanInfo

    format = format_for(args.plan)
    plan = built_plan(args, findings, ScanInfo(context.kind, context.target, context.root))
    write_file(args.plan, render(plan, format), "plan")
