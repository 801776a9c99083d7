"""The detector suite as compiled rules: loads `radar/detectors/rules/*.toml` once and checks each entry.

A rule file holds `[[rules]]` tables. Fields:

- `id` (unique, kebab-case), `description`, `secret_type` (what the value is, for reports and
  per-type statistics), `docs` (where the provider documents the format), `severity`
  (`critical`, `high`, `medium`, `low`).
- `regex`: a pattern for the `regex` module. The named group `secret` is the credential; without
  it the whole match is. Provider tokens anchor on their prefix; context rules name the variable.
- or `names` and `value`, for a provider format with no prefix of its own (a 32-character key
  that only its variable's name tells apart): the rule matches a key holding one of `names`
  assigned a value that `value` matches whole, in every assignment form the generic rules read
  (`radar.scan.generic.assignment_pattern`). `keywords` must hold the names.
- `keywords`: lower-case literals, at least one of which must occur (case-insensitively) near a
  match; the Aho-Corasick prefilter runs a rule only on the lines that contain one.
- `kind`: `provider` (a vendor's own format), `structural` (private keys, JWTs, credentials in
  URLs: formats anyone can mint) or `generic` (a secret-like name assigned a random-looking value;
  such rules give `names` instead of `regex`). When findings overlap, provider beats structural
  beats generic (`priority`, default 30/20/10, can place a catch-all rule below its kind).
- optional `entropy` (Shannon bits per character the secret must reach), `validator` (a name in
  `radar.scan.validators`; with `requires_validation = true` a value that fails it is dropped
  rather than kept at low confidence, for formats defined by their structure), `confidence` (before validation; default `high` for provider rules,
  `medium` otherwise), `multiline` (the match may span lines; it is searched from the start of
  the keyword's line up to `span` characters past the keyword), `structure` (a name in
  `radar.scan.manifests.STRUCTURES`: the expression matches a marker, such as a manifest's
  `kind: Secret`, and that reader takes the values out of the document around it), `gate` (a
  Hyperscan expression, over bytes, that a part of every match matches: the rule's expression
  then runs only on lines where it matched; radar works one out from the start of the expression
  when it can, and this names one where the start is too short to tell, such as the scheme of a
  credential URL. A gate that misses a match hides it, so it must match more, never less).
- `examples.true` / `examples.false`: strings the rule must and must not report. True examples are
  templates (see `radar.scan.examples`) so that no real-looking credential sits in the repository.

A scan configuration (`radar.scan.config`, `.radar.toml`) adds rules in this same schema, checked
by the same `parse_rule` (its examples are optional there), and disables rules by id:
`RuleSet.changed`.
"""

from __future__ import annotations

import difflib
import functools
import hashlib
import json
import math
import tomllib
from dataclasses import dataclass, field
from importlib import resources

import regex

from radar.errors import RadarError
from radar.scan import compiled

SEVERITIES = ("critical", "high", "medium", "low")
CONFIDENCES = ("high", "medium", "low")
KINDS = ("provider", "structural", "generic")
# Overlapping findings: the most specific kind names the finding.
PRIORITY = {"provider": 30, "structural": 20, "generic": 10}
DEFAULT_SPAN = 16384
# A rule gets this long to search one window before it is abandoned for that text.
MATCH_TIMEOUT_SECONDS = 1.0

_ID = regex.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_FIELDS = {
    "id", "description", "secret_type", "docs", "severity", "regex", "keywords", "kind", "entropy",
    "validator", "requires_validation", "priority", "confidence", "multiline", "span", "names", "value", "examples",
    "structure", "gate",
}


class RuleError(RadarError):
    """A rule file is malformed; the message names the file, the rule and the field."""


