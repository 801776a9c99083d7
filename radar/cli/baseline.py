"""`radar baseline create|update FILE SCAN...` and every scan's `--baseline FILE`: the wiring
around radar.scan.baseline.

After FILE come the arguments `radar scan` takes (`PATH [--history ...]`, or `gitlab --url ...`),
or `audit ci [PATH]` and its options, parsed by the scan commands' own parsers and run by their own code, so every scan option and
source works here without a second copy; only the end differs: the scan's findings become FILE
instead of a report. `start()` is called by each scan once its fingerprint key is known and
before it reads anything, so that a baseline that cannot be used (missing, malformed, made
under another key) stops the run at once instead of after a scan that may take minutes.
"""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Sequence

from radar.cli.common import say
from radar.errors import RadarError

if TYPE_CHECKING:  # the scan modules load only when a scan runs (see radar.cli.scan)
    from radar.scan.baseline import Baseline, Comparison
    from radar.scan.findings import Finding, FingerprintKey
    from radar.scan.scanner import ScanReport

ACTIONS = {
    "create": "scan, and record every finding in FILE (a new file) as known",
    "update": "scan, add new findings to FILE, drop its entries that are no longer found, keep the rest as they are",
}


@dataclass(frozen=True)
class BaselineRun:
    """The baseline side of one scan: the key its fingerprints use, and FILE to read or write."""

    key: FingerprintKey
    path: str
    action: str | None  # "create" or "update": the scan writes FILE; None: --baseline, it reads FILE
    baseline: Baseline | None = None  # FILE's content (None for create)
    text: str | None = None  # FILE's bytes as read, to leave an unchanged file untouched


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "baseline",
        usage="radar baseline {create,update} FILE PATH [scan options] | FILE gitlab --url URL ... | FILE audit ci [PATH]",
        help="record the current findings as known, so that radar scan --baseline reports only new ones",
        description=(
            "Write a baseline: the findings a scan makes now, to be reported no more by "
            "radar scan ... --baseline FILE (which then exits 1 only for new findings). FILE is "
            "followed by what radar scan takes: a PATH and its options (--history, --exclude, ...), or "
            "gitlab and radar scan gitlab's options. Entries match by rule and fingerprint, so moving "
            "code does not change them; add reason and audited_by to any entry by hand."
        ),
        epilog="Fingerprints, and so baselines, depend on the fingerprint key: set $RADAR_FINGERPRINT_KEY "
               "(or $RADAR_FINGERPRINT_KEY_FILE) to the same key wherever the baseline is used.",
    )
    actions = p.add_subparsers(dest="baseline_action", required=True, metavar="ACTION")
    for name, text in ACTIONS.items():
        action = actions.add_parser(
            name, prog=f"radar baseline {name}", help=text,
            usage=f"radar baseline {name} FILE PATH [scan options] | radar baseline {name} FILE gitlab --url URL ... "
                  f"| radar baseline {name} FILE audit vault [audit options] | radar baseline {name} FILE audit ci [PATH]",
            description=f"{text[0].upper()}{text[1:]}. The scan arguments after FILE are radar scan's "
                        "(see radar scan --help and radar scan gitlab --help); report options do not apply.",
        )
        action.add_argument("file", metavar="FILE", help="the baseline file (TOML)")
        action.add_argument("scan", nargs=argparse.REMAINDER, metavar="SCAN ARGUMENTS",
                            help="PATH [options], or gitlab --url URL ..., as radar scan takes them; or audit ci [PATH]")
        action.set_defaults(run=_run, takes_command=False)


