"""Gates: the Hyperscan expression that the start of every match of a rule's expression matches;
required literals: the case-sensitive text that every match contains."""

from __future__ import annotations

import re

import pytest
import regex
from hypothesis import given, settings, strategies as st

from radar.scan.examples import expand
from radar.scan.gate import gate, leading_literals, required_literals
from radar.scan.rules import load_default_rules


def test_a_gate_is_the_expression_s_leading_literals_and_ascii_classes():
    expression = r"(?<![\w-])(?P<secret>pat[A-Za-z0-9]{14}\.[a-f0-9]{64})(?![a-f0-9])"
    assert gate(expression) == r"pat[A-Za-z0-9]{14}\x2e[a-f0-9]{64}"


@pytest.mark.parametrize("expression, expected", [
    # A repeat of varying length: its least count, then the gate ends.
    (r"A{21}[A-Za-z0-9%]{60,120}x", r"A{21}[A-Za-z0-9\x25]{60}"),
    # Unicode-dependent classes (\d, \w) and negated classes end it.
    (r"[0-9a-f]{32}-us\d{1,2}", r"[0-9a-f]{32}\x2dus"),
    (r"tok_[a-z]{16}[^\s]{20}", r"tok\x5f[a-z]{16}"),
    (r"tok_[a-z]{16}[^x]abcdefgh", r"tok\x5f[a-z]{16}"),
    # An optional part ends it: what follows starts at a varying offset.
    (r"(?:abc)?defghijklmnopqrstuvw", None),
    (r"abcdefghijklmnopqr(?:xy|z)", r"abcdefghijklmnopqr"),  # alternatives end it
])
def test_what_ends_a_gate(expression, expected):
    assert gate(expression) == expected


@pytest.mark.parametrize("expression", [
    r"(?i)pat[A-Za-z0-9]{14}\.[a-f0-9]{64}",  # case-insensitive: Unicode folding differs
    r"(?i:xoxb)-[0-9]{10,13}-[0-9]{10,13}",
    r"[A-Za-z][A-Za-z0-9+.-]{1,20}://",  # two characters sure: not worth its reports
    r"\p{L}{20}",  # the regex module's own syntax
])
def test_no_gate(expression):
    assert gate(expression) is None


def test_every_shipped_rule_s_examples_start_with_its_gate():
    for rule in load_default_rules().rules:
        expression = gate(rule.expression) if rule.kind != "generic" else None
        if expression is None:
            continue
        compiled = re.compile(expression)
        for example in rule.true_examples:
            text = expand(example, "gate")
            for m in rule.pattern.finditer(text):
                assert compiled.match(text, m.start()), rule.id


def test_a_long_repeat_ends_the_gate_at_a_count_hyperscan_takes():
    assert gate(r"key-[a-f0-9]{4000}xyz") == r"key\x2d[a-f0-9]{255}"


@pytest.mark.parametrize("expression, expected", [
    (r"(?<![A-Za-z0-9+.-])[A-Za-z][A-Za-z0-9+.-]{1,20}://(?P<user>[^\s:@]{1,128}):(?P<secret>[^\s@]{3,256})@",
     ("://", ":", "@")),
    (r"a(?:bc)+d", ("a", "bc", "d")),  # a repeat of at least once holds its literals
    (r"a(?:bc)*d", ("a", "d")),  # an optional one does not
    (r"(?:xy)?z", ("z",)),
    (r"ab|cd", ()),  # alternatives: neither is sure
    (r"x(?i:token)y", ("x", "y")),  # case-insensitive parts: no literal
    (r"(?=abc)d(?<=zd)", ("d",)),  # look-arounds need not lie inside the match
    (r"(?i)abc", ()),
])
def test_required_literals(expression, expected):
    assert required_literals(expression) == expected


@pytest.mark.parametrize("expression", [
    r"x[[:alpha:]]+y",  # a POSIX class to the regex module, a nested set to Python's parser
    r"(?:abc){e<=1}",  # a fuzzy constraint to the regex module, literal text to Python's parser
    r"\p{L}+abc",  # the regex module's own syntax
    r"abc(?i)def",  # a global flag after the start: the regex module takes it, Python's parser does not
])
def test_no_required_literals_where_the_two_parsers_may_differ(expression):
    assert required_literals(expression) == ()


_PIECES = ["a", "b", "ab", "ba", "A", ":", "@", "[ab]", "[^a]", ".", "\\d", "(?i:ab)", "(?=a)", "(?<!b)", "^", "$",
           "(?P<s>ab)", "(?P<s>b:)"]  # the regex module lets alternatives share a group's name


