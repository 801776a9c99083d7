"""Gates: the Hyperscan expression that the start of every match of a rule's expression matches."""

from __future__ import annotations

import re

import pytest

from radar.scan.examples import expand
from radar.scan.gate import gate
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