class RuleFieldError(RuleError):
    """One field of one rule is wrong: `field` names it (`keywords`, `examples.true`), the message
    says what is wrong; the caller adds where the rule is written."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Rule:
    id: str
    description: str
    secret_type: str
    docs: str
    severity: str
    kind: str
    keywords: tuple[str, ...]
    expression: str = field(repr=False, compare=False)
    confidence: str
    entropy: float | None = None
    validator: str | None = None
    requires_validation: bool = False
    multiline: bool = False
    span: int = DEFAULT_SPAN
    names: tuple[str, ...] = ()
    true_examples: tuple[str, ...] = ()
    false_examples: tuple[str, ...] = ()
    source: str = ""
    priority: int = 0
    structure: str | None = None
    gate: str | None = None  # the rule's own gate (`gate.gate` works one out otherwise)
    # A rule that gives names and value: `value` alone (its expression holds it in every form).
    value: str | None = field(default=None, repr=False, compare=False)

    @functools.cached_property
    def pattern(self) -> regex.Pattern[str]:
        """The compiled expression, on first use: a scan needs only the rules whose keywords
        occur, and compiling all of them held up the start of every scan by a quarter second."""
        return compiled.pattern(self.expression)

    @functools.cached_property
    def required_literals(self) -> tuple[str, ...]:
        """Case-sensitive literals in every match (`gate.required_literals`), on first use."""
        from radar.scan.gate import required_literals

        return required_literals(self.expression)

    @functools.cached_property
    def keyword_lengths(self) -> tuple[int, ...] | None:
        """Where every match begins with one of the rule's keywords (`gate.leading_literals`): the
        lengths of those keywords, so that a keyword's hit tells where a match can begin. None for
        other rules, and for those that read names (their starts are worked out otherwise) or span
        lines."""
        from radar.scan.gate import leading_literals

        if self.names or self.multiline:
            return None
        leads = leading_literals(self.expression)
        if leads is None:
            return None
        lengths = set()
        for lead in leads:
            begun = [len(k) for k in self.keywords if lead.startswith(k)]
            if not begun:
                return None
            lengths.update(begun)
        return tuple(sorted(lengths))

    @functools.cached_property
    def value_pattern(self) -> regex.Pattern[str] | None:
        """`value` compiled alone: a hundredth of the expression's compile time, and a necessary
        condition for it (`Engine._rule_matches`). None where it would not be one: a value that
        refers to a group (`\\1`, `(?P=q)`, a conditional) means another group in the expression,
        or none at all."""
        from radar.scan.gate import refers_to_groups

        if self.value is None or refers_to_groups(self.value):
            return None
        try:
            return compiled.pattern(self.value)
        except regex.error:
            return None


@dataclass(frozen=True)
class RuleSet:
    rules: tuple[Rule, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_id", {r.id: r for r in self.rules})

    def get(self, rule_id: str) -> Rule:
        return self._by_id[rule_id]  # type: ignore[attr-defined]

    def __len__(self) -> int:
        return len(self.rules)

    def __contains__(self, rule_id: object) -> bool:
        return rule_id in self._by_id  # type: ignore[attr-defined]

    def changed(self, added: tuple[Rule, ...] = (), disabled: frozenset[str] = frozenset()) -> RuleSet:
        """These rules without the `disabled` ids, then `added` (a rule of the same id is replaced,
        so changing a set twice changes it once)."""
        if not added and not disabled:
            return self
        dropped = disabled | {r.id for r in added}
        return RuleSet(tuple(r for r in self.rules if r.id not in dropped)
                       + tuple(r for r in added if r.id not in disabled))


# The shipped rule files as parsed TOML, in JSON, beside them: reading TOML took 25 ms of every
# scan's start, JSON 2 ms. It is used only while it was made from the rule files as they are
# (their digest is in it), so a stale one costs time, never rules; `make rules-json` remakes it,
# and a test fails while it is stale.
PARSED_RULES = "parsed-rules.json"


def default_rule_texts() -> list[tuple[str, str]]:
    """(file name, TOML text) of the rule files shipped in the `radar.detectors` package."""
    folder = resources.files("radar.detectors").joinpath("rules")
    return [(e.name, e.read_text(encoding="utf-8")) for e in sorted(folder.iterdir(), key=lambda e: e.name)
            if e.name.endswith(".toml")]


def rule_texts_digest(texts: list[tuple[str, str]]) -> str:
    digest = hashlib.sha256()
    for name, text in texts:
        digest.update(f"{len(name)}:{name}{len(text)}:".encode() + text.encode())
    return digest.hexdigest()


def parsed_rules_json(texts: list[tuple[str, str]]) -> str:
    """The content of PARSED_RULES for these rule files."""
    documents = [[name, tomllib.loads(text)] for name, text in texts]
    return json.dumps({"digest": rule_texts_digest(texts), "documents": documents}, ensure_ascii=False,
                      separators=(",", ":"))


def write_parsed_rules() -> None:
    """Remake PARSED_RULES from the rule files (`make rules-json`)."""
    target = resources.files("radar.detectors").joinpath(PARSED_RULES)
    with resources.as_file(target) as path:
        path.write_text(parsed_rules_json(default_rule_texts()) + "\n", encoding="utf-8")


@functools.cache
def load_default_rules() -> RuleSet:
    """The rules shipped in the `radar.detectors` package, loaded once per process.

    Their expressions are compiled when first used, not checked here: the test suite runs every
    shipped rule's examples, which compiles each of them."""
    try:
        parsed = resources.files("radar.detectors").joinpath(PARSED_RULES).read_text(encoding="utf-8")
    except OSError:
        parsed = None
    return rules_from(default_rule_texts(), parsed)