def _run(args: argparse.Namespace) -> int:
    from radar.cli import scan

    action = args.baseline_action
    if not args.scan:
        raise RadarError(f"nothing to scan: give radar baseline {action} FILE PATH [scan options], "
                         f"radar baseline {action} FILE gitlab --url URL ..., or radar baseline {action} FILE "
                         f"audit vault|ci")
    if args.scan[:2] in (["audit", "vault"], ["audit", "ci"]):  # an audit's findings are baselined like a scan's
        from radar.cli import audit

        parse = audit.parse_vault_arguments if args.scan[1] == "vault" else audit.parse_ci_arguments
        scan_args = parse(args.scan[2:])
    else:
        scan_args = scan.parse_scan_arguments(args.scan)
    for option, given in (("--baseline", scan_args.baseline), ("--format", scan_args.format != "text"),
                          ("--output", scan_args.output), ("--plan", scan_args.plan),
                          ("--show-ignored", scan_args.show_ignored)):
        if given:
            raise RadarError(f"radar baseline {action} writes {args.file}, not a report: remove {option} "
                             f"(radar scan ... --baseline {args.file} reports against the baseline)")
    scan_args.command = None
    scan_args.baseline_write = (action, args.file)
    return scan_args.run(scan_args)


def start(args: argparse.Namespace) -> FingerprintKey:
    """The fingerprint key for this scan, its warnings said; the baseline, if any, read and checked
    against it (kept in `args.baseline_run`). Called before the scan reads anything."""
    from radar.files import check_writable
    from radar.scan.findings import FingerprintKey

    key = FingerprintKey.load()
    for warning in key.warnings():
        say("warning", warning)
    run = None
    write = getattr(args, "baseline_write", None)
    if write is not None:
        action, path = write
        if action == "create":
            if os.path.isfile(path):
                raise RadarError(f"baseline {path} exists: radar baseline update {path} ... keeps its reasons; "
                                 "remove it to start afresh")
            run = BaselineRun(key, path, action)
        else:
            baseline, text = _read(path, key)
            run = BaselineRun(key, path, action, baseline, text)
        check_writable(path, "baseline")
    elif args.baseline:
        baseline, text = _read(args.baseline, key)
        run = BaselineRun(key, args.baseline, None, baseline, text)
    args.baseline_run = run
    return key


def _read(path: str, key: FingerprintKey) -> tuple[Baseline, str]:
    from radar.scan import baseline as model

    baseline = model.read(path)
    model.check_key(baseline, key, path)
    return baseline, model.dumps(baseline)


def writes(args: argparse.Namespace) -> bool:
    """Whether this scan writes a baseline (radar baseline create|update) instead of a report."""
    run = getattr(args, "baseline_run", None)
    return run is not None and run.action is not None


def compared(args: argparse.Namespace, findings: Sequence[Finding]) -> Comparison | None:
    """`findings` against --baseline (known ones marked ignored), or None without one."""
    from radar.scan.baseline import compare

    run = getattr(args, "baseline_run", None)
    if run is None:
        return None
    return compare(run.baseline, findings, run.key)


def write(args: argparse.Namespace, report: ScanReport, confident: set[str]) -> int:
    """radar baseline create|update: FILE from the scan's findings of a `confident` confidence
    (not ignored ones); one line says what changed. Exit 2 after an incomplete scan (FILE is still
    written, and update then drops nothing), else 0."""
    from radar.files import write_file
    from radar.scan import baseline as model

    run: BaselineRun = args.baseline_run
    accepted = [f for f in report.findings if not f.ignored and f.confidence in confident]
    incomplete = report.incomplete()
    if run.action == "create":
        result = model.created(accepted, run.key)
        message = (f"baseline {run.path} created: {len(result.entries)} entr{_ies(len(result.entries))} "
                   f"(fingerprint key id {run.key.key_id})")
    else:
        update = model.updated(run.baseline, accepted, report.findings, run.key, complete=incomplete is None)
        result = update.baseline
        message = (f"baseline {run.path} updated: {update.added} added, {update.dropped} dropped (no longer found), "
                   f"{update.kept} kept")
        if update.unchecked:
            message += f", {update.unchecked} not found but kept (the scan could not read everything)"
    text = model.dumps(result)
    if text != run.text:  # an unchanged baseline is left as it is, modification time included
        write_file(run.path, text, "baseline")
    say("info", message)
    if incomplete:
        say("error", f"scan incomplete: {incomplete} (each named in a warning above)")
        return 2
    return 0


def _ies(n: int) -> str:
    return "y" if n == 1 else "ies"
