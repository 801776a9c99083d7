"""What people read in GitLab issues: titles, descriptions and notes stay inert whatever a scanned
path holds (mentions, references, quick actions, Markdown, code-span breakers), read with a
CommonMark parser (markdown-it, which rich already brings) the way GitLab's renderer would."""

from __future__ import annotations

from hypothesis import given, settings, strategies as st
from markdown_it import MarkdownIt

from radar.notify.events import events_from
from radar.report.printable import printable
from radar.notify.text import (FIELD_LIMIT, PLACE_IN_TITLE, TITLE_LIMIT, clip, code, description, reopened_note,
                               resolved_note, still_found_note, title)
from radar.scan.findings import Finding

# Characters that, left live in GitLab Markdown, mention (@), reference (# ! $ ~ % &), link or
# open HTML ([ <), or format (* _ | `).
LIVE = set("@#!$~%&[<*_|`")
FRAGMENTS = ["@all", "@here", "/close", "/assign @me", "\n/close", "\r\n/label ~x", "#1", "!2", "~bug", "%v1", "$3",
             "&4", "`", "``", "` ", " `", "**", "_x_", "[a](javascript:alert(1))", "<script>", "<!--", "-->", "$`x`$",
             "\\", "\\`", ":smile:", "{+x+}", "[-x-]", "| a |", "\u202e", "\x1b[31m", " ", "  "]
PLACES = st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=4)), max_size=12).map("".join)

parser = MarkdownIt("commonmark").disable("text_join")  # keep backslash escapes as their own tokens


def finding(path: str) -> Finding:
    return Finding(rule_id="github-personal-access-token", secret_type="GitHub token", description="d",
                   severity="critical", confidence="high", path=path, line=3, column=1, end_line=3, end_column=9,
                   fingerprint="ab" * 32, preview="[redacted]")


def events(path: str):
    return events_from([finding(path)], [("github-personal-access-token", "cd" * 32, "GitHub token", path)])


def inline_tokens(markdown: str, inline: bool = False):
    blocks = parser.parseInline(markdown) if inline else parser.parse(markdown)
    for block in blocks:
        yield block
        yield from block.children or ()


def assert_inert(markdown: str, inline: bool = False) -> list[str]:
    """No live character in plain text, no line that could be a quick action; the code spans' contents."""
    spans = []
    for token in inline_tokens(markdown, inline):
        if token.type == "text":
            assert not LIVE & set(token.content), (markdown, token.content)
        if token.type == "code_inline":
            spans.append(token.content)
        assert token.type not in ("link_open", "image", "html_inline", "fence", "code_block", "heading_open")
    for line in markdown.split("\n"):
        assert not line.lstrip().startswith("/"), line
    return spans


@settings(max_examples=300, deadline=None)
@given(PLACES)
def test_a_hostile_path_stays_inert_in_the_title(path):
    new, _ = events(path)
    shown = title(new)
    assert "\n" not in shown and "\r" not in shown and len(shown) <= TITLE_LIMIT
    spans = assert_inert(shown, inline=True)
    if "`" not in new.place:
        assert spans == [clip(new.place, PLACE_IN_TITLE)]  # the whole place, in one unbroken code span


@settings(max_examples=300, deadline=None)
@given(PLACES)
def test_a_hostile_path_stays_inert_in_the_description_and_notes(path):
    new, gone = events(path)
    text = description(new)
    assert text.count("\n") == description(events("app/.env")[0]).count("\n")  # no line was added
    assert text.startswith("<!-- radar-finding ") and text.index("-->") < text.index("\n")
    spans = assert_inert(text.split("\n", 1)[1])  # the first line is radar's hidden marker comment
    assert shown_whole(new.place, spans)
    for note in (still_found_note(new), reopened_note(new)):
        assert shown_whole(new.place, assert_inert(note))
    assert shown_whole(gone.place, assert_inert(resolved_note(gone)))


def shown_whole(place: str, spans: list[str]) -> bool:
    """Whether one code span shows `place` (clipped): CommonMark shows a place of spaces only as spaces."""
    place = clip(place, FIELD_LIMIT)
    return place in spans if place.strip(" ") else any(not s.strip(" ") for s in spans)


@given(st.text())
def test_a_code_span_holds_any_printable_text_exactly(text):
    line = printable(text)  # what events hold: no line breaks, no NUL (CommonMark would replace it)
    [span] = [t for t in inline_tokens(f"x {code(line)} y", inline=True) if t.type == "code_inline"]
    # Everything is kept, backticks included; a line of spaces only (or nothing) shows as spaces.
    assert span.content == line if line.strip(" ") else not span.content.strip(" ")


def test_a_title_reads_as_a_code_span_and_a_place_with_backticks_is_escaped():
    assert title(events("app/.env")[0]) == "radar: GitHub token in `app/.env:3`"
    assert title(events("a`b @all")[0]) == "radar: GitHub token in a\\`b \\@all\\:3"


def test_line_breaks_in_a_path_cannot_start_a_quick_action():
    new, _ = events("x\n/close\n@all")
    assert new.place == "x\\n/close\\n@all:3"
    assert "\n/close" not in description(new) and "`x\\n/close\\n@all:3`" in description(new)


def test_no_value_or_preview_field_exists_to_render():
    new, _ = events("app/.env")
    assert "redacted" not in description(new) and "preview" not in new.as_dict()