def rules_from(texts: list[tuple[str, str]], parsed: str | None) -> RuleSet:
    """The rules of the files `texts`, taken from `parsed` (PARSED_RULES's content) if it was made
    from these very texts, else from the TOML."""
    try:
        stored = json.loads(parsed) if parsed is not None else None
        if stored is not None and stored["digest"] == rule_texts_digest(texts):
            return parse_rule_documents([(name, document) for name, document in stored["documents"]], False)
    except (ValueError, KeyError, TypeError):
        pass  # unreadable: the TOML itself
    return parse_rule_files(texts, check_expressions=False)


def parse_rule_files(texts: list[tuple[str, str]], check_expressions: bool = True) -> RuleSet:
    """Rules from (file name, TOML text) pairs; `check_expressions` compiles every expression now,
    so that one that does not compile is a RuleError naming its file and rule."""
    documents = []
    for name, text in texts:
        try:
            documents.append((name, tomllib.loads(text)))
        except tomllib.TOMLDecodeError as e:
            raise RuleError(f"radar/detectors/rules/{name}: not valid TOML: {e}") from None
    return parse_rule_documents(documents, check_expressions)


def parse_rule_documents(documents: list[tuple[str, dict]], check_expressions: bool = True) -> RuleSet:
    """Rules from (file name, parsed TOML document) pairs (see parse_rule_files)."""
    rules: list[Rule] = []
    seen: set[str] = set()
    for name, document in documents:
        for entry in document.get("rules", []):
            try:
                rule = parse_rule(name, entry, check_expressions)
            except RuleFieldError as e:
                rule_id = entry.get("id", "?") if isinstance(entry, dict) else "?"
                where = f"{e.field}: " if e.field else ""
                raise RuleError(f"radar/detectors/rules/{name}: rule {rule_id!r}: {where}{e}") from None
            if rule.id in seen:
                raise RuleError(f"radar/detectors/rules/{name}: rule id {rule.id!r} is defined twice")
            seen.add(rule.id)
            rules.append(rule)
    return RuleSet(tuple(rules))


# What each field holds: (type or types, what to call it in an error).
_TYPES: dict[str, tuple[type | tuple[type, ...], str]] = {
    **{name: (str, "a string") for name in (
        "id", "description", "secret_type", "docs", "severity", "regex", "value", "kind", "validator", "confidence",
        "structure", "gate")},
    **{name: (bool, "true or false") for name in ("requires_validation", "multiline")},
    **{name: (int, "a whole number") for name in ("priority", "span")},
    "entropy": ((int, float), "a number"),
    "keywords": (list, "a list of strings"),
    "names": (list, "a list of strings"),
    "examples": (dict, "a table with `true` and `false` lists"),
}


def _check_gate(gate: str) -> None:
    """A gate Hyperscan refuses would cost every rule its gate (the engine then works from the
    keywords alone): refused here, naming the field, compiled as the engine compiles its
    patterns. Without Hyperscan no gate is used."""
    from radar.scan import prefilter

    if prefilter.hyperscan is None:
        return
    try:
        prefilter.compile_database([gate])
    except prefilter.hyperscan.error as e:
        reason = str(e).rstrip(".")
        raise RuleFieldError("gate", f"Hyperscan cannot compile it ({reason}); correct it, or leave it out") from None


