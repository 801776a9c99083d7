"""`radar scan PATH` and `radar scan gitlab`: a source -> the detector suite -> a report in the chosen
format (and, with --plan, the migration plan). The scanner loads only when a scan runs."""

from __future__ import annotations

import argparse
import os
import sys
import time

from radar.cli import baseline, monitor
from radar.cli.common import UsageError, byte_size, non_empty, positive_int, say
from radar.cli.plan import add_plan_options, built_plan, plan_file, refuse_plan_options_without_plan
from radar.cli.terminal import Terminal, add_arguments as add_terminal_arguments
from radar.errors import RadarError


def add_parser(sub: argparse._SubParsersAction) -> None:
    # No scan import here: building the parser runs for every radar command, and the detector
    # suite takes ~0.1 s to load, which `radar mask` and `radar exec` must not pay.
    p = sub.add_parser(
        "scan",
        usage="radar scan (PATH [PATH ...] | --staged) [--format FORMAT] [--output FILE] [--show-ignored] "
              "[-q | -v] [--no-color] [--exclude PATTERN ...] "
              "[--no-gitignore] [--max-file-size SIZE] [--follow-symlinks] [--min-confidence low|medium|high] "
              "[--decode-depth N] [--jobs N] [--config FILE | --no-config] "
              "[--history [--all-refs] [--branch NAME] [--since-commit REV] [--cache]] "
              "[--baseline FILE] [--migrated PLAN.json] "
              "[--plan FILE [--mapping FILE] [--project PATH] [--project-id N] ...]",
        help="find hardcoded credentials in a directory tree (GitLab: radar scan gitlab --help)",
        description=(
            "Scan the files under PATH for hardcoded credentials with radar's detector suite. Several "
            "PATHs (files, directories, - for standard input) make one report whose paths are as given; "
            "--staged scans what the git index holds for the next commit (a pre-commit hook). "
            "Findings show a redacted preview and a fingerprint (an HMAC of the value), never the "
            "secret. Exit 0 when nothing is found, 1 when something is, 2 on errors and when something "
            "could not be read (the report still holds all that was). Lines marked "
            "radar:ignore, gitleaks:allow or 'pragma: allowlist secret' are not reported, nor what "
            ".radar.toml allowlists."
        ),
        epilog="Patterns in PATH/.radarignore (.gitignore syntax) are excluded too; .git/ is always skipped. "
               "PATH/.radar.toml (or --config FILE) adds and disables rules and allowlists findings. Fingerprints "
               "use $RADAR_FINGERPRINT_KEY when set, else a per-installation key.",
    )
    p.add_argument("paths", nargs="*", metavar="PATH",
                   help="directories or files to scan, - for standard input (one directory: paths are reported "
                        "from it; otherwise as given, from the current directory)")
    p.add_argument("--staged", action="store_true",
                   help="scan the staged content (the git index) of the files the next commit adds or changes, "
                        "never the working tree; paths from the top of the work tree; takes no PATH")
    _add_report_arguments(p)
    p.add_argument("--exclude", action="append", default=[], metavar="PATTERN",
                   help="skip paths matching PATTERN, in .gitignore syntax (a name at any depth, a path from PATH "
                        "with '/', '**', '!' to re-include, a trailing '/' for directories); repeatable; with "
                        "--history, content seen only under such paths is not scanned")
    p.add_argument("--no-gitignore", action="store_false", dest="gitignore",
                   help="also scan what .gitignore leaves out (by default a directory inside a git work tree "
                        "is walked as git sees it: ignored untracked files are skipped)")
    p.add_argument("--max-file-size", type=byte_size, default=None, metavar="SIZE",
                   help="skip larger files, with a warning (bytes, or with K/M/G; default 10M)")
    p.add_argument("--follow-symlinks", action="store_true", help="follow symbolic links (loops are detected)")
    p.add_argument("--decode-depth", type=int, choices=range(0, 4), default=2, metavar="N",
                   help="how many layers of base64/percent encoding to look through (0-3, default 2)")
    p.add_argument("--jobs", type=positive_int, default=None, metavar="N",
                   help="worker processes (default: one per core)")
    config = p.add_mutually_exclusive_group()
    config.add_argument("--config", type=non_empty, metavar="FILE",
                        help="the scan configuration (rules to add and disable, allowlists) instead of "
                             "PATH/.radar.toml")
    config.add_argument("--no-config", action="store_true",
                        help="ignore PATH/.radar.toml (to audit a tree whose configuration you do not trust)")
    history = p.add_argument_group("git history (PATH is a repository)")
    history.add_argument("--history", action="store_true",
                         help="scan every blob reachable from branches and tags, once; one finding per secret "
                              "value with every location, first_seen and in_head")
    history.add_argument("--all-refs", action="store_true", help="with --history: also remote-tracking refs and the stash")
    history.add_argument("--branch", type=non_empty, metavar="NAME", help="with --history: only this branch")
    history.add_argument("--since-commit", type=non_empty, metavar="REV",
                         help="with --history: only what commits after REV added (REV..refs)")
    history.add_argument("--cache", action="store_true",
                         help="with --history: do not read again the blobs an earlier scan with the same radar, rules "
                              "and settings found clean; remember this scan's (their ids only, in "
                              "$XDG_CACHE_HOME/radar, private). For scheduled scans of the same repository")
    p.set_defaults(run=_run_scan, takes_command=False)


