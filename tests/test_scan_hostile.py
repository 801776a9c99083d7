"""Hostile input: the engine's work grows with the length of a text, never with its square.

With 100,000 `password=...` pairs on one line (2.6 MB) every finding used to re-read its whole
line (suppression marker, assigned name), and the scan took minutes. Speed is measured in
benchmarks/scan_hostile.py; here the work is counted, which does not depend on the machine: the
characters the engine's own string operations look at (`CountingText`), the characters handed to
rules' searches and the match attempts (`CountingPattern`), and the Python lines it runs in
radar.scan (`sys.settrace`). For a text n times as long, linear work is at most n times as much.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import random
import string
import sys
import urllib.parse
from pathlib import Path
from typing import Callable

import pytest
import regex
from hypothesis import HealthCheck, given, settings, strategies as st

import radar.scan
from radar.scan import engine as engine_module, prefilter
from radar.scan.engine import Engine, _encoded_runs, _windows
from radar.scan.examples import expand
from radar.scan.findings import FingerprintKey
from radar.scan.rules import RuleSet, load_default_rules

KEY = FingerprintKey(b"test-key")
SCAN_PACKAGE = str(Path(radar.scan.__file__).parent)
PREFILTERS = ["ahocorasick"] + (["hyperscan"] if prefilter.hyperscan is not None else [])


class CountingText(str):
    """A text that counts the characters its own methods look at: slices, and the stretch that
    `find` and `rfind` search."""

    touched = 0

    def __getitem__(self, key):  # type: ignore[override]
        if isinstance(key, slice):
            start, stop, _ = key.indices(len(self))
            CountingText.touched += max(0, stop - start)
        else:
            CountingText.touched += 1
        return str.__getitem__(self, key)

    def find(self, sub, start=0, end=None):  # type: ignore[override]
        end = len(self) if end is None else end
        found = str.find(self, sub, start, end)
        CountingText.touched += (found + len(sub) if found >= 0 else end) - start
        return found

    def rfind(self, sub, start=0, end=None):  # type: ignore[override]
        end = len(self) if end is None else end
        found = str.rfind(self, sub, start, end)
        CountingText.touched += end - (found if found >= 0 else start)
        return found


class CountingPattern:
    """A rule's compiled expression that counts the characters each search is given, and each
    match attempt with the characters it matched."""

    searched = 0

    def __init__(self, pattern: regex.Pattern[str]) -> None:
        self.pattern = pattern

    def finditer(self, text, pos=0, endpos=None, **kw):
        CountingPattern.searched += (len(text) if endpos is None else endpos) - pos
        return self.pattern.finditer(text, pos, endpos, **kw)

    def match(self, text, pos=0, endpos=None, **kw):
        m = self.pattern.match(text, pos, endpos, **kw)
        CountingPattern.searched += 1 + (m.end() - pos if m else 0)
        return m


def counting_engine(prefilter_name: str) -> Engine:
    rules = []
    for rule in load_default_rules().rules:
        copy = dataclasses.replace(rule)
        copy.__dict__["pattern"] = CountingPattern(regex.compile(rule.expression))
        rules.append(copy)
    return Engine(RuleSet(tuple(rules)), KEY, prefilter=prefilter_name)


def work(engine: Engine, text: str, path: str) -> tuple[int, int]:
    """(units of work, findings) of scanning `text`."""
    CountingText.touched = CountingPattern.searched = 0
    lines = 0

    def trace(frame, event, arg):
        nonlocal lines
        if not frame.f_code.co_filename.startswith(SCAN_PACKAGE):
            return None
        if event == "line":
            lines += 1
        return trace

    sys.settrace(trace)
    try:
        result = engine.scan(CountingText(text), path)
    finally:
        sys.settrace(None)
    return lines + CountingText.touched + CountingPattern.searched, len(result.findings)


# Random-looking values that spell no keyword (`eyj`, `pw`, `00d`, ...): a longer line then wakes
# no rule that a shorter one did not, and the two cost the same kinds of work.
VALUE_CHARACTERS = string.digits + "BCFGHJKLMNQRTVXZ"


def _repeat(template: str, n: int, separator: str = "") -> str:
    """`template` n times, each `{v}` a different random-looking value (the same ones every run)."""
    rng = random.Random(n)
    return separator.join(
        template.format(v="".join(rng.choice(VALUE_CHARACTERS) for _ in range(16)))
        for _ in range(n))


# Shapes of one hostile line, n repeats each; every repeat holds a finding where it can.
SHAPES: dict[str, Callable[[int], str]] = {
    "assignments": lambda n: _repeat("password={v}", n, " "),
    "json": lambda n: "{" + _repeat('"api_key": "{v}"', n, ",") + "}",
    "xml": lambda n: _repeat("<password>{v}</password>", n),
    "names without values": lambda n: "password token secret " * n,
    "private key headers": lambda n: "-----BEGIN RSA PRIVATE KEY-----" * n,
    "non-ASCII lines": lambda n: _repeat("é password={v}\nnothing here", n, "\n"),
    "quotes": lambda n: 'password = "' + '"' * (40 * n),
    "percent escapes": lambda n: "%3d" + "%zz" * (10 * n),
    "base64 runs": lambda n: " ".join(base64.b64encode(v.encode()).decode() for v in _repeat("token={v}", n, "|").split("|")),
}


@pytest.mark.parametrize("prefilter_name", PREFILTERS)
@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_work_on_one_line_grows_linearly_with_what_it_holds(shape, prefilter_name):
    engine = counting_engine(prefilter_name)
    short, long = SHAPES[shape](150), SHAPES[shape](600)
    # Like for like: the longer line wakes the same rules (each searches a line once, whatever
    # its length, so each rule woken adds work in proportion to the line).
    assert engine._hits(short).rules.keys() == engine._hits(long).rules.keys()
    small, found_small = work(engine, short, "line.env")
    large, found_large = work(engine, long, "line.env")
    assert found_large >= found_small
    ratio = large / small
    assert ratio <= 4.2, f"{shape}: 4 times the text cost {ratio:.1f} times the work"


def _secret(i: int) -> str:
    """A value of 33 characters, mixed case, random enough to be reported."""
    return "Zx9" + hashlib.sha256(f"hostile {i}".encode()).hexdigest()[:29] + "Q"


def test_many_findings_on_one_line_are_all_reported_with_their_names():
    line = " ".join(f"DB_PASSWORD_{i}={_secret(i)}" for i in range(2000))
    findings = Engine(load_default_rules(), KEY).scan(line + "\n", "huge.env").findings
    assert [f.name for f in findings] == [f"DB_PASSWORD_{i}" for i in range(2000)]


def test_a_suppressed_line_suppresses_every_finding_on_it():
    line = " ".join(f"password={_secret(i)}" for i in range(500)) + "  # radar:ignore"
    findings = Engine(load_default_rules(), KEY).scan(line, "x.env").findings
    assert len(findings) == 500 and all(f.ignored for f in findings)


# --- rules that look ahead for an option -------------------------------------------------------

@pytest.mark.parametrize("rule_id, repeat, line", [
    ("jdbc-connection-password", "jdbc:a:", "jdbc:mysql://db/app;user=app;password={alnum:18}"),
    ("docker-login-password", "docker login ", "docker login -u ci -p {alnum:24} registry.example.com"),
    ("curl-user-password", "curl -H 'a' ", "curl -u deploy:{alnum:20} https://nexus.example.com"),
    ("curl-header-credential", 'curl -H "x" ', 'curl -H "X-Api-Key: {alnum:24}" https://api.example.com'),
])
def test_a_line_repeating_a_rule_prefix_is_searched_once_and_the_secret_found(rule_id, repeat, line):
    # Before, each repeat searched the rest of its line for `password=` or `-p`: 200,000 repeats
    # ran the rule into its timeout, and the real secret on the next line went unreported.
    text = repeat * 200_000 + "\n" + expand(line, "hostile")
    result = Engine(load_default_rules(), KEY).scan(text, "run.sh")
    assert result.warnings == []
    assert [f.rule_id for f in result.findings] == [rule_id]


# --- decoding ----------------------------------------------------------------------------------

def test_a_line_of_broken_percent_escapes_is_looked_through_once():
    # One expression for "a run of URL characters holding an escape" backtracked over a run
    # without one from each of its characters: cubic, 12 KB took 21 s and this line, days.
    text = "redirect=%3d " + "%zz" * 300_000
    assert Engine(load_default_rules(), KEY).scan(text, "x.txt").findings == []
    assert [m.span() for m in _encoded_runs(text, 0, len(text), "percent")] == [(0, 12)]


_OLD_PERCENT_RUN = regex.compile(
    r"[A-Za-z0-9%._~+\-/:=@&?;!$*,]*%[0-9A-Fa-f]{2}[A-Za-z0-9%._~+\-/:=@&?;!$*,]*")


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(["%", "3", "d", "z", "A", "=", "/", " ", "\n", "é", "%2F", "%zz", "a"]), max_size=40)
       .map("".join), st.data())
def test_percent_runs_are_the_runs_one_expression_found(text, data):
    # The definition the engine followed before: the maximal runs of URL characters that hold an
    # escape, found by one expression, within a window.
    start = data.draw(st.integers(0, len(text)))
    stop = data.draw(st.integers(start, len(text)))
    expected = [m.span() for m in _OLD_PERCENT_RUN.finditer(text, start, stop)]
    assert [m.span() for m in _encoded_runs(text, start, stop, "percent")] == expected


def test_decoding_reads_each_character_a_bounded_number_of_times(monkeypatch):
    # A layer's base64 runs do not overlap, nor do its percent runs (which can hold base64 runs):
    # each layer reads the text above it at most twice and yields at most 1.75 times as much.
    decoded = []
    real = engine_module._decode
    monkeypatch.setattr(engine_module, "_decode", lambda blob, kind: decoded.append(len(blob)) or real(blob, kind))
    inner = urllib.parse.quote(" ".join(base64.b64encode(v.encode()).decode()
                                        for v in _repeat("token={v}", 400, "|").split("|")))
    text = " ".join([base64.b64encode(inner.encode()).decode(), inner] * 3)
    Engine(load_default_rules(), KEY, max_decode_depth=3).scan(text, "x.txt")
    assert decoded and sum(decoded) <= 2 * (1 + 1.75 + 1.75 ** 2) * len(text)


# --- long lines --------------------------------------------------------------------------------

def test_a_private_key_far_into_a_long_line_is_found():
    # Minified JSON holds a service-account key on one line. A multi-line rule used to be searched
    # only `span` characters from the start of the keyword's line, and missed it.
    key = expand("{pem:RSA PRIVATE KEY}", "hostile").replace("\n", "\\n")
    text = '{"padding": "' + "x" * 50_000 + f'", "key": "{key}"}}'
    rules = [f.rule_id for f in Engine(load_default_rules(), KEY).scan(text, "bundle.json").findings]
    assert rules == ["pem-private-key"]


def _reference_windows(text: str, positions: list[int], multiline: bool, span: int) -> list[tuple[int, int]]:
    """The specification: each hit's whole line (a multi-line rule: from its line's start to `span`
    characters past the hit), overlapping or touching ranges merged."""
    ranges: list[tuple[int, int]] = []
    for pos in positions:
        start = text.rfind("\n", 0, pos) + 1
        line_end = text.find("\n", pos)
        stop = min(len(text), pos + span) if multiline else (len(text) if line_end < 0 else line_end)
        if ranges and start <= ranges[-1][1] + 1:
            ranges[-1] = (ranges[-1][0], max(ranges[-1][1], stop))
        else:
            ranges.append((start, stop))
    return ranges


@settings(max_examples=500, deadline=None)
@given(st.text(st.sampled_from("ab\n"), max_size=60), st.data(), st.booleans(), st.integers(1, 20))
def test_windows_are_the_lines_around_the_hits(text, data, multiline, span):
    positions = sorted(set(data.draw(st.lists(st.integers(0, max(0, len(text) - 1)), max_size=12)))) if text else []
    rule = dataclasses.replace(load_default_rules().rules[0], multiline=multiline, span=span)
    assert _windows(text, positions, rule) == _reference_windows(text, positions, multiline, span)


def _reference_matches(text: str, rule) -> list[tuple[int, int]]:
    """A rule's matches as a plain search finds them: every keyword occurrence (ASCII letters in
    any case), the reference windows around them, the expression searched through each."""
    lowered = text.translate({c: c + 32 for c in range(65, 91)})
    hits = set()
    for keyword in rule.keywords:
        i = lowered.find(keyword)
        while i >= 0:
            hits.add(i + len(keyword) - 1)
            i = lowered.find(keyword, i + 1)
    return [m.span() for start, stop in _reference_windows(text, sorted(hits), rule.multiline, rule.span)
            for m in rule.pattern.finditer(text, start, stop)]


_PIECES = st.sampled_from([
    "password=", "Zx9qL2mN8vR4tY7w", " ", "\n", '"', "api_key: ", "<token>", "</token>", "é",
    "jdbc:a:", ";password=", "docker login ", "-p ", "-----BEGIN RSA PRIVATE KEY-----", "\\n",
    "-----END RSA PRIVATE KEY-----", "MIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf9Cnzj4p4WGeKLs1Pt8Qu",
    "ghp_", "glpat-", "%3d", "%zz", "eyJhbGciOiJIUzI1NiJ9", ".", "://u:", "@h.example.com",
])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_PIECES, max_size=40).map("".join))
def test_every_rule_matches_what_a_search_of_its_keyword_lines_matches(text):
    # Whatever shortcuts the engine takes (lines looked up once, starts and gates from Hyperscan,
    # windows merged), each rule matches exactly what the plain search matches.
    for prefilter_name in PREFILTERS:
        engine = _ENGINES[prefilter_name]
        hits = engine._hits(text)
        for index, rule in enumerate(engine.rules):
            ends = hits.rules.get(index)
            found = ([m.span() for m in engine._rule_matches(text, index, ends, hits, "x", [], text.isascii())]
                     if ends is not None else [])
            assert found == _reference_matches(text, rule), rule.id


_ENGINES = {name: Engine(load_default_rules(), KEY, prefilter=name) for name in PREFILTERS}
