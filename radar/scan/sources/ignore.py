"""Which paths a scan leaves out: `--exclude` patterns and `.radarignore`, in gitignore syntax.

Patterns are gitignore's: a pattern without a `/` (other than a trailing one) matches a name at
any depth; one with a `/` before its end matches the path from the root (`/x` only at the top);
`*` and `?` do not cross a `/`, `**` does; a trailing `/` matches directories only; `!`
re-includes what an earlier pattern left out, and `#` starts a comment.

pathspec turns each line into a regular expression; the decision is git's own, made here, because
pathspec's whole-path answer differs from git's walk: git asks about each directory on the way
down and about the file itself, and for each the *last* pattern that matches that very path
decides. So `!/vendor` re-includes the directory `vendor` but not `vendor/x.env` that `*.env`
excludes, and nothing inside an excluded directory can be re-included (git never looks inside).
pathspec also reads a trailing `/**/` as `/` (`a/**/` as `a/`); git matches only directories
*under* `a`, which `a/**/?*/` says in the syntax pathspec gets right.
`tests/test_scan_local_ignore.py` checks every decision against git's on generated trees.

A `.radarignore` comes with the repository being scanned, so it is hostile input: it is read up
to 1 MB and 1,000 patterns, and matched with RE2 (linear time in the path's length, however the
patterns are written; Python's re would backtrack exponentially on `*a*a*a*a*a*a*a*a*a*ab`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from radar.errors import RadarError

IGNORE_FILE = ".radarignore"
MAX_PATTERNS = 1000
MAX_IGNORE_FILE_BYTES = 1_000_000


class ExclusionError(RadarError):
    """An `--exclude` pattern or a `.radarignore` that cannot be used; the message says which and why."""


@dataclass(frozen=True)
class _Pattern:
    regex: Any  # re2, compiled from pathspec's expression
    excludes: bool  # False for a `!` line
    directory_group: int  # pathspec's group that matches the `/` after a directory


@dataclass(frozen=True)
class Exclusions:
    """Compiled exclusion patterns; paths are `/`-separated and relative to the scan's root."""

    patterns: tuple[str, ...] = ()
    _compiled: tuple[_Pattern, ...] = field(default=(), repr=False, compare=False)
    _any: Any = field(default=None, repr=False, compare=False)  # an re2 set: which patterns may match

    @classmethod
    def of(cls, *sources: tuple[str, Iterable[str]]) -> Exclusions:
        """Compile the patterns of `sources`, each `(origin, lines)` with `origin` naming them in
        errors (`--exclude`, or a file's path); later sources' patterns win over earlier ones'."""
        named = [(origin, tuple(lines)) for origin, lines in sources]
        lines = tuple(line for _, own in named for line in own)
        meaningful = sum(map(_meaningful, lines))
        if not meaningful:
            return cls(lines)  # nothing to match: pathspec and RE2 are not even loaded
        if meaningful > MAX_PATTERNS:
            origins = " and ".join(origin for origin, own in named if own)
            raise ExclusionError(f"{origins}: more than {MAX_PATTERNS:,} patterns; radar reads at most {MAX_PATTERNS:,} "
                                 "(cover whole directories with `dir/` or `**` instead of listing files)")
        import re2

        # An unanchored expression (from `**/...`) is searched from its last possible start, so
        # that a directory's own match is found before one of the directories above it.
        compiled = [(expression if expression.startswith("^") else "^.*" + expression, excludes)
                    for origin, own in named for expression, excludes in _parse(origin, own)]
        try:
            regexes = [re2.compile(expression) for expression, _ in compiled]
            candidates = re2.Set.SearchSet()
            for expression, _ in compiled:
                candidates.Add(expression)
            candidates.Compile()
        except re2.error as e:
            raise ExclusionError(f"exclusion patterns too complex to match ({e}); use fewer or simpler ones") from None
        return cls(lines, tuple(_Pattern(regex, excludes, regex.groupindex.get("ps_d", 0))
                                for regex, (_, excludes) in zip(regexes, compiled)), candidates)

    def __bool__(self) -> bool:
        return bool(self._compiled)

    def excluded(self, rel: str, is_dir: bool) -> bool:
        """The entry at `rel` itself is excluded (a walk then does not enter it, if a directory):
        the last pattern that matches this very path excludes it."""
        if not self._compiled:
            return False
        text = rel + "/" if is_dir else rel
        for index in sorted(self._any.Match(text) or (), reverse=True):
            pattern = self._compiled[index]
            group = pattern.directory_group
            if not group:  # open-ended (`x/**`, `*`): whatever it matches is matched itself
                if pattern.regex.search(rel) is None:
                    continue
                return pattern.excludes
            match = pattern.regex.search(text)
            # pathspec's expressions also match what is under a matching directory (the group then
            # matches that directory's `/`): those are not this path's own match.
            if match is None or (match.start(group) >= 0 and match.end(group) != len(text)):
                continue
            return pattern.excludes
        return False

    def directory_excluded(self, rel: str) -> bool:
        """A walk would not enter the directory at `rel`: it, or a directory above it, is excluded."""
        if not self._compiled:
            return False
        parts = rel.split("/")
        return any(self.excluded("/".join(parts[:i]), True) for i in range(1, len(parts) + 1))

    def file_excluded(self, rel: str) -> bool:
        """A walk would not scan the file at `rel`: a directory above it, or it, is excluded."""
        if not self._compiled:
            return False
        directory = rel.rpartition("/")[0]
        return (bool(directory) and self.directory_excluded(directory)) or self.excluded(rel, False)


