"""The scan configuration, `.radar.toml`: rules to add, rules to disable, and allowlists.

```toml
disable = ["generic-password"]                # rule ids (detectors or GitLab checks)

[[rules]]                                     # the shipped rules' schema (radar.scan.rules)
id = "acme-internal-token"
...

[allowlist]                                   # every rule
paths = ["docs/**", "*.md"]                   # gitignore syntax, from the scanned root
regexes = ['''^AKIA[A-Z0-9]{12}TEST$''']      # searched in the secret value
stopwords = ["localdev"]                      # the value contains one, ignoring case

[allowlist.rules.generic-api-key]             # one rule only: the same three keys
paths = ["config/local/**"]

[archives]                                    # limits on reading archives (defaults shown)
depth = 3                                     # archives inside archives; 0: archives are not opened
total_bytes = 268435456                       # uncompressed bytes read from one file or blob, in all
member_bytes = 10000000                       # one member's uncompressed size
members = 10000                               # members looked at in one file or blob, in all
ratio = 100                                   # a member expanding more than this ...
ratio_floor = 1048576                         # ... past this many bytes is a compression bomb
```

An allowlist path matches an archive member by its full path (`dist/app.tgz!config/creds.env`:
`*.env` and `dist/**` match it) or by the archive that holds it (`dist/app.tgz` allowlists every
member; for nested archives, each level out).

Where it comes from (`find_config`): `--config FILE`; else `.radar.toml` at the scanned root (a
history scan: the work tree's, or in a bare repository the default branch tip's, as for
`.radarignore`); `radar scan gitlab` has no root and reads only `--config`.

Added rules are parsed by `rules.parse_rule`, the shipped rules' own validation; their ids must
be new (a shipped rule is changed by disabling it and adding one under another id). Examples are
optional, but the ones given are checked as the test suite checks the shipped rules' (true ones
found, false ones not), when the file is loaded. The merged rule set (`ScanConfig.ruleset`) rides
the keyword prefilter like the shipped one; its compiled forms are cached by content (the rules'
keywords, names and expressions), so a changed file never meets a stale cache.

An allowlisted finding is treated as one suppressed inline: `ignored`, with `ignore_reason`
naming the entry (`config: allowlist.regexes[2]`, `config: allowlist.rules.ID.paths[0]`), hidden
unless `--show-ignored`, never counted for the exit status. Values are checked in the engine,
where the value is (`Allowlists.value_reason`); paths afterwards (`Allowlists.apply_paths`),
because a history finding's places are known only once its blobs are attributed, and it is
allowlisted by path only when every place is.

Every mistake is one `ConfigError` line naming the file, the line and the key
(`.radar.toml:7: allowlist.regexes[1]: does not compile: ...`), never a value from the file
(a regex or stopword may quote a secret). Lines come from `radar.toml_lines`.
"""

from __future__ import annotations

import difflib
import functools
import os
import stat
import tomllib
from dataclasses import dataclass, field, fields, replace
from typing import TYPE_CHECKING, Iterable, Sequence

import ahocorasick
import regex

from radar.errors import RadarError
from radar.scan import compiled
from radar.scan.findings import Finding
from radar.scan.sources.archives import ArchiveLimits
from radar.scan.rules import MATCH_TIMEOUT_SECONDS, Rule, RuleFieldError, RuleSet, load_default_rules, parse_rule
from radar.toml_lines import Path as KeyPath, key_lines, line_of

if TYPE_CHECKING:
    import pathspec

CONFIG_FILE = ".radar.toml"
# A configuration is a page of settings; more is not one, and would cost memory to read.
MAX_CONFIG_BYTES = 1 << 20
# What added rules' examples may expand to, all together: `{alnum:N}` makes N characters.
MAX_EXAMPLES_TEXT = 1 << 20
_TOP_KEYS = ("disable", "rules", "allowlist", "archives")
_ARCHIVE_KEYS = tuple(f.name for f in fields(ArchiveLimits))
# What an expression may not hold to be searched as one branch of an alternation with the others:
# inline flags (in the `regex` module's version 0 they apply to the whole pattern), references to
# groups by number or by name, recursion, branch resets and backtracking verbs such as (*SKIP).
# Read conservatively: `[(?i)]` is refused too, which only costs a search of its own.
_UNCOMBINABLE = compiled.pattern(r"\(\?(?![:=!#]|<[=!]|P?<[A-Za-z_])|\(\*|\\[0-9gk]")
_ALLOWLIST_KEYS = ("paths", "regexes", "stopwords")


