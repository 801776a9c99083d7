"""`radar monitor --state FILE [--fail-severity LEVEL] SCAN...`: the wiring around radar.monitor.

After the monitor's options come the arguments `radar scan` takes (`PATH [--history ...]`,
`--baseline FILE`, `--format`, `--output`, or `gitlab --url ...`), parsed and run by the scan
commands' own code, as `radar baseline` does; the scan calls `start()` once its fingerprint key is
known (to read and check the state before it reads anything) and `compared()` and `finish()`
around its report. Exit status: 2 when the scan was incomplete (the state is left as it was), 1
when a new finding is at --fail-severity or above, else 0.
"""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Collection, Sequence

from radar.cli.common import non_empty, say
from radar.errors import RadarError

if TYPE_CHECKING:  # the scan and monitor modules load only when a scan runs (see radar.cli.scan)
    from radar.monitor.compare import MonitorResult
    from radar.notify.targets import NotifySettings, Target
    from radar.monitor.state import State
    from radar.scan.findings import Finding, FingerprintKey

LEVEL_NAMES = "critical|high|medium|low|info"  # radar.scan.severity.LEVELS, which parsing must not load
DEFAULT_FAIL_SEVERITY = "medium"
PIPELINE_VARIABLE = "CI_PIPELINE_ID"
_OWN_OPTIONS = ("--state", "--fail-severity", "--notify", "--notify-project", "--notify-label", "--notify-max-issues")
_RESOLVED_LINES = 20  # resolved entries named on stderr; the JSON report lists them all


@dataclass(frozen=True)
class MonitorRun:
    """The monitor side of one scan: the state file, what the last run left in it, the gate."""

    path: str
    fail_severity: str
    key: FingerprintKey | None = None  # the scan's, once it is known
    previous: State | None = None  # None: no state file yet, the first run
    text: str | None = None  # the state's canonical text as read, to leave an unchanged file untouched
    notify: tuple[Target, ...] = ()  # --notify: who hears of new and resolved findings, after the report
    notify_settings: NotifySettings | None = None


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "monitor",
        usage="radar monitor --state FILE [--fail-severity LEVEL] PATH [scan options] | "
              "radar monitor --state FILE [--fail-severity LEVEL] gitlab --url URL ...",
        help="scan, and report what is new and what was resolved since the last run (scheduled jobs)",
        description=(
            "Scan as radar scan does (a PATH and its options, --history, --baseline FILE, --format, "
            "--output; or gitlab and radar scan gitlab's options), compare with the state FILE the last "
            "run left, report the new findings (those still present are listed with --show-ignored) and "
            "the resolved ones, and write FILE for the next run. Each finding's severity is its level on "
            "radar's severity ladder (see README, Monitoring). A missing FILE is a first run: everything "
            "not in the baseline is new. Exit 1 when a new finding is at --fail-severity or above, 0 "
            "otherwise, 2 on errors and when the scan could not read everything (FILE is then left as it was)."
        ),
        epilog="The state holds fingerprints, never values; it is only meaningful under the fingerprint key "
               "that made it: set $RADAR_FINGERPRINT_KEY to the same key on every run.",
    )
    p.add_argument("--state", required=True, type=non_empty, metavar="FILE",
                   help="the monitor's state file (TOML): read if it exists, then written")
    p.add_argument("--fail-severity", type=_level, default=DEFAULT_FAIL_SEVERITY, metavar="LEVEL",
                   help=f"exit 1 for new findings at this level or above: {LEVEL_NAMES} "
                        f"(default {DEFAULT_FAIL_SEVERITY}: test fixtures and low-confidence findings are "
                        "reported but do not fail the job)")
    p.add_argument("scan", nargs=argparse.REMAINDER, metavar="SCAN ARGUMENTS",
                   help="PATH [options], or gitlab --url URL ..., as radar scan takes them")
    from radar.notify.targets import add_arguments as add_notify_arguments  # argparse and stdlib only

    # --url and --token-env here are the GitLab of --notify gitlab-issues; a `gitlab` scan's own
    # --url (after `gitlab`) serves when this one is not given.
    add_notify_arguments(p)
    p.set_defaults(run=_run, takes_command=False)


def _level(text: str) -> str:
    from radar.scan.severity import LEVELS

    if text not in LEVELS:
        raise argparse.ArgumentTypeError(f"not a level: {text!r} (choose from {LEVEL_NAMES.replace('|', ', ')})")
    return text


def _run(args: argparse.Namespace) -> int:
    from radar.cli import scan

    if not args.scan:
        raise RadarError("nothing to scan: give radar monitor --state FILE PATH [scan options], "
                         "or radar monitor --state FILE gitlab --url URL ...")
    misplaced = [a for a in args.scan if a.split("=", 1)[0] in _OWN_OPTIONS]
    if misplaced:  # the scan's parser would call it unknown, which it is not
        raise RadarError(f"{misplaced[0].split('=', 1)[0]} is radar monitor's option: give it before what to scan "
                         "(radar monitor --state FILE [--fail-severity LEVEL] PATH [scan options])")
    scan_args = scan.parse_scan_arguments(args.scan)
    scan_args.command = None
    targets, settings = _notify_settings(args, scan_args)  # checked now, not after a scan of minutes
    scan_args.monitor_run = MonitorRun(args.state, args.fail_severity, notify=targets, notify_settings=settings)
    return scan_args.run(scan_args)


