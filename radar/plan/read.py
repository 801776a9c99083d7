"""Reading a migration plan back (`radar plan --format json`) for the checks after the migration.

`radar scan ... --migrated PLAN.json` needs three things from the plan, and reads only those:

- the values it moved (`entries[]`: fingerprint, Vault mount, path, field, `path/field@mount`);
- the CI/CD variables it moved (the entries' places that name a `variable_key`: owner, key,
  environment scope);
- the `secrets:` stanzas that replace them (`targets[]`: project, `ci_template`, and per secret
  the CI variable name, `vault` and `file`), to show in the remediation.

The plan is user input like any file: at most MAX_BYTES, parsed by `radar.json_input.loads`
(deep nesting is an error, not a crash), and checked against a schema of just those fields with
radar's own validator (`radar.report.schema`), which names the first offending place and never
the value found there. Other keys are allowed: the plan has many this reader does not need.

The plan must name its fingerprint key (`plan.fingerprint_key_id`): fingerprints compare only
under one key, so `check_key` refuses a plan made under another key (or naming none), rather
than finding nothing because no fingerprint can match.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from typing import Callable, Iterable, TypeVar

from radar import json_input
from radar.errors import RadarError
from radar.report.schema import Check, SchemaViolation, compile_schema
from radar.scan.findings import KEY_ENVIRONMENT, KEY_ID_LENGTH, FingerprintKey

T = TypeVar("T")

# A plan of 100,000 values is about 150 MB of JSON; json.loads holds several times that.
MAX_BYTES = 256 * 1024 * 1024
_HOW = "make it with: radar plan FINDINGS.json --format json --output PLAN.json"

_STRING = {"type": "string"}
_NAME = {"type": "string", "minLength": 1}
SCHEMA: dict = {
    "type": "object",
    "required": ["plan", "entries", "targets"],
    "properties": {
        "plan": {"type": "object", "required": ["fingerprint_key_id"], "properties": {
            "fingerprint_key_id": {"type": ["string", "null"], "pattern": f"^[0-9a-f]{{{KEY_ID_LENGTH}}}$"}}},
        "entries": {"type": "array", "items": {"$ref": "#/$defs/entry"}},
        "targets": {"type": "array", "items": {"$ref": "#/$defs/target"}},
    },
    "$defs": {
        "entry": {"type": "object", "required": ["fingerprint", "mount", "path", "field", "vault", "file", "places"],
                  "properties": {
                      # Empty for a hidden variable, whose value GitLab never returned.
                      "fingerprint": {"type": "string", "pattern": "^([0-9a-f]{64})?$"},
                      "mount": _NAME, "path": _NAME, "field": _NAME, "vault": _NAME, "file": {"type": "boolean"},
                      "places": {"type": "array", "items": {"$ref": "#/$defs/place"}},
                  }},
        "place": {"type": "object", "required": ["path", "line", "project"], "properties": {
            "path": _STRING, "line": {"type": "integer"}, "project": _STRING,
            "variable_key": _NAME, "environment_scope": _NAME}},
        "target": {"type": "object", "required": ["project", "ci_template", "secrets"], "properties": {
            "project": _STRING, "ci_template": _STRING,
            "secrets": {"type": "array", "items": {"type": "object", "required": ["variable", "vault", "file"],
                                                   "properties": {"variable": _NAME, "vault": _NAME,
                                                                  "file": {"type": "boolean"}}}},
        }},
    },
}


class MigrationPlanError(RadarError):
    """The --migrated file is not a migration plan radar can check against, or is for another key."""


@dataclass(frozen=True)
class MovedValue:
    """One value the plan moved: its fingerprint ("" for a hidden variable) and Vault location."""

    fingerprint: str
    mount: str
    path: str
    field: str
    vault: str  # GitLab's short form, path/field@mount
    file: bool

    @property
    def location(self) -> str:
        return f"{self.mount}/{self.path} field {self.field}"


@dataclass(frozen=True)
class MovedVariable:
    """A CI/CD variable the plan moved: its owner (project or group path, or `instance`), key and scope."""

    owner: str
    key: str
    environment_scope: str
    value: MovedValue


@dataclass(frozen=True)
class StanzaSecret:
    """One `secrets:` entry of the plan's CI stanza for `project`: variable name and Vault value."""

    project: str
    template: str  # the hidden job radar's stanza defines, e.g. `.vault-acme-api-production`
    variable: str
    vault: str
    file: bool