class ConfigError(RadarError):
    """The configuration cannot be used; the message names the file, line and key, and the fix."""


# --- allowlists --------------------------------------------------------------------------------


def gitignore_spec(patterns: Sequence[str]) -> "pathspec.GitIgnoreSpec":
    """Paths in gitignore syntax, matched as git matches them (`/`-separated, from the root).

    A pattern git would ignore (empty, a comment, an unclosed `[`) or refuse raises ValueError
    with the 0-based index of the first such pattern in `args[1]`."""
    import pathspec

    check_gitignore_patterns(patterns)
    return pathspec.GitIgnoreSpec.from_lines(patterns)


def check_gitignore_patterns(patterns: Sequence[str]) -> None:
    """`gitignore_spec`'s ValueError for `patterns`, without building the spec: a configuration is
    checked when loaded, and its allowlist builds the spec the first time a path is asked about."""
    import pathspec  # 15 ms: only scans whose configuration has paths pay for it

    for index, pattern in enumerate(patterns):
        if "\n" in pattern or "\r" in pattern:
            raise ValueError("a pattern is one line", index)
        try:  # each alone with the plain backend: compiling a hundred for Hyperscan took 0.4 s
            compiled = pathspec.GitIgnoreSpec.from_lines([pattern], backend="simple")
        except ValueError:
            raise ValueError("not a pattern git accepts (a lone `!` or a trailing `\\`)", index) from None
        if not compiled.patterns or compiled.patterns[0].include is None:
            raise ValueError("matches no path (an empty pattern, a `#` comment or an unclosed `[`)", index)


@dataclass(frozen=True)
class Allowlist:
    """One allowlist table: `key` is where it is written (`allowlist`, `allowlist.rules.ID`)."""

    key: str
    paths: tuple[str, ...] = ()
    regexes: tuple[str, ...] = field(default=(), repr=False)
    stopwords: tuple[str, ...] = field(default=(), repr=False)

    @functools.cached_property
    def _path_spec(self) -> "pathspec.GitIgnoreSpec | None":
        return gitignore_spec(self.paths) if self.paths else None

    @functools.cached_property
    def _compiled(self) -> tuple[regex.Pattern[str], ...]:
        return tuple(regex.compile(r) for r in self.regexes)

    @functools.cached_property
    def _combinable(self) -> tuple[int, ...]:
        """The regexes that can be searched as branches of one alternation (`_UNCOMBINABLE`)."""
        return tuple(i for i, r in enumerate(self.regexes) if not _UNCOMBINABLE.search(r))

    @functools.cached_property
    def _alone(self) -> tuple[int, ...]:
        return tuple(i for i, r in enumerate(self.regexes) if _UNCOMBINABLE.search(r))

    @functools.cached_property
    def _alternations(self) -> dict[tuple[int, int], regex.Pattern[str] | None]:
        return {}

    def _alternation(self, lo: int, hi: int) -> regex.Pattern[str] | None:
        """The combinable regexes `lo` to `hi` (positions in `_combinable`) as one expression; None
        when their group names clash and they must be searched one by one."""
        key = (lo, hi)
        if key not in self._alternations:
            try:
                self._alternations[key] = regex.compile(
                    "|".join(f"(?:{self.regexes[i]})" for i in self._combinable[lo:hi]))
            except regex.error:
                self._alternations[key] = None
        return self._alternations[key]

    def _first_match(self, value: str, lo: int, hi: int) -> int | None:
        """The index of the first regex of `_combinable[lo:hi]` found in `value`, or None.

        A search with a timeout costs ~20 us however simple the expression, so ten regexes tried
        one by one on 20,000 findings took 4 s. Most values match none, which one search of the
        alternation of all says; for one that matches, halving the range finds the first in
        about 2 log2(n) searches instead of n."""
        indices = self._combinable[lo:hi]
        pattern = self._alternation(lo, hi) if len(indices) > 1 else None
        try:
            if pattern is not None and not pattern.search(value, timeout=MATCH_TIMEOUT_SECONDS):
                return None
        except TimeoutError:  # not known either way
            pattern = None
        if pattern is None:  # each on its own
            return next((index for index in indices if self._search(index, value)), None)
        middle = (lo + hi) // 2
        first = self._first_match(value, lo, middle)
        return first if first is not None else self._first_match(value, middle, hi)

    def _search(self, index: int, value: str) -> bool:
        try:
            return self._compiled[index].search(value, timeout=MATCH_TIMEOUT_SECONDS) is not None
        except TimeoutError:
            return False  # not known to match: the finding stays reported

    @functools.cached_property
    def _stopword_automaton(self) -> ahocorasick.Automaton | None:
        # One pass over the value however many stopwords there are.
        if not self.stopwords:
            return None
        automaton = ahocorasick.Automaton()
        for index, word in enumerate(self.stopwords):
            folded = word.casefold()
            if folded not in automaton:  # the first entry of a repeated word names it
                automaton.add_word(folded, index)
        automaton.make_automaton()
        return automaton

    def value_reason(self, value: str) -> str | None:
        if self.regexes:
            first = self._first_match(value, 0, len(self._combinable))
            for index in self._alone:  # each on its own, if it comes before that one in the file
                if first is not None and index > first:
                    break
                if self._search(index, value):
                    first = index
                    break
            if first is not None:
                return f"config: {self.key}.regexes[{first}]"
        automaton = self._stopword_automaton
        if automaton is not None:
            for _, index in automaton.iter(value.casefold()):
                return f"config: {self.key}.stopwords[{index}]"
        return None

    @functools.cached_property
    def _path_reasons(self) -> dict[str, str | None]:
        return {}

    def path_reason(self, path: str) -> str | None:
        spec = self._path_spec
        if spec is None:
            return None
        known = self._path_reasons  # a history finding's many locations share few paths
        if path not in known:
            result = spec.check_file(path)
            reason = f"config: {self.key}.paths[{result.index}]" if result.include else None
            if reason is None and "!" in path:  # an archive member: what allowlists the archive does too
                reason = self.path_reason(path.rsplit("!", 1)[0])
            known[path] = reason
        return known[path]

    def __getstate__(self) -> dict:
        # Only the fields cross to a worker process: compiled forms are rebuilt there when used
        # (pathspec's Hyperscan backend cannot be pickled).
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def __setstate__(self, state: dict) -> None:
        for name, value in state.items():
            object.__setattr__(self, name, value)


