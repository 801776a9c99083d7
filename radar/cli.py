"""radar's command line: parse arguments, wire the pieces, turn errors into one line and a status.

Each subcommand has an `_add_<name>_parser(sub)` that declares its options and sets `run` to
the function that carries it out; `_build_parser` lists them. `-- CMD ARGS...` is split off
before argparse sees it (so CMD's own options are never parsed as radar's) and handed to the
subcommand as `args.command` (None when there is no `--`).

Exit statuses: a subcommand's own status; 2 for usage errors and for RadarError (unless the
error carries another status, like 127/126 for a command that cannot be started); 130 after
Ctrl-C; 141 (128 + SIGPIPE, what a shell reports for `cat` in the same place) when the
reader of our standard output went away; 70 (EX_SOFTWARE) for any other exception, which is a bug
in radar: one `radar: internal error:` line names the exception's type and where it was raised,
never its message (it could quote input), and never exit 1, which `radar scan` uses for "findings"
(a CI job that allows exit 1 must not pass without a report). RADAR_DEBUG=1 adds the traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Sequence

from radar import __version__
from radar.errors import RadarError
from radar.mask.model import DEFAULT_MARKER, DEFAULT_MIN_LENGTH, DEFAULT_TOKEN_PREFIXES, MaskOptions, Refusal, Secret
from radar.mask.sources import DEFAULT_SECRET_GLOBS, MASK_VARS_VARIABLE, from_env, from_environment, from_file
from radar.mask.stream import SecretSet, StreamMasker
from radar.mask.wrap import copy_masked, run_masked

EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 141
EXIT_PLAN_INCOMPLETE = 3  # the plan was written, but a role binds a placeholder project id
EXIT_INTERNAL_ERROR = 70  # sysexits.h's EX_SOFTWARE: a bug in radar, not a problem with the input
DEBUG_VARIABLE = "RADAR_DEBUG"


def main(argv: Sequence[str] | None = None) -> int:
    try:
        arguments, command = _split_command(list(sys.argv[1:] if argv is None else argv))
        parser = _build_parser()
        if arguments[:2] == ["scan", "gitlab"]:  # `radar scan ./gitlab` scans a directory of that name
            arguments[:2] = ["scan-gitlab"]
        args = parser.parse_args(arguments)
        if command is not None and not args.takes_command:
            parser.error(f"'radar {args.subcommand}' does not run a command: remove '--' and what follows")
        args.command = command
        return args.run(args)
    except RadarError as e:
        _say("error", str(e))
        return e.exit_status
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # Point stdout at /dev/null so that nothing tries to write to the closed pipe at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
    except Exception as e:
        return _internal_error(e)


def _internal_error(e: Exception) -> int:
    """One line that is enough to report the bug: the exception's type and the innermost place in
    radar's code it passed through. Not its message: that may quote a file's or a variable's text."""
    import traceback  # only on this path: every radar start would pay for it otherwise

    package = os.path.dirname(os.path.abspath(__file__))
    frames = traceback.extract_tb(e.__traceback__)
    ours = [f for f in frames if os.path.abspath(f.filename).startswith(package + os.sep)]
    where = ""
    if ours:
        path = os.path.relpath(os.path.abspath(ours[-1].filename), os.path.dirname(package))
        where = f" in {path}:{ours[-1].lineno} ({ours[-1].name})"
    elif frames:
        where = f" in {os.path.basename(frames[-1].filename)}:{frames[-1].lineno} ({frames[-1].name})"
    _say("internal error", f"{type(e).__name__}{where}; this is a bug in radar {__version__}: please report it "
                           f"with the command you ran ({DEBUG_VARIABLE}=1 shows the traceback, which may quote your input)")
    if os.environ.get(DEBUG_VARIABLE) == "1":
        traceback.print_exception(e, file=sys.stderr)
    return EXIT_INTERNAL_ERROR


