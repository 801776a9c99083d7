"""radar.toml_lines: the line of every key and array element of a TOML document.

The property test writes random documents in TOML's many styles (headers, arrays of tables,
dotted keys, inline tables, multi-line arrays, comments, all four kinds of string holding `#`,
`[x]`, `=`, quotes and line breaks), remembering the line of everything it writes, and checks
that tomllib reads the values back and that key_lines finds every one of those lines.
"""

from __future__ import annotations

import tomllib

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from radar.toml_lines import MAX_DEPTH, key_lines, line_of


def test_keys_headers_and_elements_have_their_lines():
    text = (
        "# a comment [not] = a table\n"
        "disable = [\"a\", # 'quoted' in a comment\n"
        "  \"b\"]\n"
        "[[rules]]\n"
        "id = \"x\"  # [not]\n"
        "regex = \"\"\"\n"
        "a\\\"\"\" [x]\n"
        "b\"\"\"\"\n"
        "keywords = ['k']\n"
        "[rules.examples]\n"
        "true = [\n"
        "  'a',\n"
        "  '''\"\"\"\n"
        "multi'''  ,\n"
        "]\n"
        "[[rules]]\n"
        "\"id\" = 'y'\n"
        "[allowlist]\n"
        "paths = { a.b = 1, c = [1, [2]] }\n"
        "[allowlist.rules.generic-password]\n"
        "when = 1979-05-27 07:32:00Z\n"
        "stopwords = [\"z\"]\n"
    )
    tomllib.loads(text)
    lines = key_lines(text)
    assert lines[("disable",)] == 2
    assert lines[("disable", 1)] == 3
    assert lines[("rules", 0)] == 4
    assert lines[("rules", 0, "regex")] == 6
    assert lines[("rules", 0, "keywords")] == 9
    assert lines[("rules", 0, "examples", "true", 0)] == 12
    assert lines[("rules", 0, "examples", "true", 1)] == 13
    assert lines[("rules", 1, "id")] == 17
    assert lines[("allowlist", "paths", "c", 1, 0)] == 19
    assert lines[("allowlist", "rules")] == 20
    assert lines[("allowlist", "rules", "generic-password", "stopwords", 0)] == 22


def test_a_missing_path_falls_back_to_the_nearest_enclosing_one():
    lines = key_lines("[allowlist]\n\nregexes = ['a']\n")
    assert line_of(lines, ("allowlist", "regexes", 5)) == 3
    assert line_of(lines, ("allowlist", "paths")) == 1
    assert line_of(lines, ("nothing",)) is None


def test_arrays_nested_past_the_depth_bound_are_stepped_over_not_indexed():
    deep = "[" * (MAX_DEPTH + 5) + "'#]'" + "]" * (MAX_DEPTH + 5)
    text = f"a = {deep}\n# ]\nb = 1\n"
    tomllib.loads(text)
    lines = key_lines(text)
    assert lines[("b",)] == 3
    assert ("a",) + (0,) * MAX_DEPTH in lines
    assert ("a",) + (0,) * (MAX_DEPTH + 1) not in lines


# --- the property ------------------------------------------------------------------------------

BARE = st.from_regex(r"[A-Za-z0-9_-]{1,6}", fullmatch=True)
KEYS = BARE | st.text(min_size=1, max_size=5)
TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12) | st.sampled_from(
    ["#", "[x]", "a = b", "\"\"", "''", "\n[[rules]]\n", "\\", "'''", "\"\"\"", "{", "}", ","])
SCALARS = st.integers(-10**6, 10**6) | st.booleans() | TEXT
VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=3)
                      | st.dictionaries(KEYS, inner, max_size=3), max_leaves=10)


def _basic(value: str, multiline: bool = False) -> str:
    out = []
    for char in value:
        if char == '"':
            out.append('\\"')
        elif char == "\\":
            out.append("\\\\")
        elif char == "\n" and multiline:
            out.append("\n")
        elif ord(char) < 0x20 or char == "\x7f":
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(char)
    return "".join(out)


