"""Findings -> formats: one module per report format, each exposing `render(findings, context) -> str`.

`text` (tab-separated lines; a rich table on a terminal), `json` (radar's own, stable schema),
`sarif` (SARIF 2.1.0 for code-scanning dashboards), `gitlab` (GitLab's secret-detection report),
`csv`, `markdown` and `html` (for people). Every format shows a redacted preview and a
fingerprint, never the secret. Adding a format is adding a module and its name below.
"""

from __future__ import annotations

import importlib
from typing import Callable, Sequence

from radar.report.context import ReportContext
from radar.scan.findings import Finding

FORMATS = ("text", "json")

Renderer = Callable[[Sequence[Finding], ReportContext], str]


def renderer(name: str) -> Renderer:
    if name not in FORMATS:
        raise ValueError(f"unknown report format {name!r}; choose one of {', '.join(FORMATS)}")
    return importlib.import_module(f"radar.report.{name}").render