def _split_command(argv: list[str]) -> tuple[list[str], list[str] | None]:
    if "--" not in argv:
        return argv, None
    i = argv.index("--")
    return argv[:i], argv[i + 1 :]


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="radar", description="Keeps CI secrets where they belong."
    )
    parser.add_argument("--version", action="version", version=f"radar {__version__}")
    sub = parser.add_subparsers(dest="subcommand", required=True, metavar="COMMAND")
    _add_mask_parser(sub)
    _add_exec_parser(sub)
    _add_secrets_parser(sub)
    _add_scan_parser(sub)
    _add_scan_gitlab_parser(sub)
    _add_plan_parser(sub)
    return parser


def _say(level: str, message: str) -> None:
    from radar.report.printable import printable  # messages quote paths, keys, Vault's words: keep them one line

    print(f"radar: {level}: {printable(message)}", file=sys.stderr, flush=True)


# --- radar mask ------------------------------------------------------------------------------

def _add_mask_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "mask",
        usage=(
            "radar mask [--secret-file PATH ...] [--secret-env NAME ...] [--min-length N] "
            "[--marker TEXT] [--env-glob GLOB ...] [--allow-add-mask] [--token-prefix PREFIX ...] "
            "[--engine auto|hyperscan|ahocorasick] [-- CMD ARGS...]"
        ),
        help="mask secrets in standard input, or in the output of CMD",
        description=(
            "Copy standard input to standard output, or run CMD with its stdout and stderr masked "
            "separately, replacing every known secret (raw, base64, percent-encoded, JSON-escaped, "
            "hex) and unregistered GitLab tokens, sensitive URL query values and URL passwords "
            "with a marker. With CMD, radar exits with CMD's status (128+N if signal N killed it)."
        ),
        epilog=(
            f"With no --secret-file or --secret-env, the secrets are the variables listed in "
            f"{MASK_VARS_VARIABLE} plus those whose names match the sensitive globs "
            f"({', '.join(DEFAULT_SECRET_GLOBS)}), or the --env-glob globs instead."
        ),
    )
    p.add_argument("--secret-file", action="append", default=[], metavar="PATH",
                   help="the file's whole content (whitespace trimmed) is one secret; repeatable")
    p.add_argument("--secret-env", action="append", default=[], metavar="NAME",
                   help="the variable's value, or the content of the file it names; repeatable")
    p.add_argument("--min-length", type=_positive_int, default=DEFAULT_MIN_LENGTH, metavar="N",
                   help=f"refuse (with a warning) secrets shorter than N characters (default {DEFAULT_MIN_LENGTH})")
    p.add_argument("--marker", default=DEFAULT_MARKER.decode(), metavar="TEXT",
                   help=f"what replaces each masked region (default {DEFAULT_MARKER.decode()})")
    p.add_argument("--env-glob", action="append", default=[], metavar="GLOB",
                   help="take secrets from variables whose names match GLOB (case-insensitive), "
                        "instead of the default globs; repeatable")
    p.add_argument("--allow-add-mask", action="store_true",
                   help="a line '::add-mask::VALUE' in the output registers VALUE and is not written")
    p.add_argument("--token-prefix", action="append", default=[], type=_non_empty, metavar="PREFIX",
                   help="also mask what follows PREFIX, like the built-in glpat- and friends; repeatable")
    p.add_argument("--engine", choices=("auto", "hyperscan", "ahocorasick"), default="auto",
                   help="matching engine (default auto: hyperscan when it imports); output is identical")
    p.set_defaults(run=_run_mask, takes_command=True)


def _run_mask(args: argparse.Namespace) -> int:
    options = MaskOptions(
        min_length=args.min_length,
        marker=os.fsencode(args.marker),
        token_prefixes=DEFAULT_TOKEN_PREFIXES + tuple(os.fsencode(p) for p in args.token_prefix),
        engine=None if args.engine == "auto" else args.engine,
    )
    secret_set = SecretSet(_mask_secrets(args), options, on_refusal=_warn_refused)
    if args.command is None:
        copy_masked(0, 1, StreamMasker(secret_set, allow_add_mask=args.allow_add_mask))
        return 0
    if not args.command:
        raise RadarError("nothing to run after '--': name a command, or drop '--' to mask standard input")
    return run_masked(args.command, secret_set, allow_add_mask=args.allow_add_mask)


