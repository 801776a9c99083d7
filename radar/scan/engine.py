"""The scanning engine: text in, findings out, for one text unit at a time.

Algorithm. Every rule names keywords (a token prefix, a variable name). One keyword index
(`prefilter.KeywordIndex`: Hyperscan, or pyahocorasick's Aho-Corasick automaton where Hyperscan
is missing) holds all keywords of all rules, lower-cased, plus two kinds of decode
triggers: the base64 fragments of every keyword (at its three possible alignments, so a blob that
decodes to text containing a keyword always contains one) and the percent-escapes of `:`, `=`,
`@`, `/`. One case-insensitive pass over the text says which rules can match and on
which lines. A rule's expression then runs only on those lines (a multi-line rule from the line
on, `span` characters at most), each search bounded by a timeout so that no expression can hang
a scan. A generic rule's expression is not searched for along the line but tried only where a
match can begin (the start of the name's key if an operator follows it, a `<` before it, an `ENV`
line), which finds the same matches for a fraction of the cost: prose and code mention `token`
and `password` far more often than they assign them. Hyperscan reports those places with the
keywords (`generic.start_patterns`); without it they are worked out from the keyword hits
(`generic.assignment_starts`). A window is passed over without a search where it lacks a
literal that every match of the rule holds (`gate.required_literals`: the `@` of a credential
URL), or, for a rule that gives names and a value, a match of the value alone; the rule's
expression is then not even compiled. Each match is judged: generic rules by `generic.judge`, others by
their entropy floor and the placeholder filter; a validator then raises or lowers confidence.
Base64 and percent-encoded runs around a decode trigger are decoded and scanned the same way
(depth at most `max_decode_depth`, blobs at most MAX_BLOB characters); their findings take the
blob's place. Overlapping candidates are de-duplicated (`findings.dedupe`), and inline
suppressions, then a scan configuration's value allowlists (`config.Allowlists`, the one place
they can see the value), mark findings as ignored.

Cost stays linear in a text's length, however it is shaped (a 3 MB line of 100,000 assignments,
a million keyword hits): a line is looked up once however many hits and findings it holds, each
rule searches a line at most once (and, if it gives names and a value, its value once before), a
finding reads at most generic.NAME_CONTEXT characters of its line, and hits are kept as 8-byte
offsets. Decoding is bounded too: the runs of one kind in a text
do not overlap, so a layer reads the text above it at most twice (base64 runs inside a percent
run) and yields at most 1.75 times as much, for at most `max_decode_depth` (3) layers.

Invariants: a rule is compiled at most once per process, when first needed (`Rule.pattern`); the
secret value lives only in local variables of this module, never in a Finding, a warning or an
exception.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import sys
import urllib.parse
from array import array
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator, Sequence

import regex

from radar import json_input
from radar.scan import compiled, filters, generic, manifests, validators
from radar.scan.config import Allowlists
from radar.scan.findings import Candidate, Finding, FingerprintKey, Origin, dedupe, preview
from radar.scan import gate as gate_module, prefilter
from radar.scan.cache_files import cache_path, store_cached
from radar.scan.prefilter import KeywordIndex
from radar.scan.rules import MATCH_TIMEOUT_SECONDS, Rule, RuleSet

DEFAULT_DECODE_DEPTH = 2
MAX_BLOB = 256 * 1024
MAX_BLOBS_PER_TEXT = 2000
_B64_TRIGGER = -1
_PCT_TRIGGER = -2
_REPORTED = -3  # and below: a generic rule's start pattern or a rule's gate matched (Engine.__init__)
_GATE = 3  # the form of a gate's hits (0-2: generic.START_FORMS)
_PCT_KEYWORDS = ("%3a", "%3d", "%40", "%2f")
_B64_RUN = compiled.pattern(r"[A-Za-z0-9+/_-]{16,}={0,2}")
# A percent-encoded blob is a whole run of URL characters holding an escape. Found as the run,
# then the escape in it: one expression for both backtracked over a run without an escape from
# each of its characters, cubic in a line of `%zz%zz...` (12 KB took 21 s).
_URL_RUN = compiled.pattern(r"[A-Za-z0-9%._~+\-/:=@&?;!$*,]+")
_PCT_ESCAPE = compiled.pattern(r"%[0-9A-Fa-f]{2}")
_CALL = compiled.pattern(r"[ \t]*\(")  # after a bare value: the value is a function called
SUPPRESSIONS = ("radar:ignore", "gitleaks:allow", "pragma: allowlist secret")
NEXT_LINE_SUPPRESSIONS = ("radar:ignore-next-line", "pragma: allowlist nextline secret")


def _offsets(values: Iterable[int] = ()) -> array[int]:
    """Offsets (of hits, of line starts) in a typed array: a text can hold millions of them, at
    8 bytes each where a list spends 36 (a pointer and an integer object)."""
    return array("q", values)


@dataclass
class _Match:
    rule: Rule
    start: int
    end: int
    value: str = field(repr=False)
    validated: bool | None
    encoding: tuple[str, ...] = ()
    weak: bool = False  # a weak password (generic.weak_password): reported at low confidence
    name: str | None = None  # the key that holds the value, when the rule read it (a manifest's data key)


@dataclass
class _Hits:
    """A text's keyword hits (offsets of their last characters, ascending), by what they are for."""

    rules: dict[int, array[int]]  # by rule index
    starts: dict[int, list[tuple[int, int]]]  # generic rule index: (offset, form) of start patterns
    gates: dict[int, array[int]]  # rule index: offsets of its gate's hits
    base64: array[int]
    percent: array[int]