def parse_rule(source: str, entry: object, check_expression: bool = True, require_examples: bool = True) -> Rule:
    """One `[[rules]]` entry as a Rule, or a RuleFieldError naming the field that is wrong."""
    if not isinstance(entry, dict):
        raise RuleFieldError("", "a rule is a table (`[[rules]]` with id, description, ...)")
    fail = RuleFieldError
    unknown = sorted(set(entry) - _FIELDS)
    if unknown:
        close = difflib.get_close_matches(unknown[0], _FIELDS, n=1)
        raise fail(unknown[0], "unknown field" + (f" (did you mean {close[0]!r}?)" if close else "")
                   + f"; a rule has {', '.join(sorted(_FIELDS))}")
    for name, value in entry.items():
        expected, called = _TYPES[name]
        # bool is an int in Python, but `priority = true` is a mistake
        if not isinstance(value, expected) or (isinstance(value, bool) and expected is not bool):
            raise fail(name, f"must be {called}")
    for name in ("keywords", "names"):
        for i, item in enumerate(entry.get(name, ())):
            if not isinstance(item, str):
                raise fail(f"{name}[{i}]", "must be a string")
    for required in ("id", "description", "secret_type", "docs", "severity", "keywords"):
        if not entry.get(required):
            raise fail(required, "missing: every rule has id, description, secret_type, docs, severity and keywords")
    rule_id = entry["id"]
    if not _ID.fullmatch(rule_id):
        raise fail("id", "must be lower-case kebab-case, like acme-api-token")
    kind = entry.get("kind", "provider")
    if kind not in KINDS:
        raise fail("kind", f"must be one of {', '.join(KINDS)}")
    if entry["severity"] not in SEVERITIES:
        raise fail("severity", f"must be one of {', '.join(SEVERITIES)}")
    confidence = entry.get("confidence", "high" if kind == "provider" else "medium")
    if confidence not in CONFIDENCES:
        raise fail("confidence", f"must be one of {', '.join(CONFIDENCES)}")
    keywords = tuple(entry["keywords"])
    if any(k != k.lower() or not k for k in keywords):
        raise fail("keywords", "must be non-empty and lower-case (matching ignores case)")
    if not all(k.isascii() for k in keywords):
        # The prefilter matches bytes and folds ASCII case only.
        raise fail("keywords", "must be ASCII")
    if entry.get("span", DEFAULT_SPAN) < 1:
        raise fail("span", "must be at least 1")
    if not 0 <= entry.get("entropy", 0) < math.inf:
        raise fail("entropy", "must be a number of bits per character, at least 0")
    names = tuple(entry.get("names", ()))
    if kind == "generic" or "value" in entry:
        from radar.scan.generic import assignment_pattern

        if kind == "generic" and (not names or "regex" in entry or "value" in entry):
            raise fail("names", "a generic rule gives names, not regex or value")
        if kind != "generic" and (not names or "regex" in entry):
            raise fail("value", "a rule that gives value also gives names (the key must hold one), and no regex")
        if kind != "generic" and ("(?P<" in entry["value"] or "(?<" in entry["value"].replace("(?<!", "").replace("(?<=", "")):
            raise fail("value", "must not name groups: the rule's expression names the value `secret` itself")
        source_regex = assignment_pattern(names, entry.get("value"))
        # The expression accepts api_key, api-key, api.key and apiKey; so must the prefilter.
        keywords = tuple(dict.fromkeys(
            variant for k in keywords
            for variant in ([k] if k.strip("_-") != k else [k.replace("_", sep) for sep in ("_", "", "-", ".")])
        ))
    else:
        if "regex" not in entry or names:
            raise fail("regex", "a provider or structural rule gives regex (or names and value), not names alone")
        source_regex = entry["regex"]
    if check_expression:
        try:
            regex.compile(source_regex)
        except regex.error as e:
            raise fail("regex", f"does not compile: {e}") from None
    gate = entry.get("gate") or None
    if gate is not None and check_expression:
        _check_gate(gate)
    validator = entry.get("validator")
    if validator is not None:
        from radar.scan.validators import known_validator

        if not known_validator(validator):
            raise fail("validator", "unknown validator; radar.scan.validators lists them")
    structure = entry.get("structure")
    if structure is not None:
        from radar.scan.manifests import STRUCTURES

        if structure not in STRUCTURES:
            raise fail("structure", f"unknown structure; radar.scan.manifests has {', '.join(sorted(STRUCTURES))}")
    examples = entry.get("examples", {})
    for key, value in examples.items():
        if key not in ("true", "false"):
            raise fail(f"examples.{key}", "unknown field; examples has `true` and `false` lists")
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise fail(f"examples.{key}", "must be a list of strings")
    true_examples = tuple(examples.get("true", ()))
    false_examples = tuple(examples.get("false", ()))
    if require_examples and not true_examples:
        raise fail("examples.true", "needs at least one true example")
    if require_examples and not false_examples:
        raise fail("examples.false", "needs at least one false example")
    return Rule(
        id=rule_id,
        description=entry["description"],
        secret_type=entry["secret_type"],
        docs=entry["docs"],
        severity=entry["severity"],
        kind=kind,
        keywords=keywords,
        expression=source_regex,
        confidence=confidence,
        entropy=entry.get("entropy"),
        validator=validator,
        requires_validation=bool(entry.get("requires_validation", False)),
        multiline=bool(entry.get("multiline", False)),
        span=entry.get("span", DEFAULT_SPAN),
        names=names,
        true_examples=true_examples,
        false_examples=false_examples,
        source=source,
        priority=entry.get("priority", PRIORITY[kind]),
        structure=structure,
        gate=gate,
        value=entry.get("value"),
    )
