"""What `radar plan` accepts as its findings report: exactly what the published schema
(radar/report/findings.schema.json) accepts, checked by radar's own validator and compared here
with the jsonschema package on mutated reports; every report radar writes reads back to the same
findings; and a report nested too deeply to read is one error line.
"""

from __future__ import annotations

import copy
import json
from datetime import datetime, timezone

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from radar.plan.load import parse_report
from radar.report import renderer
from radar.report.context import ReportContext
from radar.report.json import SCHEMA_PATH
from radar.report.printable import printable_fields
from radar.report.schema import SchemaError, SchemaViolation, compile_schema
from radar.scan.findings import Finding, History, Location, Origin
from radar_cli import assert_one_line_error, clean_env, radar

SCHEMA = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
CHECK = compile_schema(SCHEMA)
REFERENCE = jsonschema.Draft202012Validator(SCHEMA)
DEEP = "[" * 100_000 + "]" * 100_000
ENV = clean_env(RADAR_FINGERPRINT_KEY="plan-input")
MOMENT = datetime(2024, 3, 1, 12, 0, tzinfo=timezone.utc)


# --- the validator ------------------------------------------------------------------------------

def test_every_keyword_of_radars_schema_is_known_to_the_validator():
    compile_schema(SCHEMA)  # raises SchemaError on a keyword it would otherwise ignore
    with pytest.raises(SchemaError, match="unsupported schema keyword"):
        compile_schema({"type": "object", "properties": {"a": {"type": "string", "maxLength": 3}}})
    with pytest.raises(SchemaError, match="unsupported \\$ref"):
        compile_schema({"$ref": "other.json#/x"})


def _violation(document: object) -> SchemaViolation | None:
    try:
        CHECK(document)
    except SchemaViolation as violation:
        return violation
    return None


def _finding(**fields) -> Finding:
    base = dict(rule_id="generic-password", secret_type="Password", description="Password", severity="high",
                confidence="high", path="app/.env", line=2, column=13, end_line=2, end_column=32,
                fingerprint="ab" * 32, preview="Vq3#…", name="DB_PASSWORD")
    return Finding(**{**base, **fields})


def _base_documents() -> list[dict]:
    """Reports of every kind of finding, as radar writes them."""
    commit = "c" * 40
    history = History(False, (Location("app/.env", 2, commit, "Dev <dev@example.com>", "2024-03-01"),))
    items = [
        _finding(),
        _finding(origin=Origin(commit=commit, author="Dev <dev@example.com>", date="2024-03-01", blob="b" * 40),
                 history=history, tags=("decoded:base64",)),
        _finding(rule_id="gitlab-variable-unmasked", path="variables/KEY[*]", ignored=True, ignore_reason="why",
                 origin=Origin(variable_key="KEY", environment_scope="*", project="g/app", project_id=7),
                 remediation="mask it"),
        _finding(fingerprint="", origin=Origin(group="g", namespace_id=3, variable_key="K")),
    ]
    context = ReportContext(kind="history", target="app", root="/work/app", started=MOMENT, finished=MOMENT,
                            summary={"findings": 4, "files": 3})
    return [json.loads(renderer("json")(items, context))]


BASES = _base_documents()
KEYS = sorted({*SCHEMA["$defs"]["finding"]["properties"], "findings", "summary", "scan", "kind", "path", "line"})
leaves = (st.none() | st.booleans() | st.integers(-3, 3) | st.floats(-2, 2, allow_nan=False) | st.text(max_size=4)
          | st.sampled_from(["critical", "low", "high", "directory", "ab" * 32, "c" * 40, "2024-03-01T12:00:00Z",
                             "2024-03-01T12:00:00Z\n", "Files\x1b"]))
values = st.recursive(leaves, lambda children: st.lists(children, max_size=3)
                      | st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=4), children, max_size=3),
                      max_leaves=6)


def _paths(node: object, prefix: tuple = ()) -> list[tuple]:
    found = [prefix]
    if isinstance(node, dict):
        for key, child in node.items():
            found += _paths(child, prefix + (key,))
    elif isinstance(node, list):
        for index, child in enumerate(node):
            found += _paths(child, prefix + (index,))
    return found


