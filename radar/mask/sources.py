"""Where secret values come from: files, variables, file-type variables, the job's environment.

Each function returns `Secret`s whose `source` names the origin ("file /run/key.pem",
"variable DB_PASSWORD") so that warnings and errors can point at it without showing the value.
Values are bytes exactly as stored; trimming, minimum length and duplicates are the engine's policy.

Variables come from a `Mapping[str, str]` such as `os.environ`; their values are turned back into
the original bytes with `os.fsencode`, so values that are not valid UTF-8 are masked byte-exact.
"""

from __future__ import annotations

import os
import re
import stat
from fnmatch import fnmatchcase
from typing import Iterable, Mapping

from radar.errors import SecretSourceError
from radar.mask.model import Secret

# Variables listed here (separated by commas or whitespace) are always secrets.
MASK_VARS_VARIABLE = "RADAR_MASK_VARS"

# Names whose values are credentials by convention, matched against the whole name and
# case-insensitively. A glob matches the whole name, so `VAULT_TOKEN_URL`, `DB_PASSWORD_FILE`
# or `SSH_AUTH_SOCK` do not match `*_TOKEN`, `*_PASSWORD` or `*_AUTH`. A job's own `API_KEY` is
# as secret as `STRIPE_API_KEY`, so each `*_NAME` glob has its bare `NAME` beside it; except
# `PASS` and `AUTH`, which bare are words more often than credentials (`AUTH=ldap`, `PASS=1`).
DEFAULT_SECRET_GLOBS: tuple[str, ...] = (
    "*PASSWORD", "*_PASSWD", "PASSWD", "*_PASS",
    "*SECRET", "*_SECRET_KEY", "SECRET_KEY",
    "*TOKEN", "*_JWT", "JWT", "*_JWT_V[0-9]",
    "*_API_KEY", "API_KEY", "*_APIKEY", "APIKEY", "*_ACCESS_KEY", "ACCESS_KEY",
    "*_PRIVATE_KEY", "PRIVATE_KEY", "*_SIGNING_KEY", "SIGNING_KEY",
    "*_ENCRYPTION_KEY", "ENCRYPTION_KEY", "*_MASTER_KEY", "MASTER_KEY",
    "*_DEPLOY_KEY", "DEPLOY_KEY", "*_SSH_KEY", "SSH_KEY",
    "*_CONNECTION_STRING", "CONNECTION_STRING", "*_DSN", "DSN", "*_CREDENTIALS", "CREDENTIALS",
    "*_AUTH", "*_AUTH_CONFIG", "AUTH_CONFIG", "*_WEBHOOK_URL", "WEBHOOK_URL",
)

# Names that match a glob above but hold settings, not credentials: service images read them as
# switches (`MYSQL_ALLOW_EMPTY_PASSWORD=yes`, Bitnami's bare `ALLOW_EMPTY_PASSWORD=yes`,
# `NPM_CONFIG_ALWAYS_AUTH=true`). They are skipped even when a custom glob matches them; listing
# one in RADAR_MASK_VARS still masks it.
NON_SECRET_GLOBS: tuple[str, ...] = (
    "*ALLOW_EMPTY_PASSWORD", "*ALLOW_EMPTY_ROOT_PASSWORD", "*RANDOM_ROOT_PASSWORD",
    "*_ALWAYS_AUTH", "*_SKIP_AUTH", "*_NO_AUTH",
)


def from_file(path: str | os.PathLike[str]) -> Secret:
    """The whole content of the file at `path` as one secret (a PEM key is one secret)."""
    name = os.fspath(path)
    return Secret(value=_read_file(name, what=f"secret file {name}"), source=f"file {name}")


def from_env(name: str, environ: Mapping[str, str]) -> Secret:
    """The value of variable `name`, or the content of the file it names.

    GitLab's file-type variables and `secrets:` entries with `file: true` put the secret in a
    file and the file's absolute path in the variable: when the value is the absolute path of an
    existing regular file, the file's content is the secret (the path itself is not).
    """
    if name not in environ:
        raise SecretSourceError(
            f"variable {name} is not set: export it before running radar, or drop --secret-env {name}"
        )
    return _secret_of_variable(name, environ[name])


def from_environment(
    environ: Mapping[str, str], globs: Iterable[str] = DEFAULT_SECRET_GLOBS
) -> list[Secret]:
    """The job's secrets found in its environment.

    These are the variables listed in RADAR_MASK_VARS, then, in name order, every other variable
    whose name matches one of `globs` (case-insensitively) and none of NON_SECRET_GLOBS.
    A listed variable that is not set, and any variable whose value is empty or only whitespace,
    is skipped: there is nothing to leak. File-type variables are read as in `from_env`.
    """
    listed = [n for n in re.split(r"[\s,]+", environ.get(MASK_VARS_VARIABLE, "")) if n]
    patterns = [g.upper() for g in globs]
    matched = sorted(
        name for name in environ
        if _matches_any(name, patterns) and not _matches_any(name, NON_SECRET_GLOBS)
    )
    secrets: list[Secret] = []
    seen: set[str] = set()
    for name in [*listed, *matched]:
        if name in seen or name not in environ or not environ[name].strip():
            continue
        seen.add(name)
        secrets.append(_secret_of_variable(name, environ[name]))
    return secrets


def _matches_any(name: str, upper_globs: Iterable[str]) -> bool:
    upper = name.upper()
    return any(fnmatchcase(upper, g) for g in upper_globs)


def _secret_of_variable(name: str, value: str) -> Secret:
    if _is_regular_file(value):
        content = _read_file(value, what=f"file {value} named by variable {name}")
        return Secret(value=content, source=f"variable {name} (file {value})")
    return Secret(value=os.fsencode(value), source=f"variable {name}")


def _is_regular_file(value: str) -> bool:
    # Only absolute paths: a secret that happened to equal the name of a file in the working
    # directory would otherwise be swapped for that file's content and leak.
    if not value.startswith("/") or "\0" in value:
        return False
    try:
        return stat.S_ISREG(os.stat(value).st_mode)
    except (OSError, ValueError):
        return False


def _read_file(path: str, *, what: str) -> bytes:
    try:
        # os.open and os.read, not open(): a job passes up to thousands of secret files, and the
        # buffered file object costs twice the time (1,000 files: 4.3 ms instead of 8.5).
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        try:
            return _read_all(fd)
        finally:
            os.close(fd)
    except FileNotFoundError:
        raise SecretSourceError(f"{what} does not exist: check the path") from None
    except IsADirectoryError:
        raise SecretSourceError(
            f"{what} is a directory: pass the file that holds the secret"
        ) from None
    except PermissionError:
        raise SecretSourceError(
            f"cannot read {what}: permission denied; make it readable by the user running radar"
        ) from None
    except OSError as e:
        raise SecretSourceError(f"cannot read {what}: {e.strerror or e}") from None


def _read_all(fd: int) -> bytes:
    chunks = []
    while chunk := os.read(fd, 1 << 16):
        chunks.append(chunk)
    return b"".join(chunks)