def _mask_secrets(args: argparse.Namespace) -> list[Secret]:
    secrets = [from_file(path) for path in args.secret_file]
    secrets += [from_env(name, os.environ) for name in args.secret_env]
    # Explicit sources replace the environment scan, unless --env-glob asks for it as well.
    if args.env_glob or not (args.secret_file or args.secret_env):
        secrets += from_environment(os.environ, args.env_glob or DEFAULT_SECRET_GLOBS)
    return secrets


def _warn_refused(refusal: Refusal) -> None:
    _say("warning", f"{refusal.source} {refusal.reason}")


# --- radar exec, radar secrets check ---------------------------------------------------------

def _add_job_source_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--job", metavar="NAME", help="the job whose secrets: to resolve")
    p.add_argument("--ci-file", metavar="PATH",
                   help="the CI file that defines --job (default: $CI_CONFIG_PATH, else .gitlab-ci.yml)")
    p.add_argument("--secrets-file", metavar="PATH",
                   help="a YAML file with a secrets: mapping (and optional id_tokens:, variables:) instead of a job")
    p.add_argument("--vault-timeout", type=_positive_float, default=30.0, metavar="SECONDS",
                   help="the most time radar spends on Vault in one run: connecting, waiting for answers "
                        "and retrying an unreachable or sealed Vault, all together (default 30)")
    p.add_argument("-v", "--verbose", action="store_true",
                   help="log each Vault request (never a token, JWT or secret value)")


def _add_exec_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "exec",
        usage="radar exec (--job NAME [--ci-file PATH] | --secrets-file PATH) [--vault-timeout SECONDS] "
              "[--min-length N] [-v] -- CMD ARGS...",
        help="fetch a job's secrets: from Vault and run CMD with them, its output masked",
        description=(
            "Resolve the secrets: of a GitLab CI job (or of a secrets file) the way GitLab Runner does: "
            "log in to Vault with the job's ID token (JWT auth), read each secret, hand it to CMD as a "
            "file (file: true, the default; the variable holds the path) or as a variable, and mask "
            "every value in CMD's stdout and stderr. Secret files are removed when CMD ends. radar "
            "exits with CMD's status (128+N if signal N killed it); 1 when a secret cannot be "
            "fetched (CMD is not run), 2 on configuration errors."
        ),
        epilog="Vault settings come from VAULT_SERVER_URL, VAULT_AUTH_ROLE, VAULT_AUTH_PATH, "
               "VAULT_NAMESPACE and VAULT_CACERT, in the environment or the job's variables:.",
    )
    _add_job_source_arguments(p)
    p.add_argument("--min-length", type=_positive_int, default=DEFAULT_MIN_LENGTH, metavar="N",
                   help=f"secrets shorter than N characters are not masked, with a warning (default {DEFAULT_MIN_LENGTH})")
    p.set_defaults(run=_run_exec, takes_command=True)


def _add_secrets_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("secrets", help="work with a job's secrets: (see: radar secrets check)")
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    check = actions.add_parser(
        "check",
        usage="radar secrets check (--job NAME [--ci-file PATH] | --secrets-file PATH) [--vault-timeout SECONDS] [-v]",
        help="log in and resolve every secret without running anything or printing a value",
        description="Log in to Vault and resolve every secret of the job; print OK or FAILED and the "
                    "reason for each, never a value. Exit 0 when all resolve, 1 when any fails, "
                    "2 on configuration errors.",
    )
    _add_job_source_arguments(check)
    check.set_defaults(run=_run_secrets_check, takes_command=False)


def _vault_plan(args: argparse.Namespace):  # -> radar.vault.execute.Plan; lazy: keeps `radar mask` fast
    from radar.vault import execute

    _log_to_stderr(args.verbose)
    definition = execute.load_definition(
        job=args.job, ci_file=args.ci_file, secrets_file=args.secrets_file, environ=os.environ
    )
    return execute.make_plan(definition, os.environ)


