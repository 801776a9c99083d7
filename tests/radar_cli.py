"""Running `radar` as users do, in a child process, for end-to-end tests of the command line."""

from __future__ import annotations

import os
import select
import shutil
import subprocess
import sys
import time
from collections.abc import Iterable
from pathlib import Path

import pytest

RADAR = [sys.executable, "-m", "radar"]
SECRET = b"secret-value-1"
# Generous bounds for waits that normally take milliseconds: they stop a broken build from
# hanging, they do not measure speed.
WAIT = 60


def clean_env(**extra: str) -> dict[str, str]:
    """An environment without the test runner's own secrets (CI sets CI_JOB_TOKEN and friends)."""
    env = {"PATH": os.environ["PATH"], "LANG": "C.UTF-8"}
    env.update(extra)
    return env


def radar(*args: str | os.PathLike[str], input: bytes = b"", env: dict[str, str] | None = None,
          timeout: float = WAIT, prefix: list[str] = ()) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [*prefix, *RADAR, *map(os.fspath, args)], input=input, capture_output=True,
        env=clean_env() if env is None else env, timeout=timeout,
    )


def python(code: str, *args: str | os.PathLike[str]) -> list[str]:
    """A command line running `code` with this Python (a CMD for `radar mask --`)."""
    return [sys.executable, "-c", code, *map(os.fspath, args)]


def secret_file(directory: Path, value: bytes = SECRET, name: str = "secret") -> Path:
    path = directory / name
    path.write_bytes(value)
    return path


def assert_absent(values: Iterable[str | bytes], *outputs: str | bytes,
                  message: str = "planted value #{n} appeared in radar's output") -> None:
    """Fail when one of `values` is in one of `outputs`, naming its index only: pytest prints both
    sides of a failing `assert value not in output`, the secret with them."""
    for n, value in enumerate(values):
        needle = value.encode() if isinstance(value, str) else value
        for output in outputs:
            if needle in (output.encode() if isinstance(output, str) else output):
                pytest.fail(message.replace("{n}", str(n)), pytrace=False)


def assert_one_line_error(result: subprocess.CompletedProcess[bytes], *never: bytes) -> str:
    """The error contract: one `radar: error:` line on stderr, no traceback, no secret anywhere."""
    assert result.stderr.startswith(b"radar: error: "), result.stderr
    assert result.stderr.count(b"\n") == 1, result.stderr
    assert b"Traceback" not in result.stderr
    if never:  # stdout is None when the test sent it elsewhere (a full disk)
        assert_absent(never, result.stdout + result.stderr, message="value #{n} to keep out appeared in radar's output")
    return result.stderr.decode()


def read_until(fd: int, wanted: bytes, bound: float = WAIT) -> bytes:
    """Read from `fd` until `wanted` has arrived; fail if it has not within `bound` seconds."""
    got = b""
    deadline = time.monotonic() + bound
    while wanted not in got:
        remaining = deadline - time.monotonic()
        ready, _, _ = select.select([fd], [], [], max(remaining, 0))
        if not ready:
            raise AssertionError(f"expected {wanted!r}, got only {got!r} after {bound} s")
        chunk = os.read(fd, 65536)
        if not chunk:
            raise AssertionError(f"expected {wanted!r}, stream ended after {got!r}")
        got += chunk
    return got


def wait_for_file(path: Path, proc: subprocess.Popen, bound: float = WAIT) -> None:
    deadline = time.monotonic() + bound
    while not path.exists():
        assert proc.poll() is None, f"radar exited early with {proc.returncode}"
        assert time.monotonic() < deadline, f"{path.name} did not appear within {bound} s"
        time.sleep(0.01)


def without_file_access_override() -> list[str]:
    """A command prefix under which file permissions apply: root reads any file otherwise."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    assert setpriv, "tests run as root need setpriv (util-linux) to drop CAP_DAC_OVERRIDE"
    return [setpriv, "--bounding-set", "-dac_override,-dac_read_search"]


NOBODY = 65534


def as_nobody() -> list[str]:
    """A command prefix that runs as an unprivileged user (nobody): a test that lets radar write
    /dev/null or /dev/stdout must, so that a regression fails the test (nobody may not replace
    anything in /dev) instead of replacing this machine's /dev/null."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    assert setpriv, "tests run as root need setpriv (util-linux) to run radar unprivileged"
    return [setpriv, f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]
