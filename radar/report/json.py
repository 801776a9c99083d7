"""The JSON report: `{"findings": [...], "summary": {...}, "scan": {...}}`, stable keys, never a secret.

Each finding is `Finding.as_dict()`: rule_id, secret_type, description, path (relative to the
scanned root, `/`-separated), line/column and end_line/end_column (1-based), severity,
confidence, fingerprint, preview, tags, ignored (and ignore_reason), name (the variable or key
the value is assigned to, when known), plus origin fields (commit, author, date, variable_key,
project, project_id, group, namespace_id, environment_scope, ...) when a source provides them. A
`--history` finding adds `first_seen` ({commit, author, date}), `in_head` and `locations` (path,
line, commit, author, date), see `radar.scan.history`. With `--vault-index`, a finding whose value
Vault holds adds `in_vault` (namespace, mount, path, field, version, latest per place; see
`radar.scan.vault_index`). `summary` holds the totals (findings,
files, bytes, ...); `scan` says what was scanned (kind, target, root, started, finished,
radar_version, fingerprint_key_id). A sharded GitLab scan (`--shard I/N`) adds `shard`: which
shard of which scan it is, its warnings, what it could not read, and the CI/CD variables holding
credentials (flags and fingerprints), for `radar report merge`. `radar monitor` adds `monitor`:
new, known (counts), resolved (the state entries no longer found: rule_id, fingerprint,
secret_type, path, severity, first_seen), and first_run when there was no state. `radar plan`
reads this document back. The schema, JSON Schema 2020-12, ships
beside this module as `findings.schema.json` (`SCHEMA_PATH`); tests validate every kind of scan
against it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Iterator, Sequence

from radar.report.context import ReportContext
from radar.scan.findings import Finding

if TYPE_CHECKING:
    from radar.scan.shard import ShardReport
    from radar.scan.sources.gitlab import VariableRecord

SCHEMA_PATH = Path(__file__).with_name("findings.schema.json")


def render(findings: Sequence[Finding], context: ReportContext) -> str:
    return "".join(render_chunks(findings, context))


def render_chunks(findings: Iterable[Finding], context: ReportContext) -> Iterator[str]:
    """The document `json.dumps(..., indent=2)` would give, one finding at a time.

    Dumping the whole document at once holds every finding's dict and the encoder's many small
    string pieces at the same time: ~60 MB at its peak for a 7 MB report of 8,000 findings
    (benchmarks/scan_gitlab.py). Written through `write_file` chunk by chunk, no more than one
    finding's text is held at once: a 36 MB report held whole took ~160 MB more at its peak
    (as one string, stored 2 bytes a character when a preview holds '…', then its UTF-8 copy).
    """
    yield "{\n  \"findings\": ["
    first = True
    for f in findings:
        yield "\n" if first else ",\n"
        first = False
        yield _indented(f.as_dict(), "    ")
    if not first:
        yield "\n  "
    yield "],\n  \"summary\": " + _indented(dict(context.summary), "  ", first=False)
    yield ",\n  \"scan\": " + _indented(context.as_dict(), "  ", first=False)
    if context.monitor is not None:
        yield ",\n  \"monitor\": " + _indented(dict(context.monitor), "  ", first=False)
    if context.shard is not None:
        yield ",\n  \"shard\": " + _indented(shard_dict(context.shard, context.warnings), "  ", first=False)
    yield "\n}\n"


def shard_dict(shard: ShardReport, warnings: Sequence[str]) -> dict:
    scope = shard.scope
    return {
        "index": shard.shard.index, "total": shard.shard.total,
        "scope": {"groups": list(scope.groups), "projects": list(scope.projects), "instance": scope.instance,
                  "include_subgroups": scope.include_subgroups, "skip_archived": scope.skip_archived},
        "warnings": list(warnings),
        "unreadable": dict(shard.unreadable),
        "credentials": [_credential(r) for r in shard.credentials],
    }


def _credential(r: VariableRecord) -> dict:
    data: dict = {"owner_kind": r.owner_kind, "owner": r.owner}
    if r.owner_id is not None:
        data["owner_id"] = r.owner_id
    data.update({"key": r.key, "environment_scope": r.environment_scope, "variable_type": r.variable_type,
                 "protected": r.protected, "masked": r.masked, "hidden": r.hidden,
                 "fingerprint": r.fingerprint, "preview": r.preview})
    return data


def _indented(value: dict, margin: str, first: bool = True) -> str:
    text = json.dumps(value, indent=2, ensure_ascii=False).replace("\n", "\n" + margin)
    return margin + text if first else text