@st.composite
def _expressions(draw, depth=0):
    """Small expressions over the alphabet of `_TEXTS`: sequences of pieces, groups,
    alternatives and repeats."""
    items = []
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["piece", "piece", "group", "alternatives", "repeat"] if depth < 2 else ["piece"]))
        if kind == "piece":
            items.append(draw(st.sampled_from(_PIECES)))
        elif kind == "group":
            items.append(f"(?:{draw(_expressions(depth + 1))})")
        elif kind == "alternatives":
            items.append(f"(?:{draw(_expressions(depth + 1))}|{draw(_expressions(depth + 1))})")
        else:
            low = draw(st.integers(0, 2))
            items.append(f"(?:{draw(_expressions(depth + 1))}){{{low},{low + draw(st.integers(0, 2))}}}")
    return "".join(items)


_TEXTS = st.text(alphabet="abAB:@1 \n", max_size=30)


@settings(max_examples=400, deadline=None)
@given(_expressions(), _TEXTS)
def test_every_match_holds_the_required_literals(expression, text):
    literals = required_literals(expression)
    for m in regex.finditer(expression, text):
        for piece in literals:
            assert piece in m.group(0), (expression, text)


@settings(max_examples=400, deadline=None)
@given(_expressions(), _TEXTS)
def test_every_match_begins_with_a_leading_literal(expression, text):
    leads = leading_literals(expression)
    if leads is None:
        return
    for m in regex.finditer(expression, text):
        assert m.group(0).lower().startswith(leads), (expression, text)


@pytest.mark.parametrize("expression, expected", [
    (r"(?<![\w-])(?P<secret>tgp_v1_[A-Za-z0-9_-]{43})|(?i:together)[\w.-]{0,12}(?P<secret>[a-z]{43})",
     ("tgp_v1_", "together")),  # alternatives share the group's name
    (r"\bAbc(?:de|fg)h", ("abcde", "abcfg")),  # lower-case; alternatives end the text
    (r"x?abc", None),  # an optional start: no text every match begins with
    (r"(?:abc|)d", None),
    (r"([a-z])\1abc", None),  # refers to a group: not read without its names
])
def test_leading_literals(expression, expected):
    assert leading_literals(expression) == expected


def test_every_shipped_rule_s_true_examples_hold_its_required_literals():
    for rule in load_default_rules().rules:
        for example in rule.true_examples:
            text = expand(example, "gate")
            for m in rule.pattern.finditer(text):
                assert all(piece in m.group(0) for piece in rule.required_literals), rule.id
                if rule.keyword_lengths is not None:
                    assert any(m.group(0).lower().startswith(k) for k in rule.keywords), rule.id


# -- a rule's own gate (`gate = ...` in its TOML) ------------------------------------------------

def _own_gates() -> list:
    return [rule for rule in load_default_rules().rules if rule.gate]


def _hyperscan_ends(expression: str, data: bytes) -> list[int]:
    import hyperscan  # a dependency of radar wherever its wheels exist, as on CI
    database = hyperscan.Database()
    database.compile(expressions=[expression.encode()], ids=[0], flags=[hyperscan.HS_FLAG_MULTILINE])
    ends: list[int] = []
    database.scan(data, match_event_handler=lambda _id, _start, end, _flags, _context: ends.append(end))
    return ends


def test_the_credential_url_rule_has_its_own_gate():
    assert [rule.id for rule in _own_gates()] == ["url-credentials"]


def test_every_match_of_a_rule_with_its_own_gate_holds_a_gate_match_in_hyperscan():
    # The engine searches a line only where the gate matched: a match without one would be lost.
    for rule in _own_gates():
        for example in rule.true_examples:
            text = expand(example, "own-gate")
            for m in rule.pattern.finditer(text):
                ends = _hyperscan_ends(rule.gate, text.encode())
                start, end = len(text[:m.start()].encode()), len(text[:m.end()].encode())
                assert any(start < e <= end for e in ends), rule.id


_URL_PIECES = st.sampled_from(["https", "git+ssh", "://", ":", "@", "/", "user", "p4ss-w0rd", "é", "€", " ",
                               "\n", "?", "#", "host.example", "[::1]", '"', "%40", "x" * 300])


