"""What a scan says on the terminal besides its report: `--quiet`, `-v`, `--no-color` and the progress bar.

- `--quiet`: no info, warning or progress lines on stderr; errors only. An incomplete scan still
  ends with its `radar: error: scan incomplete` line (the warnings naming what was not read are in
  the report, and on stderr without --quiet).
- `-v`: what was scanned, in `radar: ...` lines (as `radar exec -v` logs its requests): counts by
  kind, each file skipped and why, the time each phase took. Never a value: the lines name
  paths, rules and numbers.
- `--no-color` (or `NO_COLOR` set, which rich honours, as it honours `FORCE_COLOR`): no colour.
- The progress bar is drawn on stderr only when it is a terminal, only once the scan has run
  for `PROGRESS_DELAY` seconds (so never for a small one), and is erased when the scan ends.
  Not with -v, whose lines would tear it, nor with --quiet.

rich, logging and threading are imported only when they are used: every radar command builds
this module's options, and `radar mask` must start fast.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ContextManager

from radar.cli.common import log_to_stderr, say

if TYPE_CHECKING:
    from rich.console import Console

PROGRESS_DELAY = 1.0  # seconds


def add_arguments(p: argparse.ArgumentParser) -> None:
    chatter = p.add_mutually_exclusive_group()
    chatter.add_argument("-q", "--quiet", action="store_true",
                         help="print no info, warning or progress lines on stderr, only errors")
    chatter.add_argument("-v", "--verbose", action="store_true",
                         help="say what was scanned: counts by kind, what was skipped and why, time per phase")
    p.add_argument("--no-color", action="store_true", help="no colour in the table (also when NO_COLOR is set)")


@dataclass(frozen=True)
class Terminal:
    """The stderr chatter a command's options allow, and the consoles it draws on."""

    quiet: bool = False
    verbose: bool = False
    color: bool = True

    @classmethod
    def of(cls, args: argparse.Namespace) -> Terminal:
        return cls(getattr(args, "quiet", False), getattr(args, "verbose", False), not getattr(args, "no_color", False))

    def start(self) -> None:
        """With -v, library code's `radar.*` loggers write their `radar: ...` lines to stderr."""
        if self.verbose:
            log_to_stderr(True)

    def info(self, message: str) -> None:
        if not self.quiet:
            say("info", message)

    def detail(self, message: str) -> None:
        """A -v line, `radar: ...` like the lines library code logs (see `start`)."""
        if self.verbose:
            import logging

            logging.getLogger("radar.cli").info(message)

    def warning(self, message: str) -> None:
        if not self.quiet:
            say("warning", message)

    def console(self, stderr: bool = False) -> Console:
        from rich.console import Console

        # None lets rich decide from NO_COLOR; True turns colour off whatever the environment says.
        return Console(stderr=stderr, no_color=True if not self.color else None, highlight=False)

    def progress(self, description: str, counting: str | None = None) -> ContextManager[DelayedProgress | None]:
        """A progress display for a scan (of bytes, or of `counting`, e.g. `project(s)`), as a
        context manager that gives None when there must be none (see the module's docstring)."""
        if self.quiet or self.verbose or not sys.stderr.isatty():
            return contextlib.nullcontext()
        from rich.progress import BarColumn, DownloadColumn, SpinnerColumn, TextColumn, TimeElapsedColumn

        # markup=False: a description may be a GitLab project's path, shown as it is.
        columns = (SpinnerColumn(), TextColumn("{task.description}", markup=False))
        if counting is None:  # bytes of units seen so far: the total grows while the walk goes on
            columns += (BarColumn(), DownloadColumn(), TimeElapsedColumn())
        else:
            columns += (TextColumn(f"{{task.completed}} {counting}"), TimeElapsedColumn())
        return DelayedProgress(self.console(stderr=True), columns, description)


class DelayedProgress:
    """A transient rich progress display that appears only after `delay` seconds of work.

    A timer thread starts it; `update()` may be called before that (the numbers are kept and
    shown when it appears) and from the thread that does the work. Leaving the `with` block
    cancels a timer that has not fired, and erases the display if it appeared.
    """

    def __init__(self, console: Console, columns: tuple, description: str, delay: float = PROGRESS_DELAY) -> None:
        import threading

        from rich.progress import Progress

        self._progress = Progress(*columns, console=console, transient=True)
        self._task = self._progress.add_task(description, total=None)
        self._delay = delay
        self._lock = threading.Lock()
        self._closed = False
        self.shown = threading.Event()
        self._timer = threading.Timer(delay, self._show)
        self._timer.daemon = True

    def __enter__(self) -> DelayedProgress:
        self._timer.start()
        return self

    def update(self, **fields: Any) -> None:
        self._progress.update(self._task, **fields)

    def _show(self) -> None:
        with self._lock:
            if not self._closed:
                self._progress.start()
                self.shown.set()

    def __exit__(self, *exc: object) -> None:
        self._timer.cancel()
        self._timer.join()  # a timer firing now finishes showing the display, which is then stopped
        with self._lock:
            self._closed = True
            if self.shown.is_set():
                self._progress.stop()
