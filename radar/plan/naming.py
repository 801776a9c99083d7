"""Names the plan invents: Vault path segments, field names, CI/CD variable names, role names.

Everything that came from a scan (project paths, variable keys, environment names, file names)
is reduced to characters that are safe everywhere the name ends up:

- a Vault path segment or role/policy name: `[A-Za-z0-9_.-]`, not `.` or `..`; a policy path
  must not contain the glob characters `*` and `+`, a `secrets:` short form must not contain
  `@`, and `radar exec` expands `$` in it, so none of those survive;
- a field: lower-case `[a-z0-9_]` (what `vault kv put field=...` and the short form accept);
- a CI/CD variable: upper-case `[A-Z_][A-Z0-9_]*` (what GitLab and `radar exec` accept).

Other characters become `-` (paths) or `_` (fields, variables); runs collapse, and an empty
result falls back to a stated default. `unique()` resolves collisions deterministically: the
first claimant keeps the name, the next get `_2`, `_3`, ... in the order given.
"""

from __future__ import annotations

import re
from typing import Iterable

_UNSAFE_SEGMENT = re.compile(r"[^A-Za-z0-9_.-]+")
_UNSAFE_FIELD = re.compile(r"[^a-z0-9_]+")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
MAX_NAME = 64


def segment(text: str, default: str = "x") -> str:
    """One safe Vault path segment (`*` reads `all`, so `review/*` stays distinct from `review`)."""
    cleaned = _UNSAFE_SEGMENT.sub("-", text.replace("*", "all")).strip("-.")
    cleaned = re.sub(r"-{2,}", "-", cleaned)[:MAX_NAME].strip("-.")
    return cleaned or default


def path(text: str, default: str = "x") -> str:
    """A `/`-separated path of safe segments (a GitLab project path keeps its groups)."""
    parts = [segment(p) for p in text.split("/") if p.strip() and p.strip(" .")]
    return "/".join(parts) or default


def field_name(text: str, default: str = "value", *, split_camel: bool = True) -> str:
    """`apiKey` -> `api_key`; a secret type (`GitHub token`) keeps its words whole: `github_token`."""
    words = _CAMEL.sub("_", text.strip()) if split_camel else text.strip()
    cleaned = _UNSAFE_FIELD.sub("_", words.lower()).strip("_")
    cleaned = re.sub(r"_{2,}", "_", cleaned)[:MAX_NAME].strip("_")
    if cleaned and cleaned[0].isdigit():
        cleaned = "v_" + cleaned
    return cleaned or default


def variable_name(field: str) -> str:
    """The CI/CD variable for a field: `database_password` -> `DATABASE_PASSWORD`."""
    name = field_name(field).upper()
    return name if not name[0].isdigit() else "V_" + name


def role_name(project: str, environment: str) -> str:
    """`mygroup/app`, `production` -> `mygroup-app-production` (also the policy's name)."""
    return segment(f"{path(project).replace('/', '-')}-{segment(environment)}")[:128]


def unique(names: Iterable[str]) -> list[str]:
    """The names, with later duplicates suffixed `_2`, `_3`, ... (never colliding with another name)."""
    wanted = list(names)
    taken: set[str] = set()
    result = []
    for name in wanted:
        candidate, n = name, 1
        while candidate in taken:
            n += 1
            candidate = f"{name}_{n}"
        taken.add(candidate)
        result.append(candidate)
    return result
