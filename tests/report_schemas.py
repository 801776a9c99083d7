"""Where the tests find the published report schemas kept in tests/schemas/ (sources in its README)."""

from __future__ import annotations

from pathlib import Path

SCHEMAS = Path(__file__).resolve().with_name("schemas")
GITLAB_SCHEMA = SCHEMAS / "secret-detection-report-format-15.2.1.json"
