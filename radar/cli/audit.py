"""`radar audit ci [PATH]`: the rules of radar.audit.ci over a project's CI configuration, reported
like a scan's findings (every format, --baseline, exit 0 clean / 1 findings / 2 bad input)."""

from __future__ import annotations

import argparse
import os

from radar.cli import scan


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "audit", help="find settings that hand secrets to the wrong jobs",
        description="Audit configuration, not values: settings that leak secrets or hand them to the wrong jobs.",
    )
    audit_sub = p.add_subparsers(dest="audit_target", required=True, metavar="TARGET")
    _add_ci(audit_sub)


def _add_ci(audit_sub: argparse._SubParsersAction) -> None:
    p = audit_sub.add_parser(
        "ci", prog="radar audit ci",
        usage="radar audit ci [PATH] [--format FORMAT] [--output FILE] [--baseline FILE] [--show-ignored] "
              "[-q | -v] [--no-color]",
        help="GitLab CI jobs that leak their secrets or receive secrets they should not",
        description=(
            "Audit a GitLab CI configuration: jobs with secrets: but no ID token, the deprecated CI_JOB_JWT, TLS "
            "to Vault left unverified, secrets echoed, env/printenv or set -x in jobs that receive secrets, keys "
            "handed over with file: false, production secret jobs any branch can run, and secret jobs that "
            "schedules, triggers or the web form can start. "
            "Local include:s, extends:, !reference and anchors are resolved. Exit 0 when nothing is found, "
            "1 when something is, 2 when the configuration cannot be read."
        ),
        epilog="The rules and what each does not check are listed in the README (radar audit ci). Fingerprints "
               "(and baselines) use $RADAR_FINGERPRINT_KEY when set, else a per-installation key.",
    )
    p.add_argument("path", nargs="?", default=".", metavar="PATH",
                   help="the CI file, or the repository directory holding .gitlab-ci.yml (default: the current "
                        "directory); local includes are paths from that directory (for a file: from its directory)")
    scan.add_report_output_arguments(p)
    # What print_scan_report and before_scan read of a scan's options, which an audit does not take.
    p.set_defaults(run=_run_ci, takes_command=False, plan=None, mapping=None, migrated=None, vault_index=None)


def parse_ci_arguments(argv: list[str]) -> argparse.Namespace:
    """`radar audit ci`'s arguments, for `radar baseline create|update FILE audit ci [PATH]`."""
    sub = argparse.ArgumentParser(prog="radar audit").add_subparsers()
    _add_ci(sub)
    return sub.choices["ci"].parse_args(argv)


def _run_ci(args: argparse.Namespace) -> int:
    from radar.audit.ci import audit_ci
    from radar.audit.ci_files import locate
    from radar.scan.scanner import ScanReport, ScanStats

    key, _, _, started = scan.before_scan(args)
    audit = audit_ci(args.path)
    report = ScanReport([issue.as_finding(key) for issue in audit.issues], list(audit.warnings),
                        ScanStats(files=audit.files))
    root = locate(args.path)[1]
    context = {"kind": "directory", "target": args.path, "root": os.path.abspath(root), "started": started,
               "fingerprint_key_id": key.key_id}
    return scan.print_scan_report(args, report, context, f"{audit.jobs} job(s) in {audit.files} CI file(s)",
                                  {"files": audit.files, "jobs": audit.jobs})