def parse_scan_arguments(argv: list[str]) -> argparse.Namespace:
    """`radar scan`'s arguments (or `radar scan gitlab`'s, after `gitlab`) for commands that run a
    scan of their own (baseline, monitor); the scan command's own parser, so that a usage error
    shows its usage and options."""
    sub = argparse.ArgumentParser(prog="radar").add_subparsers()
    add_parser(sub)
    add_gitlab_parser(sub)
    name, argv = ("scan-gitlab", argv[1:]) if argv[:1] == ["gitlab"] else ("scan", argv)
    return sub.choices[name].parse_args(argv)


def _run_scan(args: argparse.Namespace) -> int:
    from radar.scan.config import find_config
    from radar.scan.scanner import DEFAULT_MAX_FILE_SIZE, ScanOptions, scan_directory
    from radar.sizes import human_size

    refuse_plan_options_without_plan(args)
    paths = list(args.paths)
    if args.staged and (paths or args.history):
        raise UsageError("--staged scans the git index: give no PATH and no --history")
    if not paths and not args.staged:
        raise UsageError("radar scan needs a PATH to scan (several, - for standard input), or --staged")
    if args.history and (len(paths) != 1 or paths[0] == "-"):
        raise UsageError("--history scans one repository: give one PATH (a directory)")
    if not args.history and (args.all_refs or args.branch or args.since_commit or args.cache):
        raise UsageError("--all-refs, --branch, --since-commit and --cache need --history")
    one_directory = len(paths) == 1 and paths[0] != "-" and os.path.isdir(paths[0])
    # The configuration of the scanned directory; with several PATHs, stdin or --staged, the
    # current directory's, as for .radarignore (a pre-commit hook runs at the top of the work tree).
    config = find_config(paths[0] if one_directory or args.history else ".", history=args.history,
                         explicit=args.config, ignore_found=args.no_config)
    options = ScanOptions(
        max_file_size=args.max_file_size or DEFAULT_MAX_FILE_SIZE, exclude=tuple(args.exclude),
        follow_symlinks=args.follow_symlinks, jobs=args.jobs or 0, decode_depth=args.decode_depth,
        gitignore=args.gitignore, config=config,
    )
    key, migration, index, started = before_scan(args)
    context = {"kind": "directory", "target": paths[0] if len(paths) == 1 else ".",
               "root": os.path.abspath(paths[0]) if one_directory else os.getcwd(), **_config_context(config)}
    if len(paths) > 1:
        context["targets"] = tuple(paths)
    if args.staged:
        from radar.scan.scanner import scan_staged

        def scan(path, options, key, progress=None):
            context["root"], report = scan_staged(options, key, progress)
            return report
        context["target"] = "--staged"
    elif args.history:
        from radar.scan.history import scan_history
        from radar.scan.sources.git import RefSelection

        selection = RefSelection(args.all_refs, args.branch, args.since_commit)
        context["kind"] = "history"

        def scan(path, options, key, progress=None):
            return scan_history(path[0], selection, options, key, progress, cache=args.cache)
    elif one_directory:
        def scan(path, options, key, progress=None):
            return scan_directory(path[0], options, key, progress)
    else:
        from radar.scan.scanner import scan_paths as scan
    terminal = Terminal.of(args)
    terminal.start()
    clock = time.monotonic()
    with terminal.progress("scanning") as bar:
        report = scan(paths, options, key, progress=None if bar is None else
                      lambda done, total: bar.update(completed=done, total=total))
    if migration is not None:  # the CI file of the scanned root (the current directory's for several PATHs)
        from radar.scan.migrated import after_directory_scan

        after_directory_scan(report, paths[0] if one_directory or args.history else ".", args.plan_project,
                             migration, key)
    if index is not None:  # before the report: the monitor's severity ladder reads in_vault
        index.apply(report)
    stats = report.stats
    terminal.detail(f"scanned {stats.files} file(s), {human_size(stats.bytes)}, in {time.monotonic() - clock:.1f} s; "
                    f"skipped {stats.binary} binary and {stats.skipped} other file(s), each named above")
    context["started"] = started
    context["fingerprint_key_id"] = key.key_id
    counts = {"files": stats.files, "bytes": stats.bytes, "binary_files": stats.binary}
    if args.history and args.cache:
        counts["known_clean"] = report.cached
    return print_scan_report(args, report, context, f"{stats.files} file(s), {human_size(stats.bytes)} scanned"
                              + (f", {stats.binary} binary file(s) skipped" if stats.binary else "")
                              + (f", {report.cached} blob(s) known clean not read again" if report.cached else ""),
                              counts)