@dataclass(frozen=True)
class Allowlists:
    """The global allowlist and the per-rule ones."""

    everywhere: Allowlist | None = None
    by_rule: tuple[tuple[str, Allowlist], ...] = ()

    def _for(self, rule_id: str) -> Iterable[Allowlist]:
        if self.everywhere is not None:
            yield self.everywhere
        for key, allowlist in self.by_rule:
            if key == rule_id:
                yield allowlist

    def __bool__(self) -> bool:
        return self.everywhere is not None or bool(self.by_rule)

    def value_reason(self, rule_id: str, value: str) -> str | None:
        """Why the value a rule found is allowlisted (`config: allowlist.stopwords[0]`), or None."""
        for allowlist in self._for(rule_id):
            reason = allowlist.value_reason(value)
            if reason:
                return reason
        return None

    def path_reason(self, rule_id: str, path: str) -> str | None:
        for allowlist in self._for(rule_id):
            reason = allowlist.path_reason(path)
            if reason:
                return reason
        return None

    def apply_paths(self, findings: Iterable[Finding]) -> list[Finding]:
        """The findings, those at an allowlisted path marked ignored with the reason."""
        if not any(a.paths for _, a in self.by_rule) and (self.everywhere is None or not self.everywhere.paths):
            return list(findings)
        marked = []
        for finding in findings:
            reason = None if finding.ignored else self.path_reason(finding.rule_id, finding.path)
            marked.append(replace(finding, ignored=True, ignore_reason=reason) if reason else finding)
        return marked


# --- the configuration -------------------------------------------------------------------------


@dataclass(frozen=True)
class ScanConfig:
    """What a `.radar.toml` changes; `ScanConfig()` (NO_CONFIG) changes nothing."""

    source: str | None = None  # where it was read, as shown to the user
    added: tuple[Rule, ...] = ()
    disabled: frozenset[str] = frozenset()
    allowlists: Allowlists = Allowlists()
    archives: ArchiveLimits = ArchiveLimits()  # [archives]: how deep and how much archives are read

    def ruleset(self, base: RuleSet) -> RuleSet:
        return base.changed(self.added, self.disabled)