def _sink(hits: _Hits, index: int) -> Callable[[int], None]:
    """What records a hit (its offset) of the role `index` in `hits`."""
    if index >= 0:
        return hits.rules.setdefault(index, _offsets()).append
    if index == _B64_TRIGGER:
        return hits.base64.append
    if index == _PCT_TRIGGER:
        return hits.percent.append
    rule_index, form = divmod(_REPORTED - index, 4)
    if form == _GATE:
        return hits.gates.setdefault(rule_index, _offsets()).append
    starts = hits.starts.setdefault(rule_index, [])
    return lambda end: starts.append((end, form))


@dataclass
class TextResult:
    findings: list[Finding]
    warnings: list[str]


class Engine:
    def __init__(self, ruleset: RuleSet, key: FingerprintKey, max_decode_depth: int = DEFAULT_DECODE_DEPTH,
                 prefilter: str | None = None, allowlists: Allowlists | None = None) -> None:
        self.rules = ruleset.rules
        self.key = key
        self.allowlists = allowlists or None
        self.max_decode_depth = max_decode_depth
        plan = _cached_plan(self.rules, max_decode_depth)
        self._anchored = plan.anchored
        self._gated = plan.gated
        # Keywords of rules with a gate only (`pat`, `re_`) are looked for in a second index, only
        # in texts where a gate matched: elsewhere their hits would lead nowhere.
        # Most of the 22,000 keys are decode triggers, whose (negative, sorted first) role rules
        # them out at once: checking each role of each key took 8 ms of every scan's start.
        gated_only = {k: v for k, v in plan.roles.items() if v and v[0] >= 0 and all(r in plan.gated for r in v)}
        self._keywords = KeywordIndex({k: v for k, v in plan.roles.items() if k not in gated_only}, prefilter,
                                      plan.patterns)
        self._gated_keywords: KeywordIndex | None = None
        if gated_only and self._keywords.patterns_supported:
            self._gated_keywords = KeywordIndex(gated_only, prefilter)
        elif gated_only:  # no gates without Hyperscan's patterns: one index for every keyword
            self._keywords = KeywordIndex(plan.roles, prefilter)

    def scan(self, text: str, path: str, origin: Origin = Origin(), data: bytes | None = None) -> TextResult:
        """Findings in `text`; `data`, if the caller has it, is `text` as UTF-8 (saves encoding it)."""
        warnings: list[str] = []
        matches = self._matches(text, 0, path, warnings, data)
        if not matches:
            return TextResult([], warnings)
        context = filters.path_tags(path)
        if filters.MINIFIED not in context and filters.is_minified(path, text):
            context += (filters.MINIFIED,)
        lines = _LineIndex(text)
        candidates = [self._candidate(m, path, origin, context, lines) for m in matches]
        return TextResult(dedupe(candidates), warnings)

    # --- matching ----------------------------------------------------------------------------

    def _hits(self, text: str, data: bytes | None = None) -> _Hits:
        hits = _Hits({}, {}, {}, _offsets(), _offsets())
        # Where a hit goes is worked out once per set of roles, not once per hit: a text can hold
        # millions of hits of a few keywords.
        sinks: dict[tuple[int, ...], list[Callable[[int], None]]] = {}
        for end, indices in self._keywords.hits(text, data):
            adds = sinks.get(indices)
            if adds is None:
                adds = sinks[indices] = [_sink(hits, index) for index in indices]
            for add in adds:
                add(end)
        if hits.gates and self._gated_keywords is not None:
            extended = set()
            for end, indices in self._gated_keywords.hits(text, data):
                for index in indices:
                    hits.rules.setdefault(index, _offsets()).append(end)
                    extended.add(index)
            for index in extended:
                hits.rules[index] = _offsets(sorted(hits.rules[index]))
        return hits

    def _matches(self, text: str, depth: int, path: str, warnings: list[str],
                 data: bytes | None = None) -> list[_Match]:
        grouped = self._hits(text, data)
        hits, b64_hits, pct_hits = grouped.rules, grouped.base64, grouped.percent
        found: list[_Match] = []
        code = generic.is_code(path)
        ascii_text = text.isascii()
        for index, positions in hits.items():
            if self.rules[index].structure is not None:
                found.extend(self._structured(text, index, positions, grouped, path, warnings, ascii_text))
                continue
            for m in self._rule_matches(text, index, positions, grouped, path, warnings, ascii_text):
                match = self._judge(self.rules[index], m, code)
                if match is not None:
                    found.append(match)
        if depth < self.max_decode_depth and (b64_hits or pct_hits):
            found.extend(self._decoded(text, b64_hits, pct_hits, depth, path, warnings))
        return found

    def _rule_matches(self, text: str, index: int, positions: Sequence[int], hits: _Hits,
                      path: str, warnings: list[str], ascii_text: bool) -> Iterator[regex.Match[str]]:
        """A rule's matches on the lines around its keyword hits (`positions`)."""
        rule = self.rules[index]
        longest = self._anchored.get(index)
        reported = self._keywords.patterns_supported
        starts = None
        if longest is not None:
            starts = (generic.reported_starts(text, hits.starts.get(index, []), longest) if reported
                      else generic.assignment_starts(text, positions, longest))
        if starts == [] and ascii_text:
            # No place where the expression can begin (the names are mentioned, not assigned):
            # nothing to search, and the expression need not even be compiled (in each worker).
            return
        gates = hits.gates.get(index, []) if reported and index in self._gated else None
        if gates == []:
            return  # every match starts with the gate, and it matched nowhere
        value = rule.value_pattern
        required = rule.required_literals
        lengths = rule.keyword_lengths if starts is None else None
        for start, stop in _windows(text, positions, rule):
            if gates is not None:
                # A match in the window ends in it, and its gate no later: the window holds the
                # gate's last character.
                i = bisect_left(gates, start)
                if i == len(gates) or gates[i] >= stop:
                    continue
            if starts is not None and ascii_text:
                # Matches begin only at starts: most lines that name a secret hold none.
                i = bisect_left(starts, start)
                if i == len(starts) or starts[i] >= stop:
                    continue
            if required and any(text.find(piece, start, stop) < 0 for piece in required):
                continue  # a literal every match holds is missing (a URL without `@`)
            try:
                # A rule with names and a value matches only where its value does (after the key,
                # before `stop`): most lines that assign its names hold no such value, and there
                # its expression is neither searched nor compiled (5 ms in each worker).
                if value is not None and value.search(text, start, stop, timeout=MATCH_TIMEOUT_SECONDS) is None:
                    continue
                # A non-ASCII line can hold names that the keyword index and Hyperscan, which see
                # ASCII, did not find where the expression does (Unicode case folding and word
                # characters): such a line is searched whole.
                if lengths is not None and (ascii_text or text[start:stop].isascii()):
                    begins = _keyword_starts(positions, start, stop, lengths)
                else:
                    begins = None
                if begins is not None:
                    matches: Iterable[regex.Match[str]] = _anchored_matches(rule.pattern, text, start, stop, begins)
                elif starts is None or not (ascii_text or text[start:stop].isascii()
                                            or generic.starts_suffice(text, start, stop, positions, longest)):
                    matches = rule.pattern.finditer(text, start, stop, timeout=MATCH_TIMEOUT_SECONDS)
                else:
                    matches = _anchored_matches(rule.pattern, text, start, stop, starts)
                yield from matches
            except TimeoutError:
                warnings.append(f"{path}: rule {rule.id} took over {MATCH_TIMEOUT_SECONDS:g} s near offset {start}; skipped there")

    def _structured(self, text: str, index: int, positions: Sequence[int], hits: _Hits, path: str,
                    warnings: list[str], ascii_text: bool) -> Iterator[_Match]:
        """The values a structure rule's reader takes from the documents its markers are in; a
        document is read once, however many markers it holds."""
        rule = self.rules[index]
        read = manifests.STRUCTURES[rule.structure]  # type: ignore[index]
        read_until = -1
        for m in self._rule_matches(text, index, positions, hits, path, warnings, ascii_text):
            if m.start() < read_until:
                continue
            (_, read_until), values = read(text, m.start())
            for v in values:
                if rule.entropy is None or filters.entropy(v.value) >= rule.entropy:
                    yield _Match(rule, v.start, v.end, v.value, None, name=v.key)

    def _judge(self, rule: Rule, m: regex.Match[str], code: bool) -> _Match | None:
        weak = False
        if "secret" in m.re.groupindex and m.group("secret") is not None:
            start, end = m.span("secret")
            value = m.group("secret")
        else:
            start, end = m.span()
            value = m.group(0)
        if rule.kind == "generic":
            quoted = start > 0 and m.string[start - 1] in "\"'`"
            called = not quoted and _CALL.match(m.string, end, end + 64) is not None
            # In program source an unquoted value is code (`token = Punctuation`), not a literal.
            if code and not quoted:
                return None
            key = m.group("key") or ""
            if not generic.judge(key, value, rule.entropy, called):
                if not generic.weak_password(key, value, called):
                    return None
                weak = True
        else:
            if rule.entropy is not None and filters.entropy(value) < rule.entropy:
                return None
            if rule.names and not generic.key_may_hold_credential(m.group("key") or ""):
                return None  # VIRUSTOTAL_FILE_SHA256, SENDBIRD_APP_ID: the name, not a credential
            # A key whose own prefix begins with `$` (Asaas's `$aact_`) is read past it: a `$VAR`
            # reference is what the leading `$` means everywhere else.
            own_dollar = any(k[0] == "$" and value[:len(k)].lower() == k for k in rule.keywords)
            if filters.is_placeholder(value[1:] if own_dollar else value):
                return None
            # `https://alice:s3cr3t@api.example.com`: a made-up password on a documentation host.
            # A random one there is kept: examples are often written with a real value pasted in.
            if ("host" in m.re.groupindex and m.group("host") and filters.is_documentation_host(m.group("host"))
                    and not generic.looks_random(value)):
                return None
        validated = validators.validate(rule.validator, value) if rule.validator else None
        if validated is False and rule.requires_validation:
            return None
        return _Match(rule, start, end, value, validated, weak=weak)

    def _decoded(self, text: str, b64_hits: Sequence[int], pct_hits: Sequence[int], depth: int, path: str,
                 warnings: list[str]) -> list[_Match]:
        blobs: dict[tuple[int, int], str] = {}
        for positions, kind in ((b64_hits, "base64"), (pct_hits, "percent")):
            for start, stop in _windows(text, positions, None):
                for m in _encoded_runs(text, start, stop, kind):
                    if len(blobs) >= MAX_BLOBS_PER_TEXT:
                        break
                    # Only runs that contain a trigger can decode to something a rule looks for.
                    i = bisect_left(positions, m.start() + 1)
                    if i < len(positions) and positions[i] <= m.end() and m.end() - m.start() <= MAX_BLOB:
                        blobs.setdefault(m.span(), kind)
        results: list[_Match] = []
        for (start, end), kind in blobs.items():
            decoded = _decode(text[start:end], kind)
            if decoded is None:
                continue
            for inner in self._matches(decoded, depth + 1, path, warnings):
                results.append(_Match(inner.rule, start, end, inner.value, inner.validated, (kind, *inner.encoding),
                                      inner.weak))
        return results

    # --- findings ----------------------------------------------------------------------------

    def _candidate(self, m: _Match, path: str, origin: Origin, context: tuple[str, ...], lines: _LineIndex) -> Candidate:
        rule = m.rule
        confidence = rule.confidence
        tags = list(context)
        if m.validated is True:
            confidence = "high"
            tags.append(filters.VALIDATED)
        elif m.validated is False:
            confidence = "low"
            tags.append(filters.VALIDATION_FAILED)
        if filters.looks_like_sample(m.value):
            tags.append(filters.PLACEHOLDER_LIKE)
        if m.weak:
            tags.append(filters.WEAK_VALUE)
        if context or filters.PLACEHOLDER_LIKE in tags or m.weak:
            confidence = "low"
        tags.extend(f"decoded:{kind}" for kind in m.encoding)
        line, column = lines.position(m.start)
        end_line, end_column = lines.position(max(m.start, m.end - 1))
        reason = lines.suppression(line)
        if reason is None and self.allowlists is not None:
            reason = self.allowlists.value_reason(rule.id, m.value)
        finding = Finding(
            rule_id=rule.id, secret_type=rule.secret_type, description=rule.description,
            severity=rule.severity, confidence=confidence, path=path, line=line, column=column,
            end_line=end_line, end_column=end_column, fingerprint=self.key.fingerprint(m.value),
            preview=preview(m.value), tags=tuple(tags), ignored=reason is not None,
            ignore_reason=reason, origin=origin,
            name=origin.variable_key or m.name or lines.assigned_name(line, m.start),
        )
        return Candidate(finding, m.start, m.end, rule.priority, m.validated is True)