def print_scan_report(args: argparse.Namespace, report, context_fields: dict, scanned: str, counts: dict,
                      noun: str = "scan") -> int:
    from radar.files import write_file
    from radar.report import chunk_renderer, renderer, report_warnings
    from radar.report.context import ReportContext, now
    from radar.scan.rules import CONFIDENCES

    terminal = Terminal.of(args)
    for warning in report.warnings:
        terminal.warning(warning)
    rank = {c: n for n, c in enumerate(CONFIDENCES)}  # most confident first
    confident = {c for c in CONFIDENCES if rank[c] <= rank[args.min_confidence]}
    if baseline.writes(args):  # radar baseline create|update: the baseline is this scan's output
        return baseline.write(args, report, confident)
    comparison = baseline.compared(args, report.findings)  # known findings marked ignored; None without one
    findings = comparison.findings if comparison else report.findings
    incomplete = report.incomplete()
    watch = monitor.compared(args, findings, context_fields["kind"], confident,
                             incomplete is None)  # radar monitor: levels, known ones marked; else None
    if watch:
        findings = watch.findings
    shown = [f for f in findings
             if rank[f.confidence] <= rank[args.min_confidence] and (args.show_ignored or not f.ignored)]
    reported = [f for f in shown if not f.ignored]
    summary = f"{len(reported)} finding(s) in {scanned}"
    if comparison:
        known = sum(rank[f.confidence] <= rank[args.min_confidence] for f in comparison.known)
        summary = f"{len(reported)} new finding(s) ({known} in the baseline) in {scanned}"
        counts = {**counts, "baselined": known, "baseline_resolved": len(comparison.resolved)}
        resolved = len(comparison.resolved)
        if resolved and sys.stderr.isatty():
            terminal.info(f"{resolved} baseline entr{'y is' if resolved == 1 else 'ies are'} no longer found: "
                          f"radar baseline update {args.baseline} ... drops them")
    if watch:
        summary = f"{len(reported)} new finding(s) ({len(watch.known)} seen before) in {scanned}"
        counts = {**counts, "monitor_known": len(watch.known), "monitor_resolved": len(watch.resolved)}
    context = ReportContext(finished=now(), summary={"findings": len(reported), **counts,
                                                     "unreadable": sum(report.stats.unreadable.values())},
                            warnings=tuple(report.warnings), incomplete=incomplete,
                            monitor=monitor.summary(watch) if watch else None, **context_fields)
    for warning in report_warnings(args.format, shown, context):
        terminal.warning(warning)
    terminal.detail(f"{len(reported)} finding(s) reported, {len(shown) - len(reported)} ignored shown, "
                    f"{len(report.findings) - len(shown)} hidden (ignored, or below --min-confidence)")
    clock = time.monotonic()
    if args.output:
        write_file(args.output, chunk_renderer(args.format)(shown, context))
        if sys.stderr.isatty():
            terminal.info(f"{summary}; {args.format} report written to {args.output}")
    elif args.format == "text" and sys.stdout.isatty():
        from radar.report.text import render_table

        render_table(shown, terminal.console(), summary)
    else:
        sys.stdout.write(renderer(args.format)(shown, context))
        if sys.stderr.isatty() and not sys.stdout.isatty():
            terminal.info(summary)
    terminal.detail(f"report written in {time.monotonic() - clock:.1f} s")
    if args.plan:  # after the report, so that a plan that cannot be made loses no findings
        _write_scan_plan(args, report.findings, context)
    status = monitor.finish(args, watch) if watch else 1 if reported else 0  # the state after the report
    if incomplete:  # after the report: it holds everything that was read; but this run is not a pass
        named = "run without --quiet to see each" if terminal.quiet else "each named in a warning above"
        say("error", f"{noun} incomplete: {incomplete} ({named})")  # noun: "audit" for radar audit
        return 2
    return status


