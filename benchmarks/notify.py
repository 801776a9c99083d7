"""What notifying costs: GitLab requests and wall time for issue runs, and the webhook's body size.

Run `python benchmarks/notify.py [--events N] [--write]`.

In process, against tests/gitlab_fake.py (imported from tests/, not copied) on 127.0.0.1 and a
stdlib HTTP listener for the webhook. N events (default 100) are made from one finding with N
fingerprints, all at the default --notify-max-issues (100): a first run creates N issues, a
second notes them, a third resolves and closes them; then 10 N new events show the cap (at most
100 issues written, the rest one warning). The webhook gets a summary of 100 N events, to show its
body stays bounded. Measured: wall time of each run (median of --rounds), GitLab requests the fake
answered (reads: the reachability check and the lookups; writes: POST and PUT), and the webhook body's bytes. No value exists here:
the events are made from fingerprints. `--write` puts the table into benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import hashlib
import statistics
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import results  # noqa: E402  benchmarks/results.py: the shared RESULTS.md writer
from gitlab_fake import TOKEN, FakeGitLab, Project, serving  # noqa: E402
from radar.notify.events import Event  # noqa: E402
from radar.notify.send import send  # noqa: E402
from radar.notify.targets import GITLAB_ISSUES, NotifySettings, Target, parse_target  # noqa: E402

SECTION = "notify"


def events(n: int, kind: str, start: int = 0) -> tuple[Event, ...]:
    return tuple(Event(kind=kind, rule_id="github-personal-access-token", fingerprint=hashlib.sha256(b"%d" % (start + i)).hexdigest(),  # type: ignore[arg-type]
                       secret_type="GitHub token", severity="critical", place=f"app/{start + i}/.env:1",
                       remediation="Rotate the credential at its provider.", source="directory")
                 for i in range(n))


def issue_runs(n: int) -> list[tuple[str, float, int, int, str]]:
    rows = []
    with serving(FakeGitLab(projects=[Project(1, "acme/security")])) as gl:
        settings = NotifySettings(gitlab_url=gl.url, token=TOKEN, project="acme/security")
        for name, batch in ((f"{n} new: issues created", events(n, "new")),
                            (f"the same {n} again: a note each", events(n, "new")),
                            (f"{n} resolved: note and close", events(n, "resolved")),
                            (f"{10 * n} new at the default cap", events(10 * n, "new", start=n))):
            reads, writes = len(gl.requests), len(gl.writes)
            started = time.perf_counter()
            outcome = send([Target(GITLAB_ISSUES)], batch, settings)
            seconds = time.perf_counter() - started
            said = (f"{outcome.created} created, {outcome.updated} updated, {outcome.closed} closed"
                    + (f", {outcome.undelivered} counted in a warning" if outcome.undelivered else ""))
            rows.append((name, seconds, len(gl.requests) - reads, len(gl.writes) - writes, said))
    return rows


class _Hook(BaseHTTPRequestHandler):
    sizes: list[int] = []

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_POST(self) -> None:  # noqa: N802
        _Hook.sizes.append(len(self.rfile.read(int(self.headers["Content-Length"]))))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()


def webhook_run(n: int, rounds: int) -> tuple[float, int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        target = parse_target(f"webhook=http://127.0.0.1:{server.server_address[1]}/hook")
        batch = events(n // 2, "new") + events(n // 2, "resolved", start=n)
        times = []
        for _ in range(rounds):
            started = time.perf_counter()
            send([target], batch, NotifySettings(subject="acme/app"))
            times.append(time.perf_counter() - started)
    finally:
        server.shutdown()
        server.server_close()
    return statistics.median(times), _Hook.sizes[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    runs = [issue_runs(args.events) for _ in range(args.rounds)]
    seconds, size = webhook_run(100 * args.events, args.rounds)
    lines = ["## Notifications: GitLab issues and the webhook (benchmarks/notify.py)", "",
             f"Machine: {results.machine()}. Against tests/gitlab_fake.py on 127.0.0.1, in process; "
             f"median of {args.rounds} rounds.", "",
             "| run | seconds | GitLab reads (GET) | writes (POST, PUT) | outcome |", "| --- | --- | --- | --- | --- |"]
    for i, (name, _, requests, writes, said) in enumerate(runs[0]):
        median = statistics.median(r[i][1] for r in runs)
        lines.append(f"| {name} | {median:.2f} | {requests} | {writes} | {said} |")
    lines += ["", f"Webhook: a summary of {100 * args.events:,} events posts {size:,} bytes "
                  f"(100 events a list, the rest counted) in {seconds:.2f} s."]
    section = "\n".join(lines)
    print(section)
    if args.write:
        results.write_section(SECTION, section)


if __name__ == "__main__":
    main()