@dataclass
class _Plan:
    """What the keyword index holds for a rule set, and which rules use starts or gates."""

    roles: dict[str, tuple[int, ...]]  # keyword or decode trigger: roles
    patterns: dict[str, tuple[int, ...]]  # Hyperscan expression: roles
    anchored: dict[int, int]  # generic rule index: its longest name spelling
    gated: set[int]  # indices of rules with a gate


def _plan(rules: tuple[Rule, ...], max_decode_depth: int) -> _Plan:
    roles: dict[str, set[int]] = {}
    for index, rule in enumerate(rules):
        for keyword in rule.keywords:
            roles.setdefault(keyword, set()).add(index)
    # Triggers for each layer of base64: fragments of the keywords, then of those fragments.
    layer = {f for keyword in list(roles) for f in base64_fragments(keyword)}
    for depth in range(max_decode_depth):
        for fragment in layer:
            roles.setdefault(fragment.lower(), set()).add(_B64_TRIGGER)
        layer = {f for fragment in layer for f in base64_fragments(fragment, variants=False) if len(f) >= 7}
    for keyword in _PCT_KEYWORDS:
        roles.setdefault(keyword, set()).add(_PCT_TRIGGER)
    # Rules that read names (generic ones, and provider rules with names and a value) whose every
    # name spelling is a keyword run their expression only where a
    # match can begin (`generic.assignment_starts`); the value is the longest spelling.
    # Hyperscan finds those places itself (`generic.start_patterns`), role _REPORTED - (4 *
    # rule index + form); Python works them out from the keyword hits where it is missing.
    # Other rules with a gate (`gate.gate`) are searched only on lines where it matched, role
    # _REPORTED - (4 * rule index + _GATE).
    anchored: dict[int, int] = {}
    gated: set[int] = set()
    patterns: dict[str, set[int]] = {}
    for index, rule in enumerate(rules):
        spellings = tuple(dict.fromkeys(s for name in rule.names for s in generic.name_spellings(name)))
        # Provider rules that give names and a value share the generic rules' expression, and so
        # their starts (searching each line whole cost them double a directory scan's time).
        if spellings and all(s.isascii() and s in rule.keywords for s in spellings):
            anchored[index] = max(map(len, spellings))
            for form, expression in enumerate(generic.start_patterns(spellings)):
                patterns.setdefault(expression, set()).add(_REPORTED - (4 * index + form))
        elif rule.kind != "generic" and (expression := rule.gate or gate_module.gate(rule.expression)) is not None:
            gated.add(index)
            patterns.setdefault(expression, set()).add(_REPORTED - (4 * index + _GATE))
    return _Plan({k: tuple(sorted(v)) for k, v in roles.items()}, {p: tuple(sorted(v)) for p, v in patterns.items()},
                 anchored, gated)