def _add_report_arguments(p: argparse.ArgumentParser, *, project_option: bool = True) -> None:
    add_report_output_arguments(p)
    p.add_argument("--migrated", metavar="PLAN.json",
                   help="after the migration: also report what the plan (radar plan --format json) left behind: "
                        "moved CI/CD variables still defined, jobs still reading them without secrets:, moved "
                        "values found again")
    p.add_argument("--vault-index", metavar="INDEX",
                   help="mark each finding whose value Vault holds (in_vault: path, field, version, whether "
                        "latest), from an index made by radar index vault with the same fingerprint key")
    p.add_argument("--plan", type=plan_file, metavar="FILE",
                   help="also write the Vault migration plan to FILE (.md, .html or .json: the format "
                        "follows the suffix); the plan options are radar plan's (see radar plan --help)")
    add_plan_options(p, project_option=project_option)


def add_report_output_arguments(p: argparse.ArgumentParser) -> None:
    """The report options of every command whose findings go through `print_scan_report`."""
    from radar.report import FORMATS  # a constant only; the formats themselves load when used

    p.add_argument("--format", choices=FORMATS, default="text",
                   help="text: a table on a terminal, tab-separated lines otherwise; json: radar's schema "
                        "({\"findings\": [...]}); sarif: SARIF 2.1.0; gitlab: GitLab's secret-detection "
                        "report; csv, markdown, html: for people")
    p.add_argument("--output", metavar="FILE",
                   help="write the report to FILE instead of standard output (a file is replaced whole, never "
                        "half-written; a device or pipe is written in place; a link's target is written)")
    p.add_argument("--show-ignored", action="store_true", help="also list suppressed findings, marked ignored")
    add_terminal_arguments(p)
    p.add_argument("--min-confidence", choices=("low", "medium", "high"), default="low",
                   help="report only findings of at least this confidence (default low: everything)")
    p.add_argument("--baseline", metavar="FILE",
                   help="report only findings not in FILE (made by radar baseline create): the others are "
                        "hidden like ignored ones (see --show-ignored), and exit status 1 counts new ones only")


def add_gitlab_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "scan-gitlab", prog="radar scan gitlab",
        usage="radar scan gitlab --url URL (--group PATH [--include-subgroups] [--skip-archived] | "
              "--project PATH ... | --instance) [--shard I/N|auto] [--token-env NAME] [--format FORMAT] "
              "[--output FILE] [--show-ignored] [-q | -v] [--no-color] [--min-confidence low|medium|high] "
              "[--baseline FILE] [--migrated PLAN.json] [--jobs N] [--connections N] [--config FILE] "
              "[--plan FILE [--mapping FILE] ...]",
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
    target.add_argument("--project", type=non_empty, nargs="+", action="extend", metavar="PATH",
                        help="projects' full paths (or ids); repeat it or give several")
    target.add_argument("--instance", action="store_true", help="instance-level CI/CD variables (administrator token)")
    p.add_argument("--include-subgroups", action="store_true", help="with --group: also projects of its subgroups")
    p.add_argument("--skip-archived", action="store_true", help="with --group: leave archived projects out")
    p.add_argument("--shard", metavar="I/N|auto",
                   help="read only shard I of N of the projects (each project's shard follows from its id, so it "
                        "stays put as projects are added; shard 1 also reads group and instance variables); auto: "
                        "CI_NODE_INDEX/CI_NODE_TOTAL of a GitLab job with parallel: N. Needs --format json; join "
                        "the shards' reports with radar report merge")
    p.add_argument("--token-env", default="GITLAB_TOKEN", metavar="NAME",
                   help="environment variable holding the access token (default GITLAB_TOKEN)")
    _add_report_arguments(p, project_option=False)
    p.add_argument("--jobs", type=positive_int, default=None, metavar="N",
                   help="worker processes scanning what GitLab answers (default 1: the requests take the time)")
    p.add_argument("--connections", type=positive_int, default=None, metavar="N",
                   help="projects read at once, each over a connection of its own (default 4, at most 10; "
                        "1 reads one project at a time)")
    p.add_argument("--config", type=non_empty, metavar="FILE",
                   help="a scan configuration (.radar.toml: rules to add and disable, allowlists; paths are "
                        "variables/KEY[scope] and the CI file's path)")
    p.set_defaults(run=_run_scan_gitlab, takes_command=False)


