"""Writing a file radar makes (a report, a plan; any baseline, index or state file to come) at
the path a user gave, doing what that path means rather than replacing whatever is there.

What `write_file(path, ...)` does, by what `path` is:

- nothing yet, or a regular file: the new content is written to a temporary file in the same
  directory, flushed to disk and renamed over the path, so a reader (a CI artifact upload) sees
  the old file or the new one, never half of one, and a failure leaves the old one in place. A
  replaced file keeps its permission bits (a hard link to it elsewhere keeps the old content); a
  new one gets 0666 less the umask (radar writes no secret to such files). A caller that passes
  `mode` gets exactly those bits on a new or replaced file, and the temporary file has them (or
  fewer: 0600) from its creation, so no reader ever finds the content with looser ones;
- a symbolic link (or a chain of them): followed; its final target is written as above, in the
  target's directory, and the link stays a link. A dangling link gets its target created;
- a character or block device, a FIFO or a socket: opened (a socket: connected to) and written in
  place, so `/dev/null` stays a device and a named pipe's reader gets the content. Opening a FIFO
  waits for its reader, as `echo > fifo` does;
- one of radar's own open descriptors, named `/dev/stdout`, `/dev/stderr`, `/dev/fd/N` or
  `/proc/self/fd/N` (directly or through links): written through that descriptor as if radar
  printed it, so `--output /dev/stdout >> log` appends to log and a socket or pipe works too;
- a directory: refused.

Content may come in pieces (an iterable of strings, a report rendered one finding at a time): it
is encoded and written as it comes, so a large report is never held whole. A regular file still
changes only by the final rename; a device, FIFO or descriptor keeps what was written before a
failure half-way.

Only the atomic replacement renames anything, and only the temporary file it created itself.
`check_writable(path)` tells, before a scan that may take minutes, whether `write_file` will be
able to write there, by the same rules (so `/dev/null` is writable for a user who may not create
files in `/dev`).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import re
import select
import socket
import stat
import sys
import tempfile
from dataclasses import dataclass
from typing import Iterable, Iterator

from radar.errors import RadarError

# Linux gives up after 40 links too (ELOOP).
_MAX_LINKS = 40
_PIECE = 1 << 20  # characters a write takes when content comes in pieces
# Names of a descriptor of this very process: /dev/fd/N, /proc/self/fd/N, /proc/thread-self/fd/N,
# /proc/PID/fd/N (/dev/stdout and /dev/stderr are links to /proc/self/fd/1 and 2).
_OWN_DESCRIPTOR = re.compile(r"/(?:dev|proc/(?:self|thread-self|(?P<pid>\d+)))/fd/(?P<fd>\d+)")


@dataclass(frozen=True)
class _Destination:
    kind: str  # "new", "regular", "special" (device, FIFO, socket) or "descriptor"
    path: str  # the path that is written, after following symbolic links
    mode: int | None = None  # a regular file's permission bits
    descriptor: int | None = None
    socket: bool = False


def check_writable(path: str | os.PathLike[str], what: str = "report") -> None:
    """Refuse, before work that may take minutes, a path `write_file` could not write afterwards."""
    shown = os.fspath(path)
    _check(_destination(shown, what), shown, what)


def write_file(path: str | os.PathLike[str], content: str | bytes | Iterable[str], what: str = "report",
               mode: int | None = None) -> None:
    """Write `content` (text is written as UTF-8; an iterable of strings piece by piece, so a large
    report is never held whole) to `path` as the module's docstring says; `mode`: the permission
    bits of a regular file written (a device, FIFO or descriptor keeps its own)."""
    shown = os.fspath(path)
    destination = _destination(shown, what)
    _check(destination, shown, what)  # the clearest message for what can be known beforehand
    data = _pieces(content)
    try:
        if destination.kind == "descriptor":
            for stream in (sys.stdout, sys.stderr):  # what radar printed comes first
                with contextlib.suppress(Exception):
                    stream.flush()
            _write_all(destination.descriptor, data)
        elif destination.kind == "special":
            _write_in_place(destination, data)
        else:
            _replace_atomically(destination, data, mode)
    except BrokenPipeError:
        raise  # the reader went away: the CLI's exit status 141, as for standard output
    except OSError as e:
        raise RadarError(f"cannot write the {what} {shown}: {e.strerror or e}") from None


def _pieces(content: str | bytes | Iterable[str]) -> Iterator[bytes]:
    """`content` as UTF-8 in pieces of about `_PIECE` characters (a system call each)."""
    if isinstance(content, bytes):
        yield content
        return
    if isinstance(content, str):
        yield content.encode("utf-8")
        return
    pending: list[str] = []
    size = 0
    for text in content:
        pending.append(text)
        size += len(text)
        if size >= _PIECE:
            yield "".join(pending).encode("utf-8")
            pending, size = [], 0
    if pending:
        yield "".join(pending).encode("utf-8")


def _check(destination: _Destination, shown: str, what: str) -> None:
    if destination.kind == "descriptor":
        try:
            flags = fcntl.fcntl(destination.descriptor, fcntl.F_GETFL)
        except OSError:
            raise RadarError(f"cannot write the {what} {shown}: file descriptor {destination.descriptor} "
                             "is not open") from None
        if flags & os.O_ACCMODE not in (os.O_WRONLY, os.O_RDWR):
            raise RadarError(f"cannot write the {what} {shown}: file descriptor {destination.descriptor} "
                             "is not open for writing")
    elif destination.kind == "special":
        if not os.access(destination.path, os.W_OK):
            raise RadarError(f"cannot write the {what} {shown}: permission denied; choose another place")
    else:  # the temporary file and the rename need the directory
        directory = os.path.dirname(destination.path) or "."
        if not os.path.isdir(directory):
            raise RadarError(f"cannot write the {what} {shown}: no directory {directory}; create it first")
        if not os.access(directory, os.W_OK | os.X_OK):
            raise RadarError(f"cannot write the {what} {shown}: {directory} is not writable; choose another place")


def _destination(path: str, what: str) -> _Destination:
    current = path
    for _ in range(_MAX_LINKS):
        own = _OWN_DESCRIPTOR.fullmatch(current)
        if own and own["pid"] in (None, str(os.getpid())):
            return _Destination("descriptor", current, descriptor=int(own["fd"]))
        try:
            status = os.lstat(current)
        except FileNotFoundError:
            return _Destination("new", current)
        except OSError as e:  # a file where a directory should be, a directory we may not search
            raise RadarError(f"cannot write the {what} {path}: {e.strerror}; choose another place") from None
        if stat.S_ISLNK(status.st_mode):
            # Relative to the link's own directory, unnormalised: the kernel resolves `..` itself.
            current = os.path.join(os.path.dirname(current), os.readlink(current))
            continue
        if stat.S_ISDIR(status.st_mode):
            raise RadarError(f"cannot write the {what} {path}: it is a directory; give a file name")
        if stat.S_ISREG(status.st_mode):
            return _Destination("regular", current, mode=stat.S_IMODE(status.st_mode))
        return _Destination("special", current, socket=stat.S_ISSOCK(status.st_mode))
    raise RadarError(f"cannot write the {what} {path}: too many levels of symbolic links")


def _write_in_place(destination: _Destination, data: Iterable[bytes]) -> None:
    if destination.socket:  # open() cannot open a socket: connect to it instead
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as peer:
            peer.connect(destination.path)
            for piece in data:
                peer.sendall(piece)
        return
    fd = os.open(destination.path, os.O_WRONLY | os.O_NOCTTY | os.O_CLOEXEC)
    try:
        _write_all(fd, data)
    finally:
        os.close(fd)


def _replace_atomically(destination: _Destination, data: Iterable[bytes], mode: int | None = None) -> None:
    directory = os.path.dirname(destination.path) or "."
    name = os.path.basename(destination.path)[:100]  # the temporary name must stay under NAME_MAX
    # mkstemp makes the temporary file 0600; it gets its final bits once it is full.
    if mode is None and destination.mode is None:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    elif mode is None:
        mode = destination.mode
    fd, temporary = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=directory)
    try:
        try:
            _write_all(fd, data)
            os.fsync(fd)
            os.fchmod(fd, mode)
        finally:
            os.close(fd)
        os.replace(temporary, destination.path)  # the one rename: of the temporary file made above
    except BaseException:  # whatever stops the write (an error, a bug, Ctrl-C) leaves no temporary file
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def _write_all(fd: int, pieces: Iterable[bytes]) -> None:
    for piece in pieces:
        view = memoryview(piece)
        while view:
            try:
                written = os.write(fd, view)
            except BlockingIOError:  # a descriptor someone left non-blocking: wait until it takes more
                select.select([], [fd], [])
                continue
            if written == 0:
                raise OSError(errno.EIO, os.strerror(errno.EIO))
            view = view[written:]
