"""A project's CI configuration as GitLab assembles it from local files, for `radar audit ci`.

The main file and the files its `include:` names with `local:` (or as a plain path), nested
includes too, are parsed by radar's CI loader (`radar.vault.ciyaml`: bounded against alias
bombs and deep nesting) and merged as GitLab merges them: in include order, the including file
on top, hashes key by key. `!reference` tags are resolved after the merge, so they may point
into another file; `extends:` is resolved per job by the rules.

Not followed, each named in a warning: `project:`, `remote:`, `template:` and `component:`
includes, and local paths with wildcards or variables (GitLab expands them at pipeline time).

Findings need lines, which the loader's plain values do not carry: `Lines` indexes each file's
text once (top-level keys, and every line in a normalised form), so a job or a script line is
found in constant time however large the file.
"""

from __future__ import annotations

import bisect
import os
import re
from dataclasses import dataclass
from typing import Any

from radar.vault.ciyaml import MAX_VALUES, parse_ci_unresolved, resolve_references
from radar.vault.errors import CIYamlError

MAX_INCLUDES = 150  # GitLab's default limit on included files
# Bytes read across all files: GitLab refuses configurations over 2 MB in memory (about 400 KB
# of YAML); four times that leaves room for large scripts and still bounds the work.
MAX_TOTAL_BYTES = 4 * 1024 * 1024

CI_FILE = ".gitlab-ci.yml"

# A top-level key: quoted, or plain up to the colon. No lazy part that could end in blanks, which
# would make a long line of spaces quadratic.
_KEY = re.compile(r"""^(?:"([^"]*)"|'([^']*)'|((?:[^\s#'"\-?:]|-[^\s:#])(?:[^:#]*[^\s:#])?))[ \t]*:(?:[ \t]|$)""")


@dataclass(frozen=True)
class CIConfig:
    """The merged configuration, and where each top-level key and line came from."""

    doc: dict[str, Any]
    main: str  # the main file's path from the root, as reports name it
    lines: Lines
    warnings: tuple[str, ...]


class Lines:
    """Line numbers in the configuration's files, found by index rather than by search."""

    def __init__(self) -> None:
        self.key_place: dict[str, tuple[str, int]] = {}  # top-level key -> (file, line) of its winning definition
        self._texts: dict[str, dict[str, list[int]]] = {}  # file -> normalised line -> its line numbers
        self._keys: dict[str, dict[str, int]] = {}  # file -> top-level key -> line
        self._lines: dict[str, list[str]] = {}
        self._starts: dict[str, list[tuple[int, str]]] = {}

    def add(self, path: str, text: str) -> None:
        normalised: dict[str, list[int]] = {}
        keys: dict[str, int] = {}
        lines = text.splitlines()
        for number, line in enumerate(lines, 1):
            normalised.setdefault(normal(line), []).append(number)
            m = _KEY.match(line)
            if m:
                keys.setdefault(next(g for g in m.groups() if g is not None).strip(), number)
        self._texts[path] = normalised
        self._keys[path] = keys
        self._lines[path] = lines

    def defined(self, key: str, path: str) -> None:
        """`path`'s definition of top-level `key` is the one in force (a later file overrode earlier ones)."""
        self.key_place[key] = (path, self._keys.get(path, {}).get(key, 1))

    def place(self, key: str) -> tuple[str, int]:
        return self.key_place.get(key, ("", 1))

    def find(self, line: str, key: str) -> tuple[str, int]:
        """Where a line of `key`'s content is written: in the file defining `key`, at or after its
        line if it is there; else its first appearance in any file; else `key`'s own place."""
        path, start = self.place(key)
        # A one-command script may be written on its keyword's line: `script: make deploy`.
        forms = [normal(line)] + [f"{k}: {normal(line)}" for k in ("script", "before_script", "after_script")]
        for wanted in forms:
            numbers = self._texts.get(path, {}).get(wanted)
            if numbers:
                after = [n for n in numbers[:64] if n >= start]  # a bounded look: the first match is usually it
                return path, (after or numbers)[0]
        for other, normalised in self._texts.items():
            if forms[0] in normalised:
                return other, normalised[forms[0]][0]
        return path, start

    def files(self) -> list[tuple[str, list[str]]]:
        return list(self._lines.items())

    def key_at(self, path: str, number: int) -> str | None:
        """The top-level key whose block holds line `number` of `path`."""
        starts = self._starts.get(path)
        if starts is None:  # built on first use: (line, key) in line order
            starts = self._starts[path] = sorted((line, key) for key, line in self._keys.get(path, {}).items())
        at = bisect.bisect_right(starts, (number, "\U0010ffff")) - 1
        return starts[at][1] if at >= 0 else None


def normal(line: str) -> str:
    """A line as both YAML text and a loaded script line compare: no indent, list dash or quotes."""
    text = line.strip()
    if text.startswith("- "):
        text = text[2:].lstrip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        text = text[1:-1]
    return text.strip()