def _cached_plan(rules: tuple[Rule, ...], max_decode_depth: int) -> _Plan:
    """`_plan`, or what it gave last time for the same rules and code.

    Working out twelve thousand base64 triggers and 130 gates took 0.1 s, before any worker could
    start. The plan is kept as JSON beside the keyword database, named by a hash of what it is
    made from: the rules' keywords, names and expressions, the decode depth and this code."""
    digest = hashlib.sha256(sys.version.encode())  # gates come from Python's own regex parser
    try:
        # prefilter: its `literal` writes the gates' and start patterns' literals.
        for module in (__file__, generic.__file__, gate_module.__file__, prefilter.__file__):
            digest.update(Path(module).read_bytes())
    except (OSError, TypeError):  # no source to name the code by: no cache
        return _plan(rules, max_decode_depth)
    digest.update(json.dumps([max_decode_depth, [[r.id, r.kind, r.keywords, r.names, r.expression, r.gate]
                                                 for r in rules]]).encode())
    path = cache_path(f"plan-{digest.hexdigest()[:32]}.json")
    try:
        stored = json_input.loads(path.read_text())
        return _Plan({k: tuple(v) for k, v in stored["roles"].items()}, {k: tuple(v) for k, v in stored["patterns"].items()},
                     {int(k): v for k, v in stored["anchored"].items()}, set(stored["gated"]))
    except (OSError, ValueError, KeyError, TypeError, AttributeError):  # none yet, or unreadable
        pass
    plan = _plan(rules, max_decode_depth)
    store_cached(path, json.dumps({"roles": plan.roles, "patterns": plan.patterns, "anchored": plan.anchored,
                                   "gated": sorted(plan.gated)}).encode())
    return plan


