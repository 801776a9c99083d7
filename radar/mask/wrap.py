"""The I/O around the stream masker: copying a file descriptor, or running a command.

`copy_masked` masks one input (standard input for `radar mask`) into one output.
`run_masked` runs CMD with its stdout and stderr on two pipes, each masked by its own
`StreamMasker` over one shared `SecretSet`, and written to our stdout and stderr.

Choices, and why:
- One thread and a selector over both pipes: whichever pipe has data is read (os.read, up to
  1 MiB) and what the masker releases is written at once, so a command writing megabytes to
  one stream never waits for us to drain the other, and nothing waits for a newline.
- Writes block. A slow reader of our stdout slows the command down (back-pressure), it does
  not make us buffer without bound.
- SIGINT, SIGTERM, SIGHUP and SIGQUIT received by radar are sent on to CMD, and radar keeps
  masking until CMD's pipes close, so whatever CMD prints while shutting down is masked too.
  The exception: SIGINT and SIGQUIT are not sent on when radar's process group is the
  foreground group of a terminal, because the terminal (Ctrl-C, Ctrl-\\) has already delivered
  them to CMD, which shares that group; sending them again would interrupt CMD twice.
- CMD's status is returned as a shell reports it: its exit code, or 128+N when signal N
  killed it.
- When our stdout (or stderr) is closed by its reader (EPIPE), radar stops reading the
  matching pipe and closes it, so CMD sees a closed pipe on its next write exactly as it
  would without radar (SIGPIPE, or EPIPE if it ignores SIGPIPE); nothing is killed that
  would not have died anyway, and the other stream is still masked to the end.
"""

from __future__ import annotations

import fcntl
import os
import signal
import stat
import threading
from typing import TYPE_CHECKING, Mapping, Sequence

from radar.errors import CommandError, RadarError
from radar.mask.stream import Buffer, SecretSet, StreamMasker

if TYPE_CHECKING:  # imported where a command is started: masking standard input needs none of it
    import subprocess

READ_SIZE = 1 << 20
# Larger pipes mean fewer wake-ups per megabyte; Linux lets any user go up to 1 MiB.
PIPE_SIZE = 1 << 20
# Buffers per writev call (Linux's IOV_MAX).
_IOV_MAX = 1024

FORWARDED_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT)
KEYBOARD_SIGNALS = (signal.SIGINT, signal.SIGQUIT)


def copy_masked(in_fd: int, out_fd: int, masker: StreamMasker) -> None:
    """Mask everything read from `in_fd` into `out_fd`, writing each release at once.

    Raises BrokenPipeError when the reader of `out_fd` has gone away, and RadarError when
    reading or writing fails otherwise (a closed descriptor, a full disk).
    """
    _widen_pipes(in_fd, out_fd)
    while chunk := _read_input(in_fd):
        _write_output(out_fd, masker.feed_parts(chunk))
    _write_output(out_fd, masker.finish_parts())


def _read_input(fd: int) -> bytes:
    try:
        return os.read(fd, READ_SIZE)
    except OSError as e:
        raise RadarError(f"cannot read {_describe(fd)}: {e.strerror or e}") from None


def _write_output(fd: int, parts: list[Buffer]) -> None:
    try:
        _write_all(fd, parts)
    except BrokenPipeError:
        raise
    except OSError as e:
        raise RadarError(f"cannot write {_describe(fd)}: {e.strerror or e}") from None


def _describe(fd: int) -> str:
    return {0: "standard input", 1: "standard output", 2: "standard error"}.get(fd, f"file descriptor {fd}")


def run_masked(
    argv: Sequence[str],
    secret_set: SecretSet,
    *,
    env: Mapping[str, str] | None = None,
    allow_add_mask: bool = False,
    stdout_fd: int = 1,
    stderr_fd: int = 2,
) -> int:
    """Run `argv` with stdin inherited and stdout/stderr masked; return its shell-style status.

    Raises CommandError (status 127 or 126) when the command cannot be started, and RadarError
    when its output could not be written for a reason other than a closed pipe.
    """
    with _SignalForwarder() as forwarder:
        proc = _start(argv, env)
        forwarder.attach(proc)
        streams = [
            (proc.stdout, stdout_fd, StreamMasker(secret_set, allow_add_mask=allow_add_mask)),
            (proc.stderr, stderr_fd, StreamMasker(secret_set, allow_add_mask=allow_add_mask)),
        ]
        write_error = _pump(streams)
        status = proc.wait()
    if write_error is not None:
        raise RadarError(write_error)
    return status if status >= 0 else 128 - status