def _run_exec(args: argparse.Namespace) -> int:
    from radar.vault.client import RetryPolicy
    from radar.vault.execute import Terminated, run_with_secrets

    if not args.command:
        raise RadarError("name the command to run after '--', e.g. radar exec --job deploy -- ./deploy.sh")
    plan = _vault_plan(args)
    if not plan.specs:
        # Wrapping every job the same way must work for jobs without secrets too.
        _say("warning", f"{plan.definition.origin} defines no secrets: running the command with masking only")
    try:
        return run_with_secrets(
            plan, args.command, RetryPolicy(total_seconds=args.vault_timeout), environ=os.environ,
            options=MaskOptions(min_length=args.min_length), on_refusal=_warn_refused,
        )
    except Terminated as stop:
        raise stop.as_error() from None


def _run_secrets_check(args: argparse.Namespace) -> int:
    from radar.vault.client import RetryPolicy
    from radar.vault.execute import Terminated, check_secrets
    from radar.vault.model import SecretFailure

    plan = _vault_plan(args)
    try:
        outcomes = check_secrets(plan, RetryPolicy(total_seconds=args.vault_timeout))
    except Terminated as stop:
        raise stop.as_error() from None
    rows = [
        (o.spec.name, "FAILED" if isinstance(o, SecretFailure) else "OK", o.spec.source,
         ("file" if getattr(o.spec, "file", True) else "variable"),
         o.reason if isinstance(o, SecretFailure) else "")
        for o in outcomes
    ]
    failed = sum(1 for row in rows if row[1] == "FAILED")
    summary = f"{len(rows) - failed} of {len(rows)} secret(s) of {plan.definition.origin} resolve"
    if sys.stdout.isatty():
        from rich.console import Console
        from rich.table import Table

        table = Table(title=summary)
        for column in ("Variable", "Status", "Source", "As", "Reason"):
            table.add_column(column, overflow="fold")
        for name, status, source, kind, reason in rows:
            style = "red" if status == "FAILED" else "green"
            table.add_row(name, f"[{style}]{status}[/{style}]", source, kind, reason)
        Console().print(table)
    else:
        for name, status, source, kind, reason in rows:
            print("\t".join((status, name, source, kind, reason)).rstrip("\t"))
        print(summary)
    return 1 if failed else 0


def _log_to_stderr(verbose: bool) -> None:
    """Warnings (Vault retries) always, as `radar: warning:` lines; each request too with -v."""
    import logging

    class Format(logging.Formatter):
        def format(self, record: logging.LogRecord) -> str:
            level = "warning: " if record.levelno >= logging.WARNING else ""
            return f"radar: {level}{record.getMessage()}"

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(Format())
    logger = logging.getLogger("radar")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO if verbose else logging.WARNING)


# --- radar scan ------------------------------------------------------------------------------