def _notify_settings(args: argparse.Namespace, scan_args: argparse.Namespace):
    from radar.notify.targets import settings_from, targets_from
    from radar.report.printable import printable

    if not args.notify:
        settings_from(args)  # --notify-project and friends without --notify gitlab-issues are refused
        return (), None
    if args.url is None and getattr(scan_args, "url", None):
        args.url = scan_args.url  # monitoring a GitLab: its issues live on the same instance
    # What the webhook summary names: the project the job runs for, else what was scanned.
    subject = os.environ.get("CI_PROJECT_PATH") or " ".join(
        getattr(scan_args, "paths", None) or [getattr(scan_args, "group", None) or getattr(scan_args, "url", "") or ""])
    return targets_from(args), settings_from(args, subject=printable(subject))


def start(args: argparse.Namespace, key: FingerprintKey) -> None:
    """For radar monitor: read the state and check it against the key, and check that it can be
    written, before the scan reads anything. Nothing for other scans."""
    run: MonitorRun | None = getattr(args, "monitor_run", None)
    if run is None:
        return
    from dataclasses import replace

    from radar.files import check_writable
    from radar.monitor import state as model

    previous = model.read(run.path)
    if previous is not None:
        model.check_key(previous, key, run.path)
    check_writable(run.path, "monitor state")
    args.monitor_run = replace(run, key=key, previous=previous,
                               text=None if previous is None else model.dumps(previous))


def compared(args: argparse.Namespace, findings: Sequence[Finding], kind: str,
             confident: Collection[str], complete: bool) -> MonitorResult | None:
    """radar monitor: `findings` against the state (levels set, known ones marked ignored); None
    for other scans."""
    run: MonitorRun | None = getattr(args, "monitor_run", None)
    if run is None:
        return None
    from radar.monitor.compare import compare
    from radar.monitor.state import Seen
    from radar.report.context import now
    from radar.scan.severity import LadderContext

    return compare(run.previous, findings, run.key, LadderContext(kind), Seen(now().date().isoformat(), _pipeline()),
                   confident, complete)


def summary(result: MonitorResult) -> dict:
    """The report's `monitor` section: counts and the resolved entries (fingerprints, never values)."""
    run_first = {"first_run": True} if result.first_run else {}
    return {"new": len(result.new), "known": len(result.known),
            "resolved": [entry.as_dict() for entry in result.resolved], **run_first}


def finish(args: argparse.Namespace, result: MonitorResult) -> int:
    """After the report: write the state, say what changed; the exit status for a complete scan."""
    from radar.files import write_file
    from radar.monitor.state import dumps

    run: MonitorRun = args.monitor_run
    if result.state is not None:
        text = dumps(result.state)
        if text != run.text:  # an unchanged state is left as it is, modification time included
            write_file(run.path, text, "monitor state")
    since = "on the first run (no state yet)" if result.first_run else "since the last run"
    say("info", f"{len(result.new)} new, {len(result.resolved)} resolved {since}; "
                f"{len(result.known)} still present")
    for entry in result.resolved[:_RESOLVED_LINES]:
        say("info", f"resolved: {entry.rule_id} {entry.path or ''} (fingerprint {entry.fingerprint[:12]}, "
                    f"first seen {entry.first_seen.date})")
    if len(result.resolved) > _RESOLVED_LINES:
        say("info", f"and {len(result.resolved) - _RESOLVED_LINES} more resolved (the JSON report lists all)")
    if result.state is None:
        say("warning", f"monitor state {run.path} left as it was: the scan was incomplete, so nothing is resolved")
    failing = result.failing(run.fail_severity)
    if failing:
        say("error", f"{len(failing)} new finding(s) at severity {run.fail_severity} or above")
    return _notified(run, result, 1 if failing else 0)


def _notified(run: MonitorRun, result: MonitorResult, status: int) -> int:
    """Tell --notify's targets of the new and resolved findings (after the state is written, so a
    failing target loses nothing); the exit status, 2 instead of 0 when one could not be told."""
    if not run.notify or run.notify_settings is None:
        return status
    from radar.notify.events import events_from
    from radar.notify.send import send

    resolved = [(e.rule_id, e.fingerprint, e.secret_type or "", e.path or "") for e in result.resolved]
    outcome = send(run.notify, events_from(result.new, resolved), run.notify_settings)
    for warning in outcome.warnings:
        say("warning", warning)
    if outcome.created or outcome.updated or outcome.closed or outcome.posted:
        say("info", f"notified: {outcome.created} issue(s) opened, {outcome.updated} updated, "
                    f"{outcome.closed} closed, {outcome.posted} webhook(s) posted")
    return outcome.exit_status(status)


def _pipeline() -> int | None:
    """The GitLab pipeline this run is part of ($CI_PIPELINE_ID), to note when entries were first seen."""
    text = os.environ.get(PIPELINE_VARIABLE, "")
    return int(text) if text.isascii() and text.isdigit() and 0 < int(text) < 2**63 else None