def _run_scan_gitlab(args: argparse.Namespace) -> int:
    from radar.report.printable import printable
    from radar.scan.config import find_config
    from radar.scan.gitlab_checks import scan_gitlab
    from radar.scan.scanner import ScanOptions
    from radar.scan.sources.gitlab import DEFAULT_CONNECTIONS, MAX_CONNECTIONS, Scope, connect

    config = find_config(None, explicit=args.config)  # before GitLab is asked anything
    if (args.include_subgroups or args.skip_archived) and not args.group:
        raise UsageError("--include-subgroups and --skip-archived apply to --group only")
    connections = args.connections or DEFAULT_CONNECTIONS
    if connections > MAX_CONNECTIONS:
        raise UsageError(f"--connections {connections}: at most {MAX_CONNECTIONS} (the connections radar keeps "
                         "open to one GitLab)")
    refuse_plan_options_without_plan(args)
    shard = None
    if args.shard is not None:
        from radar.scan.shard import parse_shard

        shard = parse_shard(args.shard, os.environ)
        if args.format != "json":
            raise UsageError(f"--shard writes a part of a report for radar report merge: use --format json "
                             f"(then radar report merge --format {args.format})")
        if args.plan:
            raise UsageError("--plan needs every shard's findings: make the plan from the merged report "
                             "(radar report merge ... --format json --output FILE, then radar plan FILE)")
        if args.baseline or getattr(args, "baseline_write", None) or getattr(args, "monitor_run", None) is not None:
            raise UsageError("a shard cannot see the findings other shards make (the same credential in "
                             "projects of two shards): apply --baseline and radar monitor to the merged report's "
                             "scan, not to a shard")
    url = args.url or os.environ.get("CI_SERVER_URL")
    if not url:
        raise UsageError("no GitLab address: give --url URL (or run inside a job, where CI_SERVER_URL is set)")
    token = os.environ.get(args.token_env)
    job_token = None if token else os.environ.get("CI_JOB_TOKEN")
    if not token and not job_token:
        raise RadarError(f"no GitLab token: set {args.token_env} to an access token with the read_api scope")
    client = connect(url, private_token=token, job_token=job_token)
    scope = Scope(groups=(args.group,) if args.group else (), projects=tuple(args.project or ()),
                  instance=args.instance, include_subgroups=args.include_subgroups,
                  skip_archived=args.skip_archived)
    options = ScanOptions(jobs=args.jobs or 0, config=config)
    key, migration, index, started = before_scan(args)
    terminal = Terminal.of(args)
    terminal.start()
    clock = time.monotonic()
    with terminal.progress("scanning GitLab", counting="project(s)") as bar:
        report = scan_gitlab(client, scope, options, key, on_project=None if bar is None else
                             lambda path: bar.update(advance=1, description=printable(path)), migration=migration,
                             shard=shard, connections=connections)
    terminal.detail(f"read {report.stats.files} variable(s) and CI file(s) in {time.monotonic() - clock:.1f} s")
    if index is not None:  # before the report: the monitor's severity ladder reads in_vault
        index.apply(report)
    context = {"kind": "gitlab", "target": url, "root": url.rstrip("/"), "started": started,
               "fingerprint_key_id": key.key_id, **_config_context(config)}
    if shard is not None:
        from radar.scan.shard import ShardReport

        unreadable = tuple(sorted((noun, n) for noun, n in report.stats.unreadable.items() if n))
        context["shard"] = ShardReport(shard, scope, unreadable, report.credentials)
    return print_scan_report(args, report, context, f"{report.stats.files} variable(s) and CI file(s)",
                              {"units": report.stats.files})


def _config_context(config) -> dict:
    """What the report says about the scan configuration (ReportContext's config fields)."""
    if config.source is None:
        return {}
    return {"config": config.source, "added_rules": config.added, "disabled_rules": tuple(sorted(config.disabled))}
def before_scan(args: argparse.Namespace):  # -> (FingerprintKey, Migration | None, VaultIndex | None, datetime)
    """What can refuse the run, done before a scan that may take minutes: the outputs, the
    fingerprint key (--baseline, radar monitor), the --migrated plan and the --vault-index; then
    the time the scan starts."""
    from radar.report.context import now

    _check_outputs(args)
    key = baseline.start(args)
    monitor.start(args, key)
    return key, _migration(args, key), _vault_index(args, key), now()


def _migration(args: argparse.Namespace, key):  # (args, FingerprintKey) -> radar.plan.read.Migration | None
    """The --migrated plan, read and checked against the fingerprint key before the scan starts."""
    if not args.migrated:
        return None
    from radar.plan.read import check_key, read_migration

    migration = read_migration(args.migrated)
    check_key(migration, key)
    return migration


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
    plan = built_plan(args, findings, ScanInfo(context.kind, context.target, context.root,
                                                    context.fingerprint_key_id))
    write_file(args.plan, render(plan, format), "plan")