def _add_scan_parser(sub: argparse._SubParsersAction) -> None:
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
    p.add_argument("--max-file-size", type=_byte_size, default=None, metavar="SIZE",
                   help="skip larger files, with a warning (bytes, or with K/M/G; default 10M)")
    p.add_argument("--follow-symlinks", action="store_true", help="follow symbolic links (loops are detected)")
    p.add_argument("--decode-depth", type=int, choices=range(0, 4), default=2, metavar="N",
                   help="how many layers of base64/percent encoding to look through (0-3, default 2)")
    p.add_argument("--jobs", type=_positive_int, default=None, metavar="N",
                   help="worker processes (default: one per core)")
    history = p.add_argument_group("git history (PATH is a repository)")
    history.add_argument("--history", action="store_true",
                         help="scan every blob reachable from branches and tags, once; one finding per secret "
                              "value with every location, first_seen and in_head")
    history.add_argument("--all-refs", action="store_true", help="with --history: also remote-tracking refs and the stash")
    history.add_argument("--branch", type=_non_empty, metavar="NAME", help="with --history: only this branch")
    history.add_argument("--since-commit", type=_non_empty, metavar="REV",
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
        _say("warning", warning)
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
        _say("warning", warning)
    if args.output:
        write_file(args.output, renderer(args.format)(shown, context))
        if sys.stderr.isatty():
            _say("info", f"{summary}; {args.format} report written to {args.output}")
    elif args.format == "text" and sys.stdout.isatty():
        from radar.report.text import render_table

        render_table(shown, sys.stdout, summary)
    else:
        sys.stdout.write(renderer(args.format)(shown, context))
        if sys.stderr.isatty() and not sys.stdout.isatty():
            _say("info", summary)
    if args.plan:  # after the report, so that a plan that cannot be made loses no findings
        _write_scan_plan(args, report.findings, context)
    if incomplete:  # after the report: it holds everything that was read; but this run is not a pass
        _say("error", f"scan incomplete: {incomplete} (each named in a warning above)")
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
    p.add_argument("--plan", type=_plan_file, metavar="FILE",
                   help="also write the Vault migration plan to FILE (.md, .html or .json: the format "
                        "follows the suffix); the plan options are radar plan's (see radar plan --help)")
    _add_plan_options(p, project_option=project_option)


def _add_scan_gitlab_parser(sub: argparse._SubParsersAction) -> None:
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
    target.add_argument("--group", type=_non_empty, metavar="PATH", help="a group's full path (or id) and its projects")
    target.add_argument("--project", type=_non_empty, nargs="+", metavar="PATH", help="projects' full paths (or ids)")
    target.add_argument("--instance", action="store_true", help="instance-level CI/CD variables (administrator token)")
    p.add_argument("--include-subgroups", action="store_true", help="with --group: also projects of its subgroups")
    p.add_argument("--skip-archived", action="store_true", help="with --group: leave archived projects out")
    p.add_argument("--token-env", default="GITLAB_TOKEN", metavar="NAME",
                   help="environment variable holding the access token (default GITLAB_TOKEN)")
    _add_report_arguments(p, project_option=False)
    p.add_argument("--jobs", type=_positive_int, default=None, metavar="N",
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
    context = {"kind": "gitlab", "target": url, "root": url.rstrip("/"), "started": started}
    return _print_scan_report(args, report, context, f"{report.stats.files} variable(s) and CI file(s)",
                              {"units": report.stats.files})


# --- radar plan ------------------------------------------------------------------------------

def _add_plan_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "plan",
        usage="radar plan FINDINGS.json [--format markdown|html|json] [--output FILE] [--mapping FILE] "
              "[--project PATH] [--project-id N | --namespace-id N] [--public] [--mount NAME] "
              "[--path-template TEMPLATE] [--audience URL]",
        help="turn a JSON findings report into a Vault migration plan",
        description=(
            "Read the report of `radar scan --format json` and plan the move of each credential to "
            "Vault: KV v2 path and field, the `vault kv put` command (value left out), the policy and "
            "JWT role (bound to the GitLab project, and for production to protected refs and the "
            "environment), the .gitlab-ci.yml stanza with id_tokens: and secrets:, and the order of "
            "work (rotate first where the value is in history, job logs or public). Never contains a "
            "value. Exit 0 when the plan is complete, 3 when a role still binds a placeholder project "
            "id (the plan is written, with a warning), 2 on errors."
        ),
    )
    p.add_argument("findings", metavar="FINDINGS.json", help="radar's JSON report (radar scan ... --format json)")
    p.add_argument("--format", choices=("markdown", "html", "json"), default="markdown",
                   help="markdown (default) and html for people, json for tools")
    p.add_argument("--output", metavar="FILE", help="write the plan to FILE instead of standard output")
    _add_plan_options(p)
    p.set_defaults(run=_run_plan, takes_command=False)


def _add_plan_options(p: argparse.ArgumentParser, *, project_option: bool = True) -> None:
    g = p.add_argument_group("migration plan")
    g.add_argument("--mapping", metavar="FILE", help="TOML file with defaults, project ids and mapping rules")
    if project_option:  # `radar scan gitlab` has its own --project; its findings name their projects
        g.add_argument("--project", dest="plan_project", type=_non_empty, metavar="PATH",
                       help="the GitLab project a directory or history scan belongs to (default: the directory's name)")
    p.set_defaults(plan_project=None)
    ids = g.add_mutually_exclusive_group()
    ids.add_argument("--project-id", type=_positive_int, metavar="N", help="its numeric id: roles bind project_id N")
    ids.add_argument("--namespace-id", type=_positive_int, metavar="N",
                     help="or its group's numeric id: roles bind namespace_id N")
    g.add_argument("--public", action="store_true", help="the project is or was public: rotate every value first")
    g.add_argument("--mount", type=_non_empty, metavar="NAME", help="KV v2 mount (default secret)")
    g.add_argument("--path-template", type=_non_empty, metavar="TEMPLATE",
                   help="secret path, with {project}, {environment}, {type} (default ci/{project}/{environment})")
    g.add_argument("--audience", type=_non_empty, metavar="URL",
                   help="the ID token's aud and the role's bound_audiences (default https://vault.example.com)")


def _plan_mapping(args: argparse.Namespace, scan):  # (args, radar.plan.load.ScanInfo) -> radar.plan.mapping.Mapping
    from dataclasses import replace

    from radar.plan.mapping import ProjectInfo, checked_settings, load_mapping

    mapping = load_mapping(args.mapping)
    overrides = {name: value for name, value in (("mount", args.mount), ("path_template", args.path_template),
                                                 ("audience", args.audience)) if value is not None}
    if overrides:
        settings = checked_settings(replace(mapping.settings, **overrides), "command line")
        mapping = replace(mapping, settings=settings)
    if args.plan_project or args.project_id or args.namespace_id or args.public:
        from radar.plan.build import project_from_scan

        # Without --project, the ids belong to the scanned directory's project (for a GitLab
        # scan, whose findings name their projects, that is only a fallback).
        mapping = mapping.with_project(args.plan_project or mapping.default_project or project_from_scan(scan),
                                       ProjectInfo(args.project_id, args.namespace_id, args.public))
    return mapping


def _run_plan(args: argparse.Namespace) -> int:
    from radar.files import write_file
    from radar.plan import render
    from radar.plan.load import load_report

    report = load_report(args.findings)
    plan = _built_plan(args, report.findings, report.scan)
    text = render(plan, args.format)
    if args.output:
        write_file(args.output, text, "plan")
    else:
        sys.stdout.write(text)
    return 0 if plan.complete else EXIT_PLAN_INCOMPLETE


def _check_outputs(args: argparse.Namespace) -> None:
    """Refuse a bad --output, --plan or --mapping before a scan that may take minutes, not after it."""
    from radar.files import check_writable

    if args.output:
        check_writable(args.output)
    if args.plan:
        from radar.plan.mapping import load_mapping

        check_writable(args.plan, "plan")
        load_mapping(args.mapping)


def _write_scan_plan(args: argparse.Namespace, findings, context) -> None:
    from radar.files import write_file
    from radar.plan import format_for, render
    from radar.plan.load import ScanInfo

    format = format_for(args.plan)
    plan = _built_plan(args, findings, ScanInfo(context.kind, context.target, context.root))
    write_file(args.plan, render(plan, format), "plan")


def _built_plan(args: argparse.Namespace, findings, scan):  # -> radar.plan.model.Plan
    """The plan of `findings` under the command line's mapping options, its warnings said on stderr."""
    from radar.plan.build import build_plan

    plan = build_plan(findings, scan, _plan_mapping(args, scan))
    for warning in plan.warnings:
        _say("warning", warning)
    return plan


# --- argument types --------------------------------------------------------------------------

def _byte_size(text: str) -> int:
    units = {"": 1, "K": 1000, "M": 1000**2, "G": 1000**3}
    number, unit = text.upper().rstrip("B"), ""
    if number and number[-1] in units:
        number, unit = number[:-1], number[-1]
    try:
        value = int(float(number) * units[unit])
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a size: {text!r} (try 10M)") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1 byte")
    return value


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _plan_file(text: str) -> str:
    from radar.plan import PLAN_SUFFIXES

    if not text.lower().endswith(PLAN_SUFFIXES):
        raise argparse.ArgumentTypeError(f"{text}: end it with .md, .html or .json (the plan's format follows the suffix)")
    return text


def _non_empty(text: str) -> str:
    if not text:
        raise argparse.ArgumentTypeError("must not be empty")
    return text


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError("must be greater than 0")
    return value
