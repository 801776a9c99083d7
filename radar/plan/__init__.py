"""`radar plan`: turn scan findings into a Vault migration plan.

load (radar's JSON report) -> mapping (TOML rules and defaults) -> build (entries, targets) ->
vault (policy HCL, JWT role) and ci (`.gitlab-ci.yml` stanza) -> setup (the Vault and GitLab
side the roles need) -> renderers (`json`, `markdown`, `html`) and artifacts (`--output-dir`:
the files and `apply.sh`). A plan never contains a secret value, only fingerprints and places.
"""

from __future__ import annotations

import importlib

from radar.errors import RadarError
from radar.plan.model import Plan

FORMATS = ("markdown", "html", "json")
_SUFFIXES = {".md": "markdown", ".markdown": "markdown", ".html": "html", ".htm": "html", ".json": "json"}
PLAN_SUFFIXES = tuple(_SUFFIXES)


def render(plan: Plan, format: str, *, files: bool = False) -> str:
    """The plan in `format`; `files`: its commands name the files `--output-dir` wrote (paths
    relative to that directory) rather than carrying their content inline."""
    if format not in FORMATS:
        raise RadarError(f"unknown plan format {format!r}; choose one of {', '.join(FORMATS)}")
    return importlib.import_module(f"radar.plan.{format}").render(plan, files=files)


def format_for(path: str) -> str:
    """The format a `--plan FILE` asks for, by its suffix."""
    for suffix, name in _SUFFIXES.items():
        if path.lower().endswith(suffix):
            return name
    raise RadarError(f"--plan {path}: cannot tell the format from the name; end it with .md, .html or .json")
