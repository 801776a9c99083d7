"""Which deployment environment a finding belongs to.

In order: a mapping rule's `environment`; GitLab's `environment_scope` of the variable (except
`*`, which means every environment); a word in the path (`config/production.yml`,
`.env.staging`, `deploy/prod/`, `k8s/stg-values.yaml`), which is marked as inferred; else
`shared`. Words found in the path are normalised (`prod`, `prd`, `live` -> `production`;
`stage`, `stg` -> `staging`; `dev` -> `development`); when several appear, the last one wins,
since the file name is more specific than its directories (`deploy/prod/staging.env` is
staging).
"""

from __future__ import annotations

import re

from radar.plan.model import SHARED

_WORDS = {
    "production": "production", "prod": "production", "prd": "production", "live": "production",
    "staging": "staging", "stage": "staging", "stg": "staging",
    "development": "development", "dev": "development",
    "qa": "qa", "uat": "uat", "preprod": "preprod", "preproduction": "preprod",
    "sandbox": "sandbox",
}
_SPLIT = re.compile(r"[/\\._\-\s]+")


def from_path(path: str) -> str | None:
    """The environment a path names, normalised, or None."""
    found = [_WORDS[w] for w in _SPLIT.split(path.lower()) if w in _WORDS]
    return found[-1] if found else None


def from_scope(scope: str | None) -> str | None:
    """GitLab's environment scope, unless it is empty or `*` (all environments)."""
    if scope is None or scope.strip() in ("", "*"):
        return None
    return scope.strip()


def environment_of(path: str, scope: str | None, ruled: str | None) -> tuple[str, str]:
    """(environment, source): source is `mapping`, `gitlab`, `path` (inferred) or `none`."""
    if ruled:
        return ruled, "mapping"
    scoped = from_scope(scope)
    if scoped:
        return scoped, "gitlab"
    inferred = from_path(path)
    if inferred:
        return inferred, "path"
    return SHARED, "none"