@dataclass(frozen=True)
class Migration:
    name: str  # the file, for messages
    key_id: str | None
    values: tuple[MovedValue, ...]
    variables: tuple[MovedVariable, ...]
    secrets: tuple[StanzaSecret, ...]

    @functools.cached_property
    def by_fingerprint(self) -> dict[str, MovedValue]:
        return {v.fingerprint: v for v in self.values if v.fingerprint}

    @functools.cached_property
    def variables_by_owner(self) -> dict[str, tuple[MovedVariable, ...]]:
        return _grouped(self.variables, lambda v: v.owner)

    @functools.cached_property
    def secrets_by_vault(self) -> dict[str, tuple[StanzaSecret, ...]]:
        """The stanzas' entries for each Vault value (`path/field@mount`), in the plan's order."""
        return _grouped(self.secrets, lambda s: s.vault)


def _grouped(items: Iterable[T], key: Callable[[T], str]) -> dict[str, tuple[T, ...]]:
    """`items` by `key`, each group in the items' order (the plan's)."""
    groups: dict[str, list[T]] = {}
    for item in items:
        groups.setdefault(key(item), []).append(item)
    return {k: tuple(found) for k, found in groups.items()}


def read_migration(path: str) -> Migration:
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_BYTES + 1)
    except FileNotFoundError:
        raise MigrationPlanError(f"--migrated {path}: no such file; {_HOW}") from None
    except IsADirectoryError:
        raise MigrationPlanError(f"--migrated {path}: is a directory, not a plan; {_HOW}") from None
    except OSError as e:
        raise MigrationPlanError(f"--migrated {path}: cannot read it: {e.strerror or e}") from None
    if len(data) > MAX_BYTES:
        raise MigrationPlanError(f"--migrated {path}: larger than {MAX_BYTES // (1024 * 1024)} MiB, "
                                 f"not a plan radar wrote; {_HOW}")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise MigrationPlanError(f"--migrated {path}: not UTF-8 text (byte {e.start + 1}), "
                                 f"so not a JSON plan; {_HOW}") from None
    return parse_migration(text, path)


def parse_migration(text: str, name: str = "<plan>") -> Migration:
    try:
        document = json_input.loads(text)
    except json_input.JSONNestingError as e:
        raise MigrationPlanError(f"--migrated {name}: not a plan radar can read: {e}; {_HOW}") from None
    except json.JSONDecodeError as e:
        # e.msg and the position only: the document could quote anything.
        raise MigrationPlanError(f"--migrated {name}: not JSON ({e.msg} at line {e.lineno} column {e.colno}); "
                                 f"{_HOW}") from None
    try:
        _schema()(document)
    except SchemaViolation as violation:
        raise MigrationPlanError(f"--migrated {name}: not a radar migration plan: {violation}; {_HOW}") from None
    values, variables = [], []
    for entry in document["entries"]:
        value = MovedValue(entry["fingerprint"], entry["mount"], entry["path"], entry["field"], entry["vault"],
                           entry["file"])
        values.append(value)
        for place in entry["places"]:
            if "variable_key" in place:
                variables.append(MovedVariable(place["project"], place["variable_key"],
                                               place.get("environment_scope", "*"), value))
    secrets = tuple(StanzaSecret(t["project"], t["ci_template"], s["variable"], s["vault"], s["file"])
                    for t in document["targets"] for s in t["secrets"])
    return Migration(name, document["plan"]["fingerprint_key_id"], tuple(values), tuple(variables), secrets)


def check_key(migration: Migration, key: FingerprintKey) -> None:
    """Refuse a plan whose fingerprints were made under another key: none of them could match."""
    if migration.key_id is None:
        raise MigrationPlanError(
            f"--migrated {migration.name}: the plan does not name its fingerprint key (made from a report of an "
            f"older radar); scan again, then {_HOW}")
    if migration.key_id != key.key_id:
        raise MigrationPlanError(
            f"--migrated {migration.name} was made with fingerprint key id {migration.key_id}; this run uses "
            f"{key.key_id} (from {key.source}): set {KEY_ENVIRONMENT} to the key that made it")


@functools.cache
def _schema() -> Check:
    return compile_schema(SCHEMA)
