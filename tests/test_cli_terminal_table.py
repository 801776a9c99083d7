"""The findings table on a terminal (`radar.report.text.render_table`), drawn by rich's Console at
60, 80, 120 and 200 columns, with and without colour: grouped under each file's full location,
line and rule never wrapped, nothing wider than the terminal but a long file heading, the
fingerprint only where there is room, and scanned text still escaped."""

from __future__ import annotations

import dataclasses
import io
import re

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from rich.cells import cell_len
from rich.console import Console

from radar.report.text import render_table
from radar.scan.findings import Finding, Origin
from radar.scan.rules import load_default_rules
from test_report_printable import EXAMPLE, _finding, assert_shows_nothing_raw, expected, findings

WIDTHS = (60, 80, 120, 200)
SGR = re.compile(r"\x1b\[[0-9;]*m")  # rich's colours; any other escape sequence is a failure
RULE_IDS = sorted(rule.id for rule in load_default_rules().rules)
LONGEST_RULE = max(RULE_IDS, key=len)


def draw(items: list[Finding], width: int, terminal: bool = False, summary: str = "2 finding(s) in 2 file(s)") -> str:
    out = io.StringIO()
    console = Console(file=out, width=width, force_terminal=terminal, color_system="standard" if terminal else None)
    render_table(items, console, summary)
    return out.getvalue()


def heading(f: Finding) -> str:
    owner = f.origin.project or f.origin.group
    return expected(f"{owner + ':' if owner else ''}{f.path}")


def assert_table_of(items: list[Finding], output: str, width: int) -> None:
    """Each finding's full location is its file's heading line plus a row under it that starts with
    `line:column` and the whole rule; no other line is wider than `width`."""
    assert_shows_nothing_raw(SGR.sub("", output))
    lines = SGR.sub("", output).split("\n")
    order = list(dict.fromkeys(heading(f) for f in items))
    groups: dict[str, list[str]] = {}
    current = None
    for line in lines:
        if len(groups) < len(order) and line.rstrip() == order[len(groups)].rstrip():
            current = groups.setdefault(order[len(groups)], [])
            continue
        assert cell_len(line) <= width, f"a line of {cell_len(line)} columns at width {width}"
        if current is not None:
            current.append(line)
    assert list(groups) == order, "a file's heading is missing or cut"
    for f in items:
        row = re.compile(rf"  {f.line}:{f.column} +{re.escape(f.rule_id)}( |$)")
        wanted = sum(1 for g in items if heading(g) == heading(f) and (g.line, g.column, g.rule_id)
                     == (f.line, f.column, f.rule_id))
        assert sum(1 for line in groups[heading(f)] if row.match(line)) >= wanted, \
            f"no row with {f.line}:{f.column} and the whole rule {f.rule_id} under its file"


@st.composite
def table_findings(draw_from) -> Finding:
    f = draw_from(findings())
    return dataclasses.replace(f, rule_id=draw_from(st.sampled_from(RULE_IDS)),
                               line=draw_from(st.integers(1, 99_999)), column=draw_from(st.integers(1, 9_999)))


@settings(max_examples=200, deadline=None)
@example(EXAMPLE[0], 80, True)
@example([_finding(path="config/environments/production/secrets/application-settings.env" * 2,
                   rule_id=LONGEST_RULE, line=99_999, column=9_999)], 60, False)
@given(st.lists(table_findings(), min_size=1, max_size=5), st.sampled_from(WIDTHS), st.booleans())
def test_every_location_whole_and_no_line_or_rule_wrapped_at_any_width(items, width, terminal):
    assert_table_of(items, draw(items, width, terminal), width)


@pytest.mark.parametrize("width", WIDTHS)
def test_the_longest_rule_and_a_long_path_fit_every_width(width):
    path = "services/payments/config/environments/production/application-secrets.properties"
    items = [_finding(path=path, rule_id=LONGEST_RULE, line=1234, column=56, tags=("validation-failed",)),
             _finding(path=path, line=1240, column=9, tags=("test-fixture", "placeholder-like"))]
    output = draw(items, width)
    assert_table_of(items, output, width)
    assert f"\n{path}\n" in "\n" + output


def test_at_80_columns_a_common_finding_is_a_one_line_row_with_short_words():
    items = [_finding(path="app/.env", severity="critical", confidence="medium")]
    lines = draw(items, 80).splitlines()
    assert lines[0] == "app/.env"
    assert lines[1].split() == ["Line", "Rule", "Sev", "Conf", "Preview", "Notes"]
    assert lines[2].split() == ["3:7", "gitlab-personal-access-token", "crit", "med", "glpa…"]


@pytest.mark.parametrize("width, fingerprint", [(80, False), (120, True), (200, True)])
def test_the_fingerprint_and_full_words_show_where_there_is_room(width, fingerprint):
    items = [_finding(path="app/.env", fingerprint="0123456789ab" + "cd" * 26)]
    output = draw(items, width)
    assert ("0123456789ab" in output) is fingerprint
    assert ("critical" in output) is fingerprint and ("Confidence" in output) is fingerprint


def test_at_80_columns_the_longest_rule_keeps_one_line_rows_and_notes_go_under_the_rule():
    items = [_finding(path="a.env", rule_id=LONGEST_RULE, tags=("validation-failed", "placeholder-like")),
             _finding(path="a.env", line=9, column=1)]
    lines = draw(items, 80).splitlines()
    assert lines[1].split() == ["Line", "Rule", "Sev", "Conf", "Preview"]
    assert lines[2].split() == ["3:7", LONGEST_RULE, "crit", "high", "glpa…"]
    assert lines[3].split() == ["validation-failed,", "placeholder-like"]  # the second finding has none
    assert lines[4].split() == ["9:1", "gitlab-personal-access-token", "crit", "high", "glpa…"]


def test_where_the_notes_would_have_no_room_each_finding_takes_two_lines():
    items = [_finding(path="a.env", rule_id=LONGEST_RULE, tags=("placeholder-like",))]
    lines = draw(items, 60).splitlines()
    assert lines[2].split() == ["3:7", LONGEST_RULE]
    assert lines[3].split() == ["critical,", "high", "confidence,", "glpa…,", "placeholder-like"]


def test_notes_that_do_not_fit_on_one_line_are_one_a_line_not_cut_in_a_word():
    items = [_finding(path="a.env", tags=("validation-failed", "placeholder-like"))]
    rows = draw(items, 80).splitlines()[2:4]
    assert rows[0].endswith("validation-failed") and rows[1].strip() == "placeholder-like"


def test_findings_are_grouped_under_their_file_in_order():
    items = [_finding(path="a.env", line=1), _finding(path="b.env", line=2), _finding(path="a.env", line=9),
             _finding(path="variables/KEY[*]", origin=Origin(project="acme/api"), line=1, column=1)]
    lines = [line for line in draw(items, 120).splitlines() if line and not line.startswith(" ")]
    assert lines == ["a.env", "b.env", "acme/api:variables/KEY[*]", "2 finding(s) in 2 file(s)"]


@pytest.mark.parametrize("terminal", [False, True])
def test_a_clean_scan_says_no_findings_and_the_summary_not_an_empty_table(terminal):
    output = SGR.sub("", draw([], 80, terminal, summary="0 finding(s) in 12 file(s), 4.2 kB scanned"))
    assert output == "No findings.\n0 finding(s) in 12 file(s), 4.2 kB scanned\n"


def test_colour_marks_severity_and_is_off_without_a_terminal():
    items = [_finding(path="a.env")]
    assert "\x1b[" in draw(items, 80, terminal=True) and "\x1b[" not in draw(items, 80, terminal=False)
