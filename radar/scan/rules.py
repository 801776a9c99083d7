"""The detector suite as compiled rules: loads `radar/detectors/rules/*.toml` once and checks each entry.

A rule file holds `[[rules]]` tables. Fields:

- `id` (unique, kebab-case), `description`, `secret_type` (what the value is, for reports and
  per-type statistics), `docs` (where the provider documents the format), `severity`
  (`critical`, `high`, `medium`, `low`).
- `regex`: a pattern for the `regex` module. The named group `secret` is the credential; without
  it the whole match is. Provider tokens anchor on their prefix; context rules name the variable.
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
  the keyword's line up to `span` characters past the keyword).
- `examples.true` / `examples.false`: strings the rule must and must not report. True examples are
  templates (see `radar.scan.examples`) so that no real-looking credential sits in the repository.
"""

from __future__ import annotations

import functools
import tomllib
from dataclasses import dataclass, field
from importlib import resources

import regex

from radar.errors import RadarError

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
    "validator", "requires_validation", "priority", "confidence", "multiline", "span", "names", "examples",
}


class RuleError(RadarError):
    """A rule file is malformed; the message names the file, the rule and the field."""


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

    @functools.cached_property
    def pattern(self) -> regex.Pattern[str]:
        """The compiled expression, on first use: a scan needs only the rules whose keywords
        occur, and compiling all of them held up the start of every scan by a quarter second."""
        return regex.compile(self.expression)


@dataclass(frozen=True)
class RuleSet:
    rules: tuple[Rule, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_id", {r.id: r for r in self.rules})

    def get(self, rule_id: str) -> Rule:
        return self._by_id[rule_id]  # type: ignore[attr-defined]

    def __len__(self) -> int:
        return len(self.rules)


@functools.cache
def load_default_rules() -> RuleSet:
    """The rules shipped in the `radar.detectors` package, loaded once per process.

    Their expressions are compiled when first used, not checked here: the test suite runs every
    shipped rule's examples, which compiles each of them."""
    texts = []
    for entry in sorted(resources.files("radar.detectors").joinpath("rules").iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".toml"):
            texts.append((entry.name, entry.read_text(encoding="utf-8")))
    return parse_rule_files(texts, check_expressions=False)


def parse_rule_files(texts: list[tuple[str, str]], check_expressions: bool = True) -> RuleSet:
    """Rules from (file name, TOML text) pairs; `check_expressions` compiles every expression now,
    so that one that does not compile is a RuleError naming its file and rule."""
    rules: list[Rule] = []
    seen: set[str] = set()
    for name, text in texts:
        try:
            document = tomllib.loads(text)
        except tomllib.TOMLDecodeError as e:
            raise RuleError(f"radar/detectors/rules/{name}: not valid TOML: {e}") from None
        for entry in document.get("rules", []):
            rule = _parse_rule(name, entry, check_expressions)
            if rule.id in seen:
                raise RuleError(f"radar/detectors/rules/{name}: rule id {rule.id!r} is defined twice")
            seen.add(rule.id)
            rules.append(rule)
    return RuleSet(tuple(rules))


def _parse_rule(source: str, entry: dict, check_expression: bool = True) -> Rule:
    rule_id = entry.get("id", "?")

    def fail(message: str) -> RuleError:
        return RuleError(f"radar/detectors/rules/{source}: rule {rule_id!r}: {message}")

    unknown = set(entry) - _FIELDS
    if unknown:
        raise fail(f"unknown field(s) {', '.join(sorted(unknown))}")
    for required in ("id", "description", "secret_type", "docs", "severity", "keywords"):
        if not entry.get(required):
            raise fail(f"missing {required}")
    if not _ID.fullmatch(rule_id):
        raise fail("id must be lower-case kebab-case")
    kind = entry.get("kind", "provider")
    if kind not in KINDS:
        raise fail(f"kind must be one of {', '.join(KINDS)}")
    if entry["severity"] not in SEVERITIES:
        raise fail(f"severity must be one of {', '.join(SEVERITIES)}")
    confidence = entry.get("confidence", "high" if kind == "provider" else "medium")
    if confidence not in CONFIDENCES:
        raise fail(f"confidence must be one of {', '.join(CONFIDENCES)}")
    keywords = tuple(entry["keywords"])
    if any(k != k.lower() or not k for k in keywords):
        raise fail("keywords must be non-empty and lower-case (matching ignores case)")
    names = tuple(entry.get("names", ()))
    if kind == "generic":
        from radar.scan.generic import assignment_pattern

        if not names or "regex" in entry:
            raise fail("a generic rule gives names, not regex")
        source_regex = assignment_pattern(names)
        # The expression accepts api_key, api-key, api.key and apiKey; so must the prefilter.
        keywords = tuple(dict.fromkeys(
            variant for k in keywords
            for variant in ([k] if k.strip("_-") != k else [k.replace("_", sep) for sep in ("_", "", "-", ".")])
        ))
    else:
        if "regex" not in entry or names:
            raise fail("a provider or structural rule gives regex, not names")
        source_regex = entry["regex"]
    if check_expression:
        try:
            regex.compile(source_regex)
        except regex.error as e:
            raise fail(f"regex does not compile: {e}") from None
    validator = entry.get("validator")
    if validator is not None:
        from radar.scan.validators import known_validator

        if not known_validator(validator):
            raise fail(f"unknown validator {validator!r}")
    examples = entry.get("examples", {})
    true_examples = tuple(examples.get("true", ()))
    false_examples = tuple(examples.get("false", ()))
    if not true_examples:
        raise fail("needs at least one true example")
    if not false_examples:
        raise fail("needs at least one false example")
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
        span=int(entry.get("span", DEFAULT_SPAN)),
        names=names,
        true_examples=true_examples,
        false_examples=false_examples,
        source=source,
        priority=int(entry.get("priority", PRIORITY[kind])),
    )
