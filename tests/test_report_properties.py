"""Property tests: whatever text a finding carries (paths, names, descriptions, rule ids with `|`,
`<`, `"`, line breaks, `=` prefixes, any Unicode), every format keeps its shape: the Markdown
table its rows and columns, the HTML page its tags with the text shown literally, the CSV its
round trip, SARIF its schema and relative URIs, the GitLab report its schema, JSON its values.
"""

from __future__ import annotations

import csv
import html
import io
import json
import re
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import unquote, urlsplit

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from html_cells import FindingsCells
from radar.report import csv as csv_report
from radar.report import gitlab, html as html_report, json as json_report, markdown, sarif
from radar.report.context import ReportContext
from radar.report.text import location_label
from radar.scan.findings import Finding, History, Location, Origin
from report_schemas import GITLAB_SCHEMA

REPO_ROOT = Path(__file__).resolve().parents[1]
SARIF_SCHEMA = REPO_ROOT / ".tools" / "node_modules" / "@microsoft" / "sarif-multitool-linux" / "sarif-2.1.0.json"

# Any character a file name, a variable name or a description can hold (NUL cannot be in a path),
# with the ones that have meaning in some format drawn often.
_TRICKY = "|<>&\"'`\\*_[]~=+-@\t\r\n#!{}%:;,/ \u2028\x85\x1b"
text = st.text(alphabet=st.one_of(st.sampled_from(_TRICKY),
                                  st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00")),
               max_size=30)
non_empty = text.filter(lambda s: s.strip() != "")
SEVERITIES = ("critical", "high", "medium", "low")


@st.composite
def findings(draw) -> Finding:
    line = draw(st.integers(1, 10_000))
    column = draw(st.integers(1, 500))
    history = None
    origin = Origin(project=draw(st.none() | non_empty), variable_key=draw(st.none() | text))
    if draw(st.booleans()):
        commit = draw(st.text("0123456789abcdef", min_size=40, max_size=40))
        locations = tuple(Location(draw(non_empty), draw(st.integers(1, 999)), commit, draw(text), "2024-03-01")
                          for _ in range(draw(st.integers(1, 3))))
        history = History(draw(st.booleans()), locations)
        origin = Origin(commit=commit, author=draw(text), date="2024-03-01T12:00:00+00:00")
    ignored = draw(st.booleans())
    return Finding(
        rule_id=draw(st.sampled_from(["gitlab-personal-access-token", "generic-password"]) | non_empty),
        secret_type=draw(non_empty), description=draw(non_empty), severity=draw(st.sampled_from(SEVERITIES)),
        confidence=draw(st.sampled_from(("high", "medium", "low"))), path=draw(non_empty),
        line=line, column=column, end_line=line + draw(st.integers(0, 3)), end_column=draw(st.integers(1, 500)),
        fingerprint=draw(st.text("0123456789abcdef", min_size=64, max_size=64)), preview=draw(text),
        tags=tuple(draw(st.lists(non_empty, max_size=3))), ignored=ignored,
        ignore_reason=draw(non_empty) if ignored else None, origin=origin, history=history,
        name=draw(st.none() | non_empty), remediation=draw(st.none() | non_empty),
    )


@st.composite
def contexts(draw) -> ReportContext:
    kind = draw(st.sampled_from(("directory", "history", "gitlab")))
    root = "https://gitlab.example.com" if kind == "gitlab" else "/nonexistent/" + draw(text).replace("\x00", "")
    moment = datetime(2024, 3, 1, 12, 0, tzinfo=timezone.utc)
    return ReportContext(kind=kind, target=draw(non_empty), root=root, started=moment, finished=moment,
                         summary={"findings": draw(st.integers(0, 9))}, warnings=tuple(draw(st.lists(non_empty, max_size=2))))


PROPERTY = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
cases = given(st.lists(findings(), max_size=5), contexts())


def _validator(path: Path) -> jsonschema.protocols.Validator:
    if not path.is_file():
        pytest.fail(f"{path} is missing: run `make test`", pytrace=False)
    schema = json.loads(path.read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


@pytest.fixture(scope="module")
def gitlab_schema():
    return _validator(GITLAB_SCHEMA)


@pytest.fixture(scope="module")
def sarif_schema():
    return _validator(SARIF_SCHEMA)


@pytest.fixture(scope="module")
def findings_schema():
    return _validator(json_report.SCHEMA_PATH)


# --- Markdown ------------------------------------------------------------------------------------

def _markdown_rows(document: str) -> list[list[str]]:
    lines = document.split("\n")  # Markdown ends lines only at LF and CR
    start = lines.index("## Findings")
    rows = []
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        assert "\r" not in line
        rows.append(re.split(r"(?<!\\)\|", line)[1:-1])
    return rows


def _shown(cell: str) -> str:
    """What a Markdown renderer shows for a cell: backslash escapes and entities resolved."""
    return html.unescape(re.sub(r"\\(.)", r"\1", cell.strip()))


@PROPERTY
@cases
def test_markdown_table_keeps_its_shape_and_shows_text_literally(items, context):
    document = markdown.render(items, context)
    if not items:
        assert "## Findings\n\nNo findings.\n" in document
        return
    rows = _markdown_rows(document)
    assert len(rows) == 2 + len(items)
    assert all(len(row) == len(markdown.FINDING_COLUMNS) for row in rows)
    for row, f in zip(rows[2:], items):
        expected = re.sub(r"[\r\n\u2028\u2029\x0b\x0c\x85]+", " ", location_label(f)).strip()
        assert _shown(row[1]) == expected
        assert "<" not in row[1] and ">" not in row[1]


# --- HTML ----------------------------------------------------------------------------------------

_ALLOWED_TAGS = {"html", "head", "meta", "title", "style", "body", "h1", "h2", "dl", "dt", "dd", "p", "strong",
                 "svg", "desc", "g", "rect", "text", "table", "caption", "thead", "tbody", "tr", "th", "td",
                 "span", "code", "footer"}


@PROPERTY
@cases
def test_html_escapes_every_field(items, context):
    parser = FindingsCells()
    parser.feed(html_report.render(items, context))
    parser.close()
    assert parser.tags <= _ALLOWED_TAGS
    body_rows = [row for row in parser.rows if row]  # the header row has <th>, not <td>
    assert len(body_rows) == len(items)
    for row, f in zip(body_rows, items):
        assert row[0] == location_label(f) and row[1] == f.rule_id and row[5] == f.preview


# --- CSV -----------------------------------------------------------------------------------------

@PROPERTY
@cases
def test_csv_round_trips_with_formula_cells_defused(items, context):
    document = csv_report.render(items, context)
    rows = list(csv.reader(io.StringIO(document, newline="")))
    assert tuple(rows[0]) == csv_report.COLUMNS and len(rows) == 1 + len(items)
    for row, f in zip(rows[1:], items):
        record = dict(zip(csv_report.COLUMNS, row))
        for column, value in (("path", f.path), ("description", f.description), ("rule_id", f.rule_id),
                              ("preview", f.preview), ("name", f.name or "")):
            assert record[column] == csv_report.defuse(value)
            assert not record[column].startswith(("=", "+", "-", "@", "\t", "\r"))
        assert int(record["line"]) == f.line


# --- SARIF, GitLab, JSON -------------------------------------------------------------------------

@PROPERTY
@cases
def test_sarif_is_schema_valid_with_relative_uris(sarif_schema, items, context):
    document = json.loads(sarif.render(items, context))
    sarif_schema.validate(document)
    run = document["runs"][0]
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"].endswith("/")
    for result, f in zip(run["results"], sarif.select(items, context).kept):
        uri = result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        assert urlsplit(uri).scheme == "" and not uri.startswith("/")
        owner = f.origin.project or f.origin.group
        expected = (f"{owner}/{f.path}" if owner else f.path).lstrip("/")
        # "./" may stand before the path (it keeps a "a:b" segment from reading as a scheme), and a
        # path that itself starts with "./" keeps its own.
        assert unquote(uri) in (expected, "./" + expected)
        region = result["locations"][0]["physicalLocation"]["region"]
        assert region["startLine"] >= 1 and region["endLine"] >= region["startLine"]
        if region["endLine"] == region["startLine"]:
            assert region["endColumn"] > region["startColumn"]


@PROPERTY
@cases
def test_gitlab_report_is_schema_valid(gitlab_schema, items, context):
    document = json.loads(gitlab.render(items, context))
    gitlab_schema.validate(document)
    assert all(v["location"]["commit"]["sha"] for v in document["vulnerabilities"])


@PROPERTY
@cases
def test_json_round_trips(items, context):
    document = json.loads(json_report.render(items, context))
    assert document["findings"] == [json.loads(json.dumps(f.as_dict())) for f in items]


@PROPERTY
@cases
def test_json_is_byte_for_byte_what_dumping_the_whole_document_gives(items, context):
    # render() builds the text one finding at a time to save memory; it must not change a byte.
    document = {"findings": [f.as_dict() for f in items], "summary": dict(context.summary), "scan": context.as_dict()}
    assert json_report.render(items, context) == json.dumps(document, indent=2, ensure_ascii=False) + "\n"


@PROPERTY
@cases
def test_json_follows_its_published_schema(findings_schema, items, context):
    findings_schema.validate(json.loads(json_report.render(items, context)))