def _anchored_matches(pattern: regex.Pattern[str], text: str, start: int, stop: int,
                      starts: list[int]) -> Iterator[regex.Match[str]]:
    """What `pattern.finditer(text, start, stop)` yields when matches can only begin at `starts`:
    leftmost first, each trial after the end of the previous match."""
    resume = start
    for i in range(bisect_left(starts, start), len(starts)):
        offset = starts[i]
        if offset >= stop:
            break
        if offset < resume:
            continue
        m = pattern.match(text, offset, stop, timeout=MATCH_TIMEOUT_SECONDS)
        if m is not None:
            resume = m.end()
            yield m


# A line at least this many characters long per keyword hit on it is not searched along its length
# but tried where a keyword begins, for a rule whose every match begins with one (a search costs
# about as much as trying 500 places: generated code puts a keyword on a 160,000-character line).
LONG_LINE_PER_HIT = 512


def _keyword_starts(positions: Sequence[int], start: int, stop: int, lengths: tuple[int, ...]) -> list[int] | None:
    """Where, in `text[start:stop]` (ASCII), a keyword of `lengths` ending at one of `positions`
    begins: every place a match of a rule whose matches begin with its keywords can begin. None
    where the window is short for its hits, and a search along it costs less."""
    lo, hi = bisect_left(positions, start), bisect_left(positions, stop)
    if stop - start < LONG_LINE_PER_HIT * (hi - lo):
        return None
    return sorted({end - length + 1 for end in positions[lo:hi] for length in lengths if end - length + 1 >= start})