@settings(max_examples=500, deadline=None)
@given(st.lists(_URL_PIECES, max_size=14).map("".join))
def test_a_credential_url_s_gate_is_wider_than_its_expression(text):
    # Characters against bytes (é is two, € three), Unicode white space against ASCII, no length limit.
    [rule] = [r for r in _own_gates() if r.id == "url-credentials"]
    data = text.encode()
    ends = _hyperscan_ends(rule.gate, data)
    for m in rule.pattern.finditer(text):
        start, end = len(text[:m.start()].encode()), len(text[:m.end()].encode())
        assert any(start < e <= end for e in ends), text


def test_a_text_of_plain_urls_gives_the_credential_url_rule_no_line_to_search():
    # A lockfile's 2,000 `https://` lines: without the gate each was a line for the rule to look at.
    import hyperscan  # noqa: F401  (the gates are Hyperscan's; CI has it)
    from radar.scan.engine import Engine
    from radar.scan.findings import FingerprintKey
    from radar.scan.rules import RuleSet

    rule = next(r for r in load_default_rules().rules if r.id == "url-credentials")
    engine = Engine(RuleSet((rule,)), FingerprintKey(b"k" * 32), 0)
    text = "".join(f'"resolved": "https://registry.npmjs.org/pkg-{i}/-/pkg-{i}-1.0.{i}.tgz",\n' for i in range(2000))
    assert not engine._hits(text).rules
    assert engine.scan(text, "package-lock.json").findings == []
    with_credentials = text + "url = https://deploy:Zq8vR2mXw4@git.example.com/app.git\n"
    assert len(engine._hits(with_credentials).rules[0]) == 2001
    assert [f.rule_id for f in engine.scan(with_credentials, "ci.env").findings] == ["url-credentials"]


def test_a_gate_that_is_not_a_string_is_an_error_naming_the_field():
    from radar.scan.rules import RuleFieldError, parse_rule

    entry = {"id": "acme-key", "description": "d", "secret_type": "t", "docs": "https://example.invalid",
             "severity": "high", "keywords": ["acme_"], "regex": "acme_[a-z]{20}", "gate": 5}
    with pytest.raises(RuleFieldError) as raised:
        parse_rule("custom.toml", entry, require_examples=False)
    assert raised.value.field == "gate"
    assert parse_rule("custom.toml", dict(entry, gate="acme_[a-z]{20}"), require_examples=False).gate == "acme_[a-z]{20}"


def test_a_gate_hyperscan_refuses_is_an_error_naming_the_field():
    import hyperscan  # noqa: F401  (the gates are Hyperscan's; CI has it)
    from radar.scan.rules import RuleFieldError, parse_rule

    entry = {"id": "acme-key", "description": "d", "secret_type": "t", "docs": "https://example.invalid",
             "severity": "high", "keywords": ["acme_"], "regex": "acme_[a-z0-9]{20}", "gate": "acme_[a-z0-9"}
    with pytest.raises(RuleFieldError) as raised:
        parse_rule("custom.toml", entry, require_examples=False)
    assert raised.value.field == "gate"
    assert str(raised.value).startswith("Hyperscan cannot compile it (Unterminated character class")


def test_when_hyperscan_refuses_a_pattern_every_rule_still_finds_what_it_did():
    # One refused pattern drops them all (gates and generic starts): the engine must then work from
    # the keywords alone, not take "no gate matched" for an answer.
    import hyperscan  # noqa: F401  (the gates are Hyperscan's; CI has it)
    from dataclasses import replace

    from radar.scan.engine import Engine
    from radar.scan.findings import FingerprintKey
    from radar.scan.rules import RuleSet, parse_rule

    acme = parse_rule("custom.toml", {
        "id": "acme-key", "description": "d", "secret_type": "t", "docs": "https://example.invalid",
        "severity": "high", "keywords": ["acme_"], "regex": "acme_[a-z0-9]{20}"}, require_examples=False)
    shipped = load_default_rules().rules
    rules = (*shipped, replace(acme, gate="acme_[a-z0-9"))  # unchecked, as the shipped rules are read
    text = 'key = "acme_q8zr2mx0w4kd7tj1pv9e"\nurl = https://deploy:Zq8vR2mXw4@git.example.com/app.git\n' \
           'db_password = "Zq8vR2mXw4kd7tj1pv9e"\n'
    expected = {"acme-key", "url-credentials", "generic-password"}
    for ruleset in (RuleSet((*shipped, acme)), RuleSet(rules)):
        found = {f.rule_id for f in Engine(ruleset, FingerprintKey(b"k" * 32), 0).scan(text, "app.env").findings}
        assert found == expected
