"""Scanned text in radar's one escaped form (`radar.report.printable`), and every report format fed
hostile text through `radar.report.renderer`, the boundary the CLI uses.

A file name may be any bytes but NUL (`\\xff\\xfe.env` is not UTF-8), and paths, variable keys,
GitLab project paths, names and commit authors may hold tabs, line breaks, terminal escape
sequences and bidirectional controls. Whatever they hold, every format writes valid output (JSON
that parses and follows its schema, SARIF and GitLab reports valid against theirs, CSV that parses
into one row per finding), encodable as UTF-8, and no such text can add a line, a column or an
escape sequence to the text, CSV, Markdown, HTML or terminal-table output.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import unicodedata
from datetime import datetime, timezone

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from rich.console import Console

from html_cells import FindingsCells
from radar.report import FORMATS, chunk_renderer, renderer
from radar.report.context import ReportContext
from radar.report.csv import COLUMNS, defuse
from radar.report.gitlab import code_span
from radar.report.json import SCHEMA_PATH
from radar.report.printable import printable, printable_fields
from radar.report.text import render_table
from radar.scan.findings import Finding, History, Location, Origin
from report_schemas import GITLAB_SCHEMA, SARIF_SCHEMA, validator

BIDI_CONTROLS = set("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def expected(raw: bytes | str) -> str:
    """The documented form, worked out independently of radar's code: bytes that are not UTF-8
    as Python's backslashreplace writes them, control characters (Unicode category Cc) as \\t, \\n,
    \\r or \\xNN, separators, surrogates and bidirectional controls as \\uNNNN, the rest as it is."""
    text = raw.decode("utf-8", "backslashreplace") if isinstance(raw, bytes) else raw
    out = []
    for char in text:
        category = unicodedata.category(char)
        if 0xDC80 <= ord(char) <= 0xDCFF:  # a string holds an undecodable byte so (PEP 383)
            out.append(f"\\x{ord(char) - 0xDC00:02x}")
        elif char in "\t\n\r":
            out.append({"\t": "\\t", "\n": "\\n", "\r": "\\r"}[char])
        elif category == "Cc":
            out.append(f"\\x{ord(char):02x}")
        elif category in ("Zl", "Zp", "Cs") or char in BIDI_CONTROLS:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(char)
    return "".join(out)


def assert_shows_nothing_raw(output: str, allowed: str = "\n") -> None:
    """No control character (but the format's own line ends), separator, bidirectional control or
    unencodable character in `output`; the failure names the character's code point only."""
    for char in output:
        if char in allowed:
            continue
        if unicodedata.category(char) in ("Cc", "Cs", "Zl", "Zp") or char in BIDI_CONTROLS:
            pytest.fail(f"U+{ord(char):04X} reached the output unescaped")
    output.encode("utf-8")  # strict: a lone surrogate would raise


# --- the escaped form ----------------------------------------------------------------------------

@pytest.mark.parametrize("raw, shown", [
    (b"\xff\xfe.env", "\\xff\\xfe.env"),
    (b"caf\xc3\xa9.env", "café.env"),
    (b"half \xc3.env", "half \\xc3.env"),
    (b"new\nline.env", "new\\nline.env"),
    (b"tab\there.env", "tab\\there.env"),
    (b"cr\r.env", "cr\\r.env"),
    (b"\x1b[31mred.env", "\\x1b[31mred.env"),
    (b"bell\x07.env", "bell\\x07.env"),
    (b"del\x7f.env", "del\\x7f.env"),
    ("c1\x85\x9b.env".encode(), "c1\\x85\\x9b.env"),
    ("line\u2028sep".encode(), "line\\u2028sep"),
    ("evil\u202egnp.env".encode(), "evil\\u202egnp.env"),
    ("isolate\u2066x\u2069".encode(), "isolate\\u2066x\\u2069"),
    (b"back\\slash and \\xff as text", "back\\slash and \\xff as text"),
    (b"plain/path.env", "plain/path.env"),
])
def test_the_escaped_form_of_file_names(raw, shown):
    assert printable(os.fsdecode(raw)) == shown


def test_a_lone_surrogate_that_is_not_an_undecodable_byte_is_shown_by_code_point():
    assert printable("json \ud800 \udfff") == "json \\ud800 \\udfff"


names = st.binary(min_size=1, max_size=40).filter(lambda b: b"\0" not in b)
any_text = st.text(st.characters(exclude_categories=()), max_size=40)


@settings(max_examples=500, deadline=None)
@given(names)
def test_any_file_name_is_shown_in_the_documented_form(raw):
    shown = printable(os.fsdecode(raw))
    assert shown == expected(raw)
    assert_shows_nothing_raw(shown, allowed="")


@settings(max_examples=500, deadline=None)
@given(any_text)
def test_any_text_is_shown_in_the_documented_form_and_escaping_twice_changes_nothing(text):
    shown = printable(text)
    assert shown == expected(text)
    assert printable(shown) == shown  # the JSON report radar plan reads back is not escaped again
    assert_shows_nothing_raw(shown, allowed="")


def test_unchanged_text_and_findings_are_the_same_objects():
    clean = _finding(path="app/.env")
    assert printable_fields(clean) is clean and printable(clean.path) is clean.path


# --- every format, hostile text in every field ---------------------------------------------------

MOMENT = datetime(2024, 3, 1, 12, 0, tzinfo=timezone.utc)
# Characters that mean something to a terminal, a table or a parser, drawn often.
_HOSTILE = "\t\n\r\x1b\x07\x00\x7f\x85\x9b\u2028\u2029\u202e\u2066|,\"'`<>&[]\\=+-@ "
hostile = st.text(st.one_of(st.sampled_from(_HOSTILE), st.characters(exclude_categories=())), max_size=24)
non_empty = hostile.filter(lambda s: s != "")
file_paths = st.one_of(non_empty, names.map(os.fsdecode))


def _finding(path: str, **changes) -> Finding:
    base = Finding(
        rule_id="gitlab-personal-access-token", secret_type="GitLab personal access token",
        description="GitLab personal access token", severity="critical", confidence="high", path=path,
        line=3, column=7, end_line=3, end_column=32, fingerprint="ab" * 32, preview="glpa…",
    )
    return Finding(**{**base.__dict__, **changes})


@st.composite
def findings(draw) -> Finding:
    commit = "c" * 40
    history = None
    origin = Origin(project=draw(st.none() | non_empty), group=draw(st.none() | non_empty),
                    variable_key=draw(st.none() | hostile), environment_scope=draw(st.none() | hostile))
    if draw(st.booleans()):
        locations = tuple(Location(draw(file_paths), draw(st.integers(1, 99)), commit, draw(hostile), draw(hostile))
                          for _ in range(draw(st.integers(1, 3))))
        history = History(draw(st.booleans()), locations)
        origin = Origin(commit=commit, author=draw(hostile), date=draw(hostile))
    ignored = draw(st.booleans())
    return _finding(
        path=draw(file_paths), name=draw(st.none() | non_empty), preview=draw(hostile),
        tags=tuple(draw(st.lists(non_empty, max_size=2))), ignored=ignored,
        ignore_reason=draw(non_empty) if ignored else None, origin=origin, history=history,
        remediation=draw(st.none() | non_empty),
    )


@st.composite
def contexts(draw) -> ReportContext:
    kind = draw(st.sampled_from(("directory", "history", "gitlab")))
    root = "https://gitlab.example.com" if kind == "gitlab" else "/nonexistent/" + draw(file_paths)
    return ReportContext(kind=kind, target=draw(file_paths), root=root, started=MOMENT, finished=MOMENT,
                         summary={"findings": 1}, warnings=tuple(draw(st.lists(non_empty, max_size=2))))


PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
EXAMPLE = ([_finding(path=os.fsdecode(b"\xff\xfe.env"), name="A\tB", preview="\x1b[2J",
                     origin=Origin(project="acme/\napp", variable_key="KEY\r\nX")),
            _finding(path=":smiley: [link=https://example.com]x[/link] [bold]", origin=Origin(group="a:m"))],
           ReportContext(kind="directory", target="t\x1b]0;title\x07", root="/tmp/\udcff", started=MOMENT,
                         finished=MOMENT, summary={"findings": 1}, warnings=("w\n\u202e",)))
cases = given(st.lists(findings(), min_size=1, max_size=4), contexts())


@pytest.fixture(scope="module")
def schemas():
    return {"json": validator(SCHEMA_PATH), "sarif": validator(SARIF_SCHEMA), "gitlab": validator(GITLAB_SCHEMA)}


def _label(f: Finding) -> str:
    owner = f.origin.project or f.origin.group
    return expected(f"{owner + ':' if owner else ''}{f.path}:{f.line}:{f.column}")


@PROPERTY
@example(*EXAMPLE)
@cases
def test_json_sarif_and_gitlab_reports_parse_and_follow_their_schemas(schemas, items, context):
    for name in ("json", "sarif", "gitlab"):
        output = renderer(name)(items, context)
        assert_shows_nothing_raw(output)
        schemas[name].validate(json.loads(output))
    document = json.loads(renderer("json")(items, context))
    assert [f["path"] for f in document["findings"]] == [expected(f.path) for f in items]
    gitlab = json.loads(renderer("gitlab")(items, context))
    for vulnerability, f in zip(gitlab["vulnerabilities"], items):
        owner = f.origin.project or f.origin.group
        assert vulnerability["location"]["file"] == expected(f"{owner}/{f.path}" if owner else f.path)


@PROPERTY
@example(*EXAMPLE)
@cases
def test_text_is_one_line_of_seven_tab_separated_fields_per_finding(items, context):
    output = renderer("text")(items, context)
    assert_shows_nothing_raw(output, allowed="\n\t")
    lines = output.split("\n")
    assert lines[-1] == "" and len(lines) == len(items) + 1
    for line, f in zip(lines, items):
        fields = line.split("\t")
        assert 6 <= len(fields) <= 7  # the notes column is left off when empty
        assert fields[0] == _label(f) and fields[1] == f.rule_id and fields[4] == expected(f.preview)


@PROPERTY
@example(*EXAMPLE)
@cases
def test_csv_parses_into_one_row_of_every_column_per_finding(items, context):
    output = renderer("csv")(items, context)
    assert_shows_nothing_raw(output, allowed="\r\n")
    assert output.count("\r\n") == len(items) + 1 and "\n" not in output.replace("\r\n", "")
    rows = list(csv.reader(io.StringIO(output, newline="")))
    assert len(rows) == len(items) + 1 and all(len(row) == len(COLUMNS) for row in rows)
    for row, f in zip(rows[1:], items):
        record = dict(zip(COLUMNS, row))
        assert record["path"] == defuse(expected(f.path))
        assert record["author"] == defuse(expected(f.origin.author or ""))


@PROPERTY
@example(*EXAMPLE)
@cases
def test_markdown_keeps_one_row_of_eight_cells_per_finding(items, context):
    output = renderer("markdown")(items, context)
    assert_shows_nothing_raw(output)
    lines = output.split("\n")
    start = lines.index("## Findings") + 2
    rows = [line for line in lines[start:] if line.startswith("|")]
    assert len(rows) == 2 + len(items)
    assert all(len(re.split(r"(?<!\\)\|", row)[1:-1]) == 8 for row in rows)


@PROPERTY
@example(*EXAMPLE)
@cases
def test_html_shows_each_location_escaped_in_its_own_row(items, context):
    output = renderer("html")(items, context)
    assert_shows_nothing_raw(output)
    parser = FindingsCells()
    parser.feed(output)
    parser.close()
    body = [row for row in parser.rows if row]
    assert [row[0] for row in body] == [_label(f) for f in items]


@PROPERTY
@example(*EXAMPLE)
@cases
def test_the_terminal_table_gets_no_escape_sequence_or_markup(items, context):
    out = io.StringIO()
    render_table(items, Console(file=out, width=4000), "title")  # wide enough that no cell is folded
    output = out.getvalue()
    assert_shows_nothing_raw(output)
    lines = output.splitlines()
    for f in items:  # a location is shown literally: its file a heading line, line:column in a row under it
        heading, position = _label(f).rsplit(":", 2)[0], f"{f.line}:{f.column}"
        assert heading in lines or heading.rstrip() in [line.rstrip() for line in lines]
        assert any(line.split()[:1] == [position] for line in lines)


@settings(max_examples=300, deadline=None)
@given(hostile)
def test_a_gitlab_description_code_span_cannot_be_closed_by_the_text_inside(text):
    span = code_span(expected(text))
    fence = re.match(r"`+", span).group()
    inner = span[len(fence):-len(fence)]
    assert span.endswith(fence) and not inner.startswith("`") and not inner.endswith("`")
    assert all(len(run) < len(fence) for run in re.findall(r"`+", inner))


@pytest.mark.parametrize("name", FORMATS)
def test_every_format_of_a_name_that_is_not_utf8_encodes(name):
    items, context = EXAMPLE
    renderer(name)(items, context).encode("utf-8")


@PROPERTY
@example(*EXAMPLE)
@cases
def test_every_format_in_pieces_is_the_same_text_as_whole(items, context):
    # Reports written to a file go out in pieces (`chunk_renderer`); the text must not differ.
    for name in FORMATS:
        pieces = list(chunk_renderer(name)(items, context))
        assert all(isinstance(piece, str) for piece in pieces)
        assert "".join(pieces) == renderer(name)(items, context)
    if items:  # json's pieces are per finding: one finding's text at a time, never the whole report
        assert len(list(chunk_renderer("json")(items, context))) > len(items)