@st.composite
def mutated(draw) -> object:
    document = copy.deepcopy(draw(st.sampled_from(BASES)))
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(_paths(document)))
        if not path:
            return draw(values)
        parent = document
        for step in path[:-1]:
            parent = parent[step]
        action = draw(st.sampled_from(["replace", "delete", "add"]))
        if action == "replace" or (action == "delete" and isinstance(parent, list)):
            parent[path[-1]] = draw(values)
        elif action == "delete":
            del parent[path[-1]]
        elif isinstance(parent, dict):
            parent[draw(st.sampled_from(KEYS) | st.text(max_size=4))] = draw(values)
        else:
            parent.append(draw(values))
    return document


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_the_validator_accepts_what_jsonschema_accepts_and_names_one_of_its_errors(document):
    violation = _violation(document)
    errors = list(REFERENCE.iter_errors(document))
    assert (violation is None) == (not errors), f"ours: {violation}; jsonschema: {len(errors)} error(s)"
    if violation is not None:
        assert violation.path in [list(e.absolute_path) for e in errors]


def test_the_first_error_in_the_file_is_the_one_named():
    document = copy.deepcopy(BASES[0])
    document["findings"][1]["line"] = -5
    document["findings"][3]["severity"] = "apocalyptic"
    assert str(_violation(document)) == "findings[1].line must be at least 1"


def test_no_value_of_the_document_is_quoted():
    document = copy.deepcopy(BASES[0])
    document["findings"][0]["severity"] = "glpat-looks-like-a-token"
    document["findings"][0]["AKIAIOSFODNN7EXAMPLE"] = 1
    assert "glpat" not in str(_violation(document))
    del document["findings"][0]["severity"]
    document["findings"][0]["severity"] = "high"
    assert str(_violation(document)) == "findings[0] has an unexpected key (not shown: it is not a field name)"


# --- every report radar writes reads back --------------------------------------------------------

hostile = st.text(st.characters(exclude_categories=()), max_size=12)
present = hostile.filter(bool)  # empty names and reasons are left out of the JSON, like absent ones


@st.composite
def findings(draw) -> Finding:
    commit = draw(st.text("0123456789abcdef", min_size=40, max_size=40))
    line = draw(st.integers(1, 10**6))
    history, origin = None, Origin(project=draw(st.none() | hostile), project_id=draw(st.none() | st.integers(1, 99)),
                                   variable_key=draw(st.none() | hostile), environment_scope=draw(st.none() | hostile))
    if origin.project_id is not None and origin.project is None:
        origin = Origin(project="g/app", project_id=origin.project_id)
    if draw(st.booleans()):
        origin = Origin(commit=commit, author=draw(hostile), date=draw(hostile))
        history = History(draw(st.booleans()), tuple(
            Location(draw(hostile), draw(st.integers(1, 99)), commit, draw(hostile), draw(hostile))
            for _ in range(draw(st.integers(1, 3)))))
    ignored = draw(st.booleans())
    return _finding(path=draw(hostile), line=line, end_line=line, name=draw(st.none() | present),
                    severity=draw(st.sampled_from(["critical", "high", "medium", "low"])),
                    confidence=draw(st.sampled_from(["high", "medium", "low"])), preview=draw(hostile),
                    tags=tuple(draw(st.lists(hostile, max_size=2))), ignored=ignored,
                    ignore_reason=draw(present) if ignored else None, origin=origin, history=history,
                    remediation=draw(st.none() | present))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(findings(), max_size=4), st.sampled_from(["directory", "history", "gitlab"]), hostile)
def test_every_json_report_reads_back_to_its_printable_findings(items, kind, target):
    context = ReportContext(kind=kind, target=target, root="/r", started=MOMENT, finished=MOMENT,
                            summary={"findings": len(items)})
    report = parse_report(renderer("json")(items, context))
    assert report.findings == tuple(printable_fields(f) for f in items)
    assert (report.scan.kind, report.scan.target) == (kind, printable_fields(target))


# --- deep nesting ------------------------------------------------------------------------------

def test_a_deeply_nested_findings_report_is_one_error_line(tmp_path):
    (tmp_path / "deep.json").write_text('{"findings": ' + DEEP + "}")
    result = radar("plan", tmp_path / "deep.json", env=ENV)
    assert result.returncode == 2
    assert "arrays and objects nested too deeply" in assert_one_line_error(result)