def _windows(text: str, positions: Sequence[int], rule: Rule | None) -> list[tuple[int, int]]:
    """The merged ranges of whole lines around keyword hits (`positions`, ascending); a multi-line
    rule's range runs from its hit's line start to `span` characters past the hit.

    Each line is looked up once, however many hits it holds: a one-line text with a million hits
    costs one pass over the line, not one per hit."""
    ranges: list[tuple[int, int]] = []
    line_start = 0
    line_end = -1  # the current line is text[line_start:line_end]; hits before line_end are on it
    for pos in positions:
        if pos >= line_end:
            line_start = text.rfind("\n", 0, pos) + 1
            line_end = text.find("\n", pos)
            if line_end < 0:
                line_end = len(text)
        elif rule is None or not rule.multiline:
            continue  # the range already holds the whole line
        stop = min(len(text), pos + rule.span) if rule is not None and rule.multiline else line_end
        if rule is not None and rule.names and _opens_element(text, line_start, line_end):
            stop = _element_end(text, line_end)
        if ranges and line_start <= ranges[-1][1] + 1:
            ranges[-1] = (ranges[-1][0], max(ranges[-1][1], stop))
        else:
            ranges.append((line_start, stop))
    return ranges


# An XML or HTML element whose text sits on lines of its own (`<apiToken>`, the value, then
# `</apiToken>`): a rule that reads names sees the line that opens it and the two after it.
ELEMENT_REACH = 1024


