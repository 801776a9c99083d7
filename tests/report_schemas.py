"""The published report schemas the tests validate against: GitLab's, kept in tests/schemas/
(sources in its README), and SARIF's, which ships with Sarif.Multitool (installed by `make test`)."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

SCHEMAS = Path(__file__).resolve().with_name("schemas")
GITLAB_SCHEMA = SCHEMAS / "secret-detection-report-format-15.2.1.json"
SARIF_SCHEMA = (Path(__file__).resolve().parents[1] / ".tools" / "node_modules" / "@microsoft"
                / "sarif-multitool-linux" / "sarif-2.1.0.json")


def validator(path: Path) -> jsonschema.protocols.Validator:
    """A validator for the schema at `path` (its own draft, with format checks)."""
    if not path.is_file():
        pytest.fail(f"{path} is missing: run `make test`", pytrace=False)
    schema = json.loads(path.read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)