class _Writer:
    """Writes a document in styles drawn from `draw`, noting the line of every path it writes."""

    def __init__(self, draw) -> None:
        self.draw = draw
        self.parts: list[str] = []
        self.expected: dict[tuple, int] = {}

    @property
    def line(self) -> int:
        return "".join(self.parts).count("\n") + 1

    def put(self, text: str) -> None:
        self.parts.append(text)

    def comment(self) -> None:
        if self.draw(st.booleans()):
            self.put("  # " + self.draw(st.sampled_from(["[x]", "a = 1", chr(34), "[[t]]", chr(39) * 3])))

    def key(self, key: str) -> str:
        return key if all(c.isascii() and (c.isalnum() or c in "_-") for c in key) else f'"{_basic(key)}"'

    def string(self, value: str, inline: bool) -> str:
        styles = ["basic"]
        if not any(c in value for c in "'\n\r\x7f") and all(ord(c) >= 0x20 or c == "\t" for c in value):
            styles.append("literal")
        if not inline:
            styles.append("multiline")
            if ("'''" not in value and not value.startswith("\n") and not value.endswith("'")
                    and all(ord(c) >= 0x20 or c in "\t\n" for c in value) and "\x7f" not in value):
                styles.append("multiline-literal")
        style = self.draw(st.sampled_from(styles))
        if style == "literal":
            return f"'{value}'"
        if style == "multiline-literal":
            return f"'''{value}'''"
        if style == "multiline":
            body = _basic(value, multiline=True)
            if body.startswith(chr(10)):  # a line break right after the opening quotes is dropped
                body = chr(92) + "n" + body[1:]
            return '"""' + body + '"""'
        return f'"{_basic(value)}"'

    def value(self, path: tuple, value, inline: bool = False) -> None:
        if isinstance(value, bool):
            self.put("true" if value else "false")
        elif isinstance(value, int):
            self.put(str(value))
        elif isinstance(value, str):
            self.put(self.string(value, inline))
        elif isinstance(value, list):
            multiline = not inline and value and self.draw(st.booleans())
            self.put("[")
            for index, item in enumerate(value):
                if multiline:
                    self.put("\n")
                    if self.draw(st.booleans()):
                        self.put("  # an element follows\n")
                    self.put("  ")
                elif index:
                    self.put(", ")
                self.expected[path + (index,)] = self.line
                self.value(path + (index,), item, inline)
                if multiline:
                    self.put(",")
                    self.comment()
            self.put("\n]" if multiline else "]")
        else:
            self.put("{")
            for index, (key, item) in enumerate(value.items()):
                self.put(", " if index else " ")
                self.expected[path + (key,)] = self.line
                self.put(f"{self.key(key)} = ")
                self.value(path + (key,), item, inline=True)
            self.put(" }" if value else "}")

    def pair(self, path: tuple, key: str, value) -> None:
        self.expected[path + (key,)] = self.line
        self.put(f"{self.key(key)} = ")
        self.value(path + (key,), value)
        self.comment()
        self.put("\n")

    def table(self, path: tuple, names: tuple[str, ...], table: dict, array: bool = False) -> None:
        scalars = {k: v for k, v in table.items() if not _is_table(v) and not _is_array_of_tables(v)}
        for key, value in scalars.items():
            self.pair(path, key, value)
        for key, value in table.items():
            if _is_table(value):
                header = ".".join(self.key(n) for n in names + (key,))
                self.put("\n" * self.draw(st.integers(0, 2)))
                self.expected[path + (key,)] = self.line
                self.put(f"[{header}]")
                self.comment()
                self.put("\n")
                self.table(path + (key,), names + (key,), value)
            elif _is_array_of_tables(value):
                header = ".".join(self.key(n) for n in names + (key,))
                for index, element in enumerate(value):
                    self.expected[path + (key, index)] = self.line
                    self.put(f"[[{header}]]\n")
                    self.table(path + (key, index), names + (key,), element)


def _is_table(value) -> bool:
    return isinstance(value, dict) and value and all(not isinstance(v, list) or v for v in value.values())


def _is_array_of_tables(value) -> bool:
    return isinstance(value, list) and value and all(isinstance(v, dict) for v in value) and all(
        _is_table(v) for v in value)


DOCUMENTS = st.dictionaries(KEYS, VALUES | st.dictionaries(KEYS, VALUES, min_size=1, max_size=3)
                            | st.lists(st.dictionaries(KEYS, VALUES, min_size=1, max_size=3), min_size=1, max_size=3),
                            max_size=5)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(DOCUMENTS, st.data())
def test_every_written_key_and_element_is_found_on_its_line(document, data):
    writer = _Writer(data.draw)
    writer.table((), (), document)
    text = "".join(writer.parts)
    assert tomllib.loads(text) == document
    lines = key_lines(text)
    wrong = {path: (line, lines.get(path)) for path, line in writer.expected.items() if lines.get(path) != line}
    assert not wrong, f"{text}\n(written line, found line) by path: {wrong}"


@pytest.mark.parametrize("text, paths", [("", set()), ("\n\n# only a = comment\n", set()), ("a = 1", {("a",)})])
def test_documents_without_tables_or_final_newline(text, paths):
    tomllib.loads(text)
    assert set(key_lines(text)) == paths