def _opens_element(text: str, line_start: int, line_end: int) -> bool:
    end = line_end
    while end > line_start and text[end - 1] in " \t\r":
        end -= 1
    return end > line_start and text[end - 1] == ">" and text[end - 2:end] != "/>" and end < len(text)


def _element_end(text: str, line_end: int) -> int:
    stop = line_end
    for _ in range(2):
        following = text.find("\n", stop + 1, line_end + ELEMENT_REACH)
        stop = following if following >= 0 else min(len(text), line_end + ELEMENT_REACH)
    return stop


def _encoded_runs(text: str, start: int, stop: int, kind: str) -> Iterator[regex.Match[str]]:
    """The runs of base64 or percent-encoded text in `text[start:stop]`, in order."""
    if kind == "base64":
        yield from _B64_RUN.finditer(text, start, stop)
        return
    for m in _URL_RUN.finditer(text, start, stop):
        if _PCT_ESCAPE.search(text, m.start(), m.end()):
            yield m


def _decode(blob: str, kind: str) -> str | None:
    if kind == "percent":
        try:
            decoded = urllib.parse.unquote(blob, errors="strict")
        except UnicodeDecodeError:  # escapes of bytes that are not UTF-8 text
            return None
        return decoded if decoded != blob else None
    body = blob.rstrip("=")
    body += "=" * (-len(body) % 4)
    try:
        raw = base64.urlsafe_b64decode(body) if ("-" in body or "_" in body) else base64.b64decode(body)
        decoded = raw.decode("utf-8")
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return None
    printable = sum(1 for c in decoded if c.isprintable() or c in "\n\r\t")
    return decoded if printable >= 0.95 * len(decoded) else None