NO_CONFIG = ScanConfig()


def find_config(path: str | None, *, history: bool = False, explicit: str | None = None,
                ignore_found: bool = False) -> ScanConfig:
    """The configuration for a scan of `path` (None: a GitLab scan, which has no root)."""
    if explicit is not None:
        return load_config(read_config_file(explicit, explicit), explicit)
    if ignore_found or path is None:
        return NO_CONFIG
    if history:
        from radar.scan.sources.git import open_repository, tip_file

        repository = open_repository(path)
        if repository.bare:  # no work tree: the file as committed at the default branch's tip
            found = tip_file(repository.top, CONFIG_FILE, MAX_CONFIG_BYTES)
            return NO_CONFIG if found is None else load_config(_decode(found[1], found[0]), found[0])
        # A sub-directory's history: its own file.
        path = os.path.join(repository.top, repository.prefix) if repository.prefix else repository.top
    if not os.path.isdir(path):
        return NO_CONFIG
    candidate = os.path.join(path, CONFIG_FILE)
    if not os.path.lexists(candidate):
        return NO_CONFIG
    return load_config(read_config_file(candidate, candidate, found=True), candidate)


def read_config_file(path: str, name: str, found: bool = False) -> str:
    """The text of the configuration at `path`: a regular file of at most MAX_CONFIG_BYTES of UTF-8.

    Opened without waiting (a FIFO planted as `.radar.toml` must not hang a scan) and checked
    to be a regular file before it is read."""
    skip = " (or scan with --no-config)" if found else ""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as e:
        raise ConfigError(f"{name}: cannot read the configuration: {(e.strerror or str(e)).lower()}{skip}") from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise ConfigError(f"{name}: the configuration is not a regular file{skip}")
        with os.fdopen(fd, "rb", closefd=False) as f:
            data = f.read(MAX_CONFIG_BYTES + 1)
    except OSError as e:
        raise ConfigError(f"{name}: cannot read the configuration: {(e.strerror or str(e)).lower()}{skip}") from None
    finally:
        os.close(fd)
    return _decode(data, name)


def _decode(data: bytes, name: str) -> str:
    if len(data) > MAX_CONFIG_BYTES:
        raise ConfigError(f"{name}: the configuration is over {MAX_CONFIG_BYTES >> 20} MiB; "
                          "it holds settings, not data")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data[:e.start].count(b"\n") + 1
        raise ConfigError(f"{name}:{line}: not UTF-8 text (TOML files are UTF-8)") from None


def load_config(text: str, name: str, shipped: RuleSet | None = None) -> ScanConfig:
    """The configuration in `text` (read from `name`), checked against the `shipped` rules."""
    return _Loader(text, name, shipped or load_default_rules()).load()


