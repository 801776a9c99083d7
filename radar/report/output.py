"""Writing a report to a file without ever leaving a half-written one behind."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from radar.errors import RadarError


def check_writable(path: str | os.PathLike[str], what: str = "report") -> None:
    """Refuse, before a scan that may take minutes, a report path that could not be written after it."""
    target = Path(path)
    directory = target.parent
    if target.is_dir():
        raise RadarError(f"cannot write the {what} {path}: it is a directory; give a file name")
    if not directory.is_dir():
        raise RadarError(f"cannot write the {what} {path}: no directory {directory}; create it first")
    if not os.access(directory, os.W_OK | os.X_OK):
        raise RadarError(f"cannot write the {what} {path}: {directory} is not writable; choose another place")


def write_report(path: str | os.PathLike[str], text: str) -> None:
    """Write `text` to `path` through a temporary file in the same directory and a rename.

    A reader (or a CI artifact upload) sees the old report or the new one, never a truncated
    file, and a failure (no such directory, disk full) leaves the old report in place. Reports
    hold no secret, so the file gets the usual 0644 (less the umask), not 0600.
    """
    target = Path(path)
    directory = target.parent
    try:
        fd, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
    except OSError as e:
        raise RadarError(f"cannot write the report {path}: {e.strerror} ({directory}); "
                         "choose an existing, writable directory") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)
        os.replace(temporary, target)
    except BaseException as e:  # whatever stops the write (a bug, Ctrl-C) must not leave the temporary file
        try:
            os.unlink(temporary)
        except OSError:
            pass
        if isinstance(e, OSError):
            raise RadarError(f"cannot write the report {path}: {e.strerror}") from None
        raise