def base64_fragments(keyword: str, variants: bool = True) -> set[str]:
    """The base64 text that must appear in any encoding of `keyword`, at each alignment.

    Characters that depend on the unknown bytes before or after the keyword are cut off;
    fragments shorter than 5 characters match too much random text to be useful triggers. With
    `variants`, the lower-case, upper-case and capitalised spellings are encoded too (keywords
    match in any case; base64 text, the input of a second layer, has only one spelling).
    """
    fragments = set()
    spellings = {keyword, keyword.lower(), keyword.upper(), keyword.capitalize()} if variants else {keyword}
    for variant in spellings:
        raw = variant.encode("utf-8")
        for offset, skip in ((0, 0), (1, 2), (2, 3)):
            encoded = base64.b64encode(b"\0" * offset + raw).decode()
            full = (8 * (offset + len(raw))) // 6
            fragment = encoded[skip:full]
            if len(fragment) >= 5:
                fragments.add(fragment)
                fragments.add(fragment.replace("+", "-").replace("/", "_"))
    return fragments


class _LineIndex:
    """1-based line and column of offsets in a text, and what a line says about the values on it
    (its suppression marker, the names they are assigned to).

    One line can hold every finding of a text (minified JSON, a hostile one-line file): what
    depends on the whole line is worked out once per line, and per value only what lies within
    generic.NAME_CONTEXT characters before it, so the cost stays linear in the line's length.
    """

    def __init__(self, text: str) -> None:
        self.text = text
        self._starts: array[int] | None = None
        self._suppressions: dict[int, str | None] = {}
        self._openings: dict[int, regex.Match[str] | None] = {}

    def _line_starts(self) -> array[int]:
        if self._starts is None:
            starts = _offsets([0])
            find = self.text.find
            pos = find("\n")
            while pos >= 0:
                starts.append(pos + 1)
                pos = find("\n", pos + 1)
            self._starts = starts
        return self._starts

    def position(self, offset: int) -> tuple[int, int]:
        starts = self._line_starts()
        index = bisect_right(starts, offset) - 1
        return index + 1, offset - starts[index] + 1

    def _bounds(self, line: int) -> tuple[int, int]:
        starts = self._line_starts()
        end = starts[line] - 1 if line < len(starts) else len(self.text)
        return starts[line - 1], end

    def line_text(self, line: int) -> str:
        if not 1 <= line <= len(self._line_starts()):
            return ""
        start, end = self._bounds(line)
        return self.text[start:end]

    def suppression(self, line: int) -> str | None:
        if line not in self._suppressions:
            self._suppressions[line] = self._suppression(line)
        return self._suppressions[line]

    def _suppression(self, line: int) -> str | None:
        current = self.line_text(line)
        for marker in SUPPRESSIONS:
            if marker in current:
                return f"inline {marker}"
        previous = self.line_text(line - 1)
        for marker in NEXT_LINE_SUPPRESSIONS:
            if marker in previous:
                return f"inline {marker} on the line before"
        return None

    def assigned_name(self, line: int, offset: int) -> str | None:
        """The name the value at `offset`, on `line`, is assigned to (`generic.assigned_name`)."""
        start, end = self._bounds(line)
        if line not in self._openings:
            self._openings[line] = generic.line_assignment(self.text, start, end)
        return generic.assigned_name_in(self.text, start, offset, self._openings[line])
