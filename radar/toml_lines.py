"""Where each key and array element of a TOML document is written: the 1-based line, by path.

tomllib gives values without positions, but an error about a value (`allowlist.regexes[1]: does
not compile`) must name the line a user should open. `key_lines(text)` reads a document that
tomllib has already accepted and maps the path of every key, table header and array element
(a tuple of keys and 0-based indices: `("rules", 0, "regex")`, `("allowlist", "regexes", 1)`)
to the line where it is written. A table that only a dotted key or a deeper header creates gets
the line of its first mention. `line_of(lines, path)` falls back to the nearest enclosing path
that has a line.

It is a locator, not a validator: it reads only what tomllib accepted, so it can trust the
syntax. What it must get right is what would move a line: comments, and strings (quoted keys,
multi-line strings holding `#`, `[x]`, `=` or line breaks). It reads each character once;
values nested deeper than MAX_DEPTH are stepped over without their elements indexed, so no
document can exhaust the stack.
"""

from __future__ import annotations

import tomllib
from typing import Mapping

Path = tuple[str | int, ...]
MAX_DEPTH = 32
_BARE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")


def key_lines(text: str) -> dict[Path, int]:
    """Every path in `text` (a document tomllib accepts) and the line it is written on."""
    return _Reader(text).document()


def line_of(lines: Mapping[Path, int], path: Path) -> int | None:
    """The line of `path`, else of the nearest enclosing path that has one."""
    for end in range(len(path), 0, -1):
        line = lines.get(path[:end])
        if line is not None:
            return line
    return None


class _Reader:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.line = 1
        self.lines: dict[Path, int] = {}
        self.arrays_of_tables: dict[Path, int] = {}  # an array of tables' path: its last index

    def document(self) -> dict[Path, int]:
        table: Path = ()
        while True:
            self._blank(newlines=True)
            if self.pos >= len(self.text):
                return self.lines
            if self.text.startswith("[[", self.pos):
                self.pos += 2
                keys = self._key()
                self._blank()
                self.pos += 2  # ]]
                base = self._resolve(keys[:-1]) + (keys[-1],)
                self._mark(base)
                index = self.arrays_of_tables.get(base, -1) + 1
                self.arrays_of_tables[base] = index
                table = base + (index,)
                self._mark(table)
            elif self.text[self.pos] == "[":
                self.pos += 1
                keys = self._key()
                self._blank()
                self.pos += 1  # ]
                table = self._resolve(keys)
                self._mark(table)
            else:
                self._pair(table, 0)

    def _resolve(self, keys: list[str]) -> Path:
        """A header's keys as a path: through an array of tables, its last element."""
        path: Path = ()
        for key in keys:
            path += (key,)
            self._mark(path)
            if path in self.arrays_of_tables:
                path += (self.arrays_of_tables[path],)
        return path

    def _mark(self, path: Path) -> None:
        self.lines.setdefault(path, self.line)

    def _pair(self, table: Path, depth: int) -> None:
        keys = self._key()
        path = table
        for key in keys:
            path += (key,)
            self._mark(path)
        self._blank()
        self.pos += 1  # =
        self._blank()
        self._value(path, depth)

    def _key(self) -> list[str]:
        """A dotted key's parts; the position is left after it (and any blanks)."""
        keys = []
        while True:
            self._blank()
            char = self.text[self.pos]
            if char in "\"'":
                start = self.pos
                self._string()
                raw = self.text[start:self.pos]
                keys.append(raw[1:-1] if char == "'" else tomllib.loads(f"k = {raw}")["k"])
            else:
                start = self.pos
                while self.pos < len(self.text) and self.text[self.pos] in _BARE:
                    self.pos += 1
                keys.append(self.text[start:self.pos])
            self._blank()
            if self.pos < len(self.text) and self.text[self.pos] == ".":
                self.pos += 1
                continue
            return keys

    def _value(self, path: Path, depth: int) -> None:
        char = self.text[self.pos]
        if char in "\"'":
            self._string()
        elif char in "[{" and depth >= MAX_DEPTH:
            self._step_over()
        elif char == "[":
            self.pos += 1
            index = 0
            while True:
                self._blank(newlines=True)
                if self.text[self.pos] == "]":
                    self.pos += 1
                    return
                element = path + (index,)
                self._mark(element)
                self._value(element, depth + 1)
                self._blank(newlines=True)
                if self.text[self.pos] == ",":
                    self.pos += 1
                index += 1
        elif char == "{":
            self.pos += 1
            while True:
                self._blank(newlines=True)
                if self.text[self.pos] == "}":
                    self.pos += 1
                    return
                self._pair(path, depth + 1)
                self._blank(newlines=True)
                if self.text[self.pos] == ",":
                    self.pos += 1
        else:  # a number, boolean or date (which may hold a space): up to what ends a value
            while self.pos < len(self.text) and self.text[self.pos] not in ",]}\n#":
                self.pos += 1

    def _step_over(self) -> None:
        """Past a whole array or inline table, however deep, without indexing it."""
        depth = 0
        while True:
            char = self.text[self.pos]
            if char in "\"'":
                self._string()
                continue
            if char == "#":
                self._blank()
                continue
            if char == "\n":
                self.line += 1
            elif char in "[{":
                depth += 1
            elif char in "]}":
                depth -= 1
            self.pos += 1
            if depth == 0:
                return

    def _string(self) -> None:
        """Past a string of any of TOML's four kinds, counting the lines a multi-line one spans."""
        text, start = self.text, self.pos
        quote = text[start]
        if text.startswith(quote * 3, start):
            delimiter = quote * 3
            end = text.index(delimiter, start + 3) if quote == "'" else _unescaped(text, delimiter, start + 3)
            # Up to two quotes just before the closing delimiter belong to the content.
            while text.startswith(quote, end + 3):
                end += 1
            end += 3
        else:
            end = (text.index(quote, start + 1) if quote == "'" else _unescaped(text, quote, start + 1)) + 1
        self.line += text.count("\n", start, end)
        self.pos = end

    def _blank(self, newlines: bool = False) -> None:
        """Past spaces, tabs and a comment; with `newlines`, past line breaks and blank lines too."""
        text = self.text
        while self.pos < len(text):
            char = text[self.pos]
            if char in " \t\r":
                self.pos += 1
            elif char == "#":
                end = text.find("\n", self.pos)
                self.pos = len(text) if end < 0 else end
            elif char == "\n" and newlines:
                self.line += 1
                self.pos += 1
            else:
                return


def _unescaped(text: str, delimiter: str, start: int) -> int:
    """Where `delimiter` next occurs in a basic string from `start`, not escaped by a backslash."""
    pos = start
    while True:
        found = text.index(delimiter, pos)
        backslashes = 0
        while text[found - 1 - backslashes] == "\\":
            backslashes += 1
        if backslashes % 2 == 0:
            return found
        pos = found + 1
