"""Resolved secrets -> the variables a job sees: file paths (`file: true`) or values.

`file: true` (GitLab's default): the value is written, byte for byte, to a file named after the
variable, mode 0600, inside a private directory (mode 0700, created with `mkdtemp` under
`$TMPDIR`), and the variable holds the file's path. The directory exists only while the
`SecretFiles` context is open: it is removed on exit, whatever ended the job.

Secrets go only where the user said: `$TMPDIR`, or `/tmp` when TMPDIR is unset or empty. Where
Python's `tempfile` would quietly fall back to another directory (`/tmp`, `/var/tmp`, the
current one) when TMPDIR is missing or unwritable, `parent_directory` refuses instead (and
`radar exec` asks it before Vault is asked for anything); so does a directory anyone may
write to without the sticky bit, where another user could swap radar's private directory for
one of their own.
"""

from __future__ import annotations

import os
import shutil
import signal
import stat
import tempfile
from collections.abc import Mapping, Sequence

from radar.vault.errors import SecretFilesError, VaultConfigError
from radar.vault.model import ResolvedSecret

DIR_PREFIX = "radar-secrets-"
HELD_SIGNALS = {signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT}


def parent_directory(environ: Mapping[str, str]) -> str:
    """The directory for the secret files' private directory: `$TMPDIR`, else `/tmp`, if it
    can keep them; SecretFilesError otherwise."""
    tmpdir = environ.get("TMPDIR", "")
    path = tmpdir or "/tmp"
    what = f"TMPDIR={tmpdir}" if tmpdir else "/tmp (TMPDIR is not set)"
    fix = "point TMPDIR at a directory of your own (a tmpfs such as /dev/shm keeps secrets off disk)"
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise SecretFilesError(f"{what}: no such directory for file secrets; create it, or {fix}") from None
    except OSError as exc:
        raise SecretFilesError(f"{what}: cannot use it for file secrets ({exc.strerror}); {fix}") from None
    if not stat.S_ISDIR(mode):
        raise SecretFilesError(f"{what}: not a directory, so it cannot hold file secrets; {fix}")
    if mode & stat.S_IWOTH and not mode & stat.S_ISVTX:
        raise SecretFilesError(
            f"{what}: anyone may write to it and it lacks the sticky bit, so another user could swap "
            f"radar's secret directory; chmod +t it, or {fix}"
        )
    if not os.access(path, os.W_OK | os.X_OK):
        raise SecretFilesError(f"{what}: not writable, so it cannot hold file secrets; {fix}")
    return path


class SecretFiles:
    """A private directory for `file: true` secrets, created on first use, removed on exit."""

    def __init__(self, parent: str | None = None) -> None:
        self._parent = parent
        self.directory: str | None = None

    def __enter__(self) -> SecretFiles:
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()

    def variables(self, resolved: Sequence[ResolvedSecret]) -> dict[str, str]:
        """The environment entries that hand `resolved` to the job."""
        env: dict[str, str] = {}
        for secret in resolved:
            name = secret.spec.name
            if secret.spec.file:
                env[name] = self._write(name, secret.value)
                continue
            if b"\0" in secret.value:
                raise VaultConfigError(
                    f"secret {name} contains a NUL byte and cannot be passed in a variable; use file: true"
                )
            env[name] = os.fsdecode(secret.value)
        return env

    def _write(self, name: str, value: bytes) -> str:
        if self.directory is None:
            try:
                self.directory = tempfile.mkdtemp(prefix=DIR_PREFIX, dir=self._parent)
            except OSError as exc:
                raise SecretFilesError(
                    f"cannot create a private directory for file secrets in {self._parent}: {exc.strerror}"
                ) from None
        path = os.path.join(self.directory, name)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        try:
            view = memoryview(value)
            while view:
                view = view[os.write(fd, view):]
        finally:
            os.close(fd)
        return path

    def remove(self) -> None:
        """Delete the directory and everything in it, even if the job made parts read-only."""
        if self.directory is None:
            return

        def make_writable_and_retry(function, path, _exc) -> None:  # type: ignore[no-untyped-def]
            try:
                os.chmod(os.path.dirname(path), stat.S_IRWXU)
                if os.path.isdir(path) and not os.path.islink(path):
                    os.chmod(path, stat.S_IRWXU)
                function(path)
            except FileNotFoundError:
                pass

        directory, self.directory = self.directory, None
        # A second SIGTERM or Ctrl-C must not cut the removal short: hold signals until it is done.
        held = signal.pthread_sigmask(signal.SIG_BLOCK, HELD_SIGNALS)
        try:
            if os.path.lexists(directory):
                shutil.rmtree(directory, onerror=make_writable_and_retry)
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, held)