def _start(argv: Sequence[str], env: Mapping[str, str] | None) -> subprocess.Popen[bytes]:
    import subprocess

    name = argv[0]
    try:
        proc = subprocess.Popen(
            list(argv), stdin=None, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            env=env, bufsize=0,
        )
    except FileNotFoundError:
        if "/" in name and os.path.exists(name):
            raise CommandError(
                f"cannot execute {name}: the interpreter named on its #! line was not found", 126
            ) from None
        raise CommandError(f"command not found: {name}", 127) from None
    except PermissionError:
        raise CommandError(
            f"cannot execute {name}: permission denied (is it a directory, or missing chmod +x?)", 126
        ) from None
    except OSError as e:
        raise CommandError(f"cannot execute {name}: {e.strerror or e}", 126) from None
    _widen_pipes(proc.stdout.fileno(), proc.stderr.fileno())
    return proc


def _widen_pipes(*fds: int) -> None:
    """Grow the pipes among `fds` to PIPE_SIZE: 1 MiB reads and writes then cost one system call
    each instead of sixteen round trips through a 64 KiB pipe."""
    for fd in fds:
        try:
            if stat.S_ISFIFO(os.fstat(fd).st_mode):
                fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, PIPE_SIZE)
        except (AttributeError, OSError):
            pass  # not Linux, or a lower system limit: the default size works, only slower


def _pump(streams) -> str | None:
    """Copy each pipe through its masker until both are closed; return a write error, if any."""
    import selectors  # here, like subprocess: masking standard input needs neither (~1.3 ms)

    write_error = None
    with selectors.DefaultSelector() as selector:
        for pipe, out_fd, masker in streams:
            selector.register(pipe, selectors.EVENT_READ, (out_fd, masker))
        while selector.get_map():
            for key, _ in selector.select():
                out_fd, masker = key.data
                chunk = os.read(key.fd, READ_SIZE)
                parts = masker.feed_parts(chunk) if chunk else masker.finish_parts()
                try:
                    _write_output(out_fd, parts)
                    if chunk:
                        continue
                except BrokenPipeError:
                    pass
                except RadarError as e:  # only the write's: the masker ran outside the try
                    write_error = write_error or str(e)
                selector.unregister(key.fileobj)
                key.fileobj.close()
    return write_error


def _write_all(fd: int, parts: list[Buffer]) -> None:
    """Write every part, in order, with as few system calls as the kernel allows.

    The parts are slices of what was read plus markers: os.writev sends them without joining
    them into one more copy of the block.
    """
    pending = [memoryview(p) for p in parts if len(p)]
    first = 0  # parts before this one are written (an index: popping the front would be quadratic)
    while first < len(pending):
        try:
            written = os.writev(fd, pending[first : first + _IOV_MAX])
        except BlockingIOError:
            # Our output was handed to us in non-blocking mode: wait until it drains.
            import selectors

            with selectors.DefaultSelector() as waiter:
                waiter.register(fd, selectors.EVENT_WRITE)
                waiter.select()
            continue
        while written and written >= len(pending[first]):
            written -= len(pending[first])
            first += 1
        if written:
            pending[first] = pending[first][written:]


class _SignalForwarder:
    """Sends the signals radar receives on to the child while it runs."""

    def __init__(self) -> None:
        self._proc: subprocess.Popen[bytes] | None = None
        self._pending: list[int] = []
        self._previous: dict[int, object] = {}

    def __enter__(self) -> _SignalForwarder:
        # Python only lets the main thread set handlers; elsewhere signals keep their defaults.
        if threading.current_thread() is threading.main_thread():
            for sig in FORWARDED_SIGNALS:
                self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)

    def attach(self, proc: subprocess.Popen[bytes]) -> None:
        self._proc = proc
        # Signals that arrived before the child existed never reached it from the terminal.
        for sig in self._pending:
            proc.send_signal(sig)
        self._pending.clear()

    def _handle(self, signum: int, frame: object) -> None:
        if self._proc is None:
            self._pending.append(signum)
        elif signum not in KEYBOARD_SIGNALS or not _terminal_signals_our_group():
            self._proc.send_signal(signum)  # does nothing once the child has been reaped


def _terminal_signals_our_group() -> bool:
    """True when our controlling terminal's foreground process group is ours."""
    try:
        tty = os.open("/dev/tty", os.O_RDONLY | os.O_NOCTTY)
    except OSError:
        return False
    try:
        return os.tcgetpgrp(tty) == os.getpgrp()
    except OSError:
        return False
    finally:
        os.close(tty)