def locate(target: str) -> tuple[str, str]:
    """(the main CI file, the repository root local includes are relative to) for PATH."""
    if os.path.isdir(target):
        return os.path.join(target, CI_FILE), target
    return target, os.path.dirname(target) or "."


def load_config(target: str) -> CIConfig:
    main, root = locate(target)
    if not os.path.isfile(main):
        what = "no such file" if not os.path.exists(main) else "not a regular file"
        raise CIYamlError(f"{main}: {what}; give the CI file, or the repository directory holding {CI_FILE}")
    shown = os.path.relpath(main, root)  # findings' paths are relative to the root, as in scans
    reader = _Reader(root)
    doc = reader.load(main, shown, (os.path.realpath(main),))
    return CIConfig(resolve_references(doc, shown), shown, reader.lines, tuple(reader.warnings))


class _Reader:
    def __init__(self, root: str) -> None:
        self.root = root
        self.real_root = os.path.realpath(root)
        self.lines = Lines()
        self.warnings: list[str] = []
        self.seen: set[str] = set()
        self.bytes_left = MAX_TOTAL_BYTES
        self.values_left = MAX_VALUES

    def load(self, path: str, shown: str, chain: tuple[str, ...]) -> dict[str, Any]:
        """`path` (reported as `shown`) with its includes merged under it."""
        text = self._read(path, shown)
        doc = parse_ci_unresolved(text, shown)
        self.lines.add(shown, text)
        merged: dict[str, Any] = {}
        for include in self._local_includes(doc.get("include"), shown):
            real = os.path.realpath(os.path.join(self.root, include))
            if not real.startswith(self.real_root + os.sep) and real != self.real_root:
                raise CIYamlError(f"{shown}: include {include!r} is outside the repository; local includes "
                                  f"name files under {self.root}")
            if real in chain or real in self.seen:
                continue  # GitLab reads a file once; a cycle adds nothing
            if os.path.exists(real) and not os.path.isfile(real):  # a FIFO would block the read for ever
                raise CIYamlError(f"{shown}: include {include!r} is not a regular file")
            if len(self.seen) >= MAX_INCLUDES:
                raise CIYamlError(f"{shown}: includes more than {MAX_INCLUDES} files (GitLab's limit)")
            self.seen.add(real)
            merged = self._merge(merged, self.load(real, include, (*chain, real)), shown)
        for key in doc:
            self.lines.defined(str(key), shown)
        return self._merge(merged, doc, shown)

    def _read(self, path: str, shown: str) -> str:
        try:
            with open(path, "rb") as fh:
                data = fh.read(self.bytes_left + 1)
        except FileNotFoundError:
            raise CIYamlError(f"{shown}: no such file, yet an include: names it (local includes are paths from "
                              f"the repository's top, {self.root})") from None
        except IsADirectoryError:
            raise CIYamlError(f"{shown}: is a directory, not a CI file") from None
        except OSError as exc:
            raise CIYamlError(f"{shown}: cannot read: {exc.strerror}") from None
        if len(data) > self.bytes_left:
            raise CIYamlError(f"{shown}: the CI configuration is larger than {MAX_TOTAL_BYTES // (1024 * 1024)} MB "
                              f"with its includes; GitLab refuses configurations that large")
        self.bytes_left -= len(data)
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            raise CIYamlError(f"{shown}: is not UTF-8 text") from None

    def _local_includes(self, raw: Any, shown: str) -> list[str]:
        if raw is None:
            return []
        entries = raw if isinstance(raw, list) else [raw]
        found = []
        for entry in entries:
            if isinstance(entry, str):
                local = None if re.match(r"^[a-z][a-z0-9+.-]*://", entry, re.I) else entry
                what = entry
            elif isinstance(entry, dict):
                local = entry.get("local")
                what = next((f"{k}: {entry[k]}" for k in ("project", "remote", "template", "component") if k in entry),
                            "an include")
            else:
                raise CIYamlError(f"{shown}: include: entries must be paths or mappings")
            if not isinstance(local, str) or not local.strip():
                self.warnings.append(f"{shown}: include {_short(what)} is not followed: radar audit ci reads local "
                                     "files only, so the jobs it defines are not audited")
                continue
            if any(c in local for c in "*?[$"):
                self.warnings.append(f"{shown}: include {_short(local)} is not followed: wildcards and variables "
                                     "are expanded by GitLab at pipeline time")
                continue
            found.append(local.lstrip("/"))
        return found

    def _merge(self, base: dict[str, Any], top: dict[str, Any], shown: str) -> dict[str, Any]:
        """GitLab's include merge: hashes key by key, the including file's values on top."""
        self.values_left -= len(base) + len(top)
        if self.values_left < 0:
            raise CIYamlError(f"{shown}: merging the included files copies more than {MAX_VALUES} values")
        merged = dict(base)
        for key, value in top.items():
            if isinstance(value, dict) and isinstance(merged.get(key), dict):
                merged[key] = self._merge(merged[key], value, shown)
            else:
                merged[key] = value
        return merged


def _short(text: Any) -> str:
    text = str(text)
    return repr(text if len(text) <= 80 else text[:77] + "...")