def _parse(origin: str, lines: tuple[str, ...]) -> list[tuple[str, bool]]:
    """(expression, excludes) for each pattern of `lines`; the first line that is not a gitignore
    pattern is an error naming it (git skips it silently; radar says so rather than scan what its
    author meant to leave out, or leave out what they meant to scan)."""
    from pathspec.patterns.gitignore.base import GitIgnorePatternError
    from pathspec.patterns.gitignore.spec import GitIgnoreSpecPattern

    parsed = []
    for number, line in enumerate(lines, 1):
        negated = line.startswith("!")
        if line.rstrip()[negated:] == "/**/":  # every directory, as `**/` says; the rewrite below would
            line = line[:negated] + "**/"   # leave `/**?*/`, the top level's directories only
        if line.rstrip().endswith("**/"):  # see the module's docstring
            line = line.rstrip()[:-1] + "?*/"
        try:
            pattern = GitIgnoreSpecPattern(line)
        except GitIgnorePatternError:
            where = f"--exclude {line!r}" if origin == "--exclude" else f"{origin}:{number}"
            raise ExclusionError(f"{where}: not a valid gitignore pattern (a trailing backslash, say); "
                                 "fix or remove it") from None
        if pattern.include is not None and pattern.regex is not None:
            parsed.append((pattern.regex.pattern, bool(pattern.include)))
    return parsed


def _meaningful(line: str) -> bool:
    stripped = line.strip()
    return bool(stripped) and not stripped.startswith("#")


def read_ignore_lines(path: Path) -> list[str]:
    """The lines of the ignore file at `path`; none when there is no such file."""
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_IGNORE_FILE_BYTES + 1)
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        return []
    except OSError as e:
        raise ExclusionError(f"{path}: cannot read it: {(e.strerror or str(e)).lower()}") from None
    return parse_ignore_lines(data, str(path))


def parse_ignore_lines(data: bytes, origin: str) -> list[str]:
    if len(data) > MAX_IGNORE_FILE_BYTES:
        raise ExclusionError(f"{origin}: larger than {MAX_IGNORE_FILE_BYTES // 1_000_000} MB; an ignore file "
                             "lists patterns, not paths")
    try:
        return data.decode("utf-8").splitlines()
    except UnicodeDecodeError:
        raise ExclusionError(f"{origin}: not UTF-8 text; save it as UTF-8") from None


def load(root: Path, exclude: Iterable[str]) -> Exclusions:
    """`--exclude` patterns, then the root's `.radarignore` (whose `!` lines can re-include)."""
    file = root / IGNORE_FILE
    return Exclusions.of(("--exclude", exclude), (str(file), read_ignore_lines(file) if root.is_dir() else []))