class _Loader:
    def __init__(self, text: str, name: str, shipped: RuleSet) -> None:
        self.text = text
        self.name = name
        self.shipped = shipped
        self._lines: dict[KeyPath, int] | None = None

    def fail(self, path: KeyPath, problem: str) -> ConfigError:
        if self._lines is None:
            self._lines = key_lines(self.text)
        line = line_of(self._lines, path)
        where = f"{self.name}:{line}" if line is not None else self.name
        return ConfigError(f"{where}: {_dotted(path)}: {problem}")

    def load(self) -> ScanConfig:
        try:
            document = tomllib.loads(self.text)
        except tomllib.TOMLDecodeError as e:
            raise ConfigError(f"{self.name}:{_toml_position(str(e), self.text)}not valid TOML: "
                              f"{_toml_reason(str(e))}") from None
        except RecursionError:
            raise ConfigError(f"{self.name}: not valid TOML: arrays or tables nested too deeply") from None
        for key in document:
            if key not in _TOP_KEYS:
                raise self.fail((key,), f"unknown key{_suggest(key, _TOP_KEYS)}; a configuration has "
                                        "disable, [[rules]], [allowlist] and [archives]")
        added = self._rules(document.get("rules", []))
        known = {rule.id for rule in self.shipped.rules} | {rule.id for rule in added}
        disabled = frozenset(self._rule_ids(document.get("disable", []), ("disable",), known))
        allowlists = self._allowlists(document.get("allowlist", {}), known)
        if added:
            self._check_examples(added)
        archives = self._archives(document.get("archives", {}))
        return ScanConfig(self.name, added, disabled, allowlists, archives)

    # -- [archives] -----------------------------------------------------------------------------

    def _archives(self, table: object) -> ArchiveLimits:
        if not isinstance(table, dict):
            raise self.fail(("archives",), f"must be a table: [archives] with {', '.join(_ARCHIVE_KEYS)}")
        for key, value in table.items():
            if key not in _ARCHIVE_KEYS:
                raise self.fail(("archives", key), f"unknown key{_suggest(key, _ARCHIVE_KEYS)}; "
                                                   f"[archives] has {', '.join(_ARCHIVE_KEYS)}")
            # depth 0 turns archive reading off; every other limit must let something through.
            if type(value) is not int or value < (0 if key == "depth" else 1):
                raise self.fail(("archives", key), "must be a whole number" + (" (0 or more)" if key == "depth"
                                                                                 else " of 1 or more"))
        return ArchiveLimits(**table)

    # -- [[rules]] ------------------------------------------------------------------------------

    def _rules(self, entries: object) -> tuple[Rule, ...]:
        if not isinstance(entries, list):
            raise self.fail(("rules",), "must be an array of tables: write each rule under [[rules]]")
        rules: list[Rule] = []
        seen: set[str] = set()
        for index, entry in enumerate(entries):
            try:
                rule = parse_rule(self.name, entry, check_expression=True, require_examples=False)
            except RuleFieldError as e:
                path: KeyPath = ("rules", index, *_field_path(e.field))
                raise self.fail(path, str(e)) from None
            if rule.id in self.shipped:
                raise self.fail(("rules", index, "id"), f"{rule.id!r} is a shipped rule: give yours another id "
                                                         f"(and add {rule.id!r} to disable to replace it)")
            if rule.id in seen:
                raise self.fail(("rules", index, "id"), f"{rule.id!r} is defined twice")
            seen.add(rule.id)
            rules.append(rule)
        return tuple(rules)

    def _check_examples(self, added: tuple[Rule, ...]) -> None:
        """Each added rule finds its true examples and none of its false ones, as the test suite
        checks the shipped rules' (scanned alone, in an ordinary source file's place)."""
        from radar.scan.engine import Engine
        from radar.scan.examples import TemplateError, TemplateTooLong, expand
        from radar.scan.findings import FingerprintKey

        engine = Engine(RuleSet(added), FingerprintKey(b"examples"))
        budget = MAX_EXAMPLES_TEXT  # for all examples together: checking them stays linear in the file
        for index, rule in enumerate(added):
            for kind, examples in (("true", rule.true_examples), ("false", rule.false_examples)):
                for number, template in enumerate(examples):
                    path: KeyPath = ("rules", index, "examples", kind, number)
                    try:
                        text = expand(template, f"{rule.id}/{kind}/{number}", max_length=budget)
                    except TemplateTooLong:
                        raise self.fail(path, f"the examples expand to over {MAX_EXAMPLES_TEXT >> 20} MiB "
                                              "together: keep fewer or shorter ones") from None
                    except TemplateError as e:
                        raise self.fail(path, f"not a valid example template: {e}") from None
                    budget -= len(text)
                    found = rule.id in {f.rule_id for f in engine.scan(text, "src/settings.conf").findings}
                    if kind == "true" and not found:
                        raise self.fail(path, f"rule {rule.id} does not find this true example: "
                                              "fix its regex or keywords, or the example")
                    if kind == "false" and found:
                        raise self.fail(path, f"rule {rule.id} finds this false example: "
                                              "tighten its regex, or fix the example")

    # -- rule ids -------------------------------------------------------------------------------

    def _rule_ids(self, value: object, path: KeyPath, known: set[str]) -> list[str]:
        if not isinstance(value, list):
            raise self.fail(path, 'must be a list of rule ids, like ["generic-password"]')
        for index, rule_id in enumerate(value):
            if not isinstance(rule_id, str):
                raise self.fail(path + (index,), "must be a rule id (a string)")
            self._known(rule_id, path + (index,), known)
        return list(value)

    def _known(self, rule_id: str, path: KeyPath, known: set[str]) -> None:
        from radar.scan.credential_files import CREDENTIAL_FILE_IDS

        if rule_id in known or rule_id in CREDENTIAL_FILE_IDS:
            return
        from radar.scan.gitlab_checks import CHECK_IDS  # loads python-gitlab: only when needed

        if rule_id in CHECK_IDS:
            return
        # The id is not quoted: the line and key say which, and a mistyped line may hold anything.
        raise self.fail(path, f"unknown rule id{_suggest(rule_id, sorted(known | set(CHECK_IDS)))}; "
                              "use a rule_id as radar reports it")

    # -- [allowlist] ----------------------------------------------------------------------------

    def _allowlists(self, table: object, known: set[str]) -> Allowlists:
        if not isinstance(table, dict):
            raise self.fail(("allowlist",), "must be a table: [allowlist] with paths, regexes, stopwords")
        everywhere = self._allowlist(table, ("allowlist",), ("rules",))
        by_rule = []
        rules = table.get("rules", {})
        if not isinstance(rules, dict):
            raise self.fail(("allowlist", "rules"), "must be a table of rule ids: [allowlist.rules.RULE-ID]")
        for rule_id, entry in rules.items():
            path = ("allowlist", "rules", rule_id)
            self._known(rule_id, path, known)
            if not isinstance(entry, dict):
                raise self.fail(path, "must be a table with paths, regexes, stopwords")
            allowlist = self._allowlist(entry, path, ())
            if allowlist is not None:
                by_rule.append((rule_id, allowlist))
        return Allowlists(everywhere, tuple(by_rule))

    def _allowlist(self, table: dict, path: KeyPath, also: tuple[str, ...]) -> Allowlist | None:
        for key in table:
            if key not in _ALLOWLIST_KEYS + also:
                raise self.fail(path + (key,), f"unknown key{_suggest(key, _ALLOWLIST_KEYS + also)}; "
                                               f"an allowlist has {', '.join(_ALLOWLIST_KEYS + also)}")
        lists = {key: self._strings(table.get(key, []), path + (key,)) for key in _ALLOWLIST_KEYS}
        try:
            check_gitignore_patterns(lists["paths"])
        except ValueError as e:
            raise self.fail(path + ("paths", e.args[1]), e.args[0]) from None
        for index, expression in enumerate(lists["regexes"]):
            try:
                regex.compile(expression)
            except regex.error as e:  # its message says where in the expression, not what it holds
                raise self.fail(path + ("regexes", index), f"does not compile: {e}") from None
        if not any(lists.values()):
            return None
        return Allowlist(".".join(map(str, path)), tuple(lists["paths"]), tuple(lists["regexes"]),
                         tuple(lists["stopwords"]))

    def _strings(self, value: object, path: KeyPath) -> list[str]:
        if not isinstance(value, list):
            raise self.fail(path, f"must be a list of strings, like {path[-1]} = [\"...\"]")
        for index, item in enumerate(value):
            if not isinstance(item, str):
                raise self.fail(path + (index,), "must be a string")
            if not item:
                raise self.fail(path + (index,), "must not be empty (it would match everything)")
        return value


def _field_path(name: str) -> KeyPath:
    """A rule field as RuleFieldError names it (`examples.true`, `keywords[2]`) as a key path."""
    path: list[str | int] = []
    for part in name.split(".") if name else ():
        key, _, index = part.partition("[")
        path.append(key)
        if index:
            path.append(int(index.rstrip("]")))
    return tuple(path)


def _dotted(path: KeyPath) -> str:
    """`("rules", 0, "examples", "true", 1)` as `rules[0].examples.true[1]`."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


def _suggest(word: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _toml_position(message: str, text: str) -> str:
    """`3:7: ` from tomllib's `... (at line 3, column 7)`; the last line's number at the end."""
    found = regex.search(r"\(at line (\d+), column (\d+)\)$", message)
    if found:
        return f"{found.group(1)}:{found.group(2)}: "
    return f"{max(1, len(text.splitlines()))}: "


def _toml_reason(message: str) -> str:
    reason = regex.sub(r" \(at (?:line \d+, column \d+|end of document)\)$", "", message)
    if message.endswith("(at end of document)"):
        reason += " (at the end of the file)"
    return reason[:1].lower() + reason[1:]
