"""Compiled expressions kept between runs (`radar.scan.compiled`): a pattern loaded from the cache
is the pattern `regex.compile` makes, and a file that is damaged, of another shape or for another
expression is never used."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import stat

import pytest
import regex
from hypothesis import HealthCheck, given, settings, strategies as st

from radar.scan import compiled
from radar.scan.rules import load_default_rules

FLAGS = [0, regex.IGNORECASE, regex.MULTILINE | regex.DOTALL, regex.REVERSE, regex.ASCII, regex.VERBOSE]


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    return tmp_path / "radar" / compiled._FOLDER


@pytest.fixture
def no_compiling(monkeypatch):
    """Makes `regex.compile` fail: what a test then gets can only have come from the cache."""
    def refuse(*args, **kwargs):
        raise AssertionError("compiled afresh")
    return lambda: monkeypatch.setattr(compiled.regex, "compile", refuse)


def test_every_shipped_rule_loads_from_the_cache_as_regex_compiles_it(cache, no_compiling):
    expressions = sorted({e for r in load_default_rules().rules for e in (r.expression, r.value) if e})
    fresh = {e: compiled.pattern(e) for e in expressions}  # compiled afresh, stored
    assert all(compiled._path(e, 0).is_file() for e in expressions)
    no_compiling()
    for expression in expressions:
        loaded = compiled.pattern(expression)
        assert loaded is not fresh[expression]
        assert loaded._pickled_data == fresh[expression]._pickled_data, expression


_PIECES = st.sampled_from([
    "a", "b", "[a-z]+", r"\d{2,4}", r"\w*?", "(?P<n>x|y)", "(?P=n)", "(?:ab)?", "(?i:KEY)", r"\s", "^", "$",
    r"(?<![\w-])", "(?!z)", r"\b", "é", ".", "[^=]{3}", "(c)", r"\1", "(?(1)d|e)", "{", "ß",
])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pieces=st.lists(_PIECES, min_size=1, max_size=8), flags=st.sampled_from(FLAGS),
       text=st.text(alphabet="abcxyzKEYke= 0123é\nßSS-", max_size=60))
def test_a_loaded_pattern_matches_as_the_compiled_one(cache, pieces, flags, text):
    expression = "".join(pieces)
    try:
        fresh = regex.compile(expression, flags)
    except regex.error:
        with pytest.raises(regex.error):
            compiled.pattern(expression, flags)
        assert not compiled._path(expression, flags).exists()
        return
    compiled.pattern(expression, flags)
    loaded = compiled.pattern(expression, flags)
    assert loaded._pickled_data == fresh._pickled_data
    assert [m.span() for m in loaded.finditer(text)] == [m.span() for m in fresh.finditer(text)]


def test_the_files_are_private_and_hold_json_with_its_digest(cache):
    compiled.pattern(r"(?P<secret>tok_[a-z0-9]{20})")
    (path,) = cache.iterdir()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    digest, _, payload = path.read_bytes().partition(b"\n")
    assert hashlib.sha256(payload).hexdigest().encode() == digest
    assert json.loads(payload)["expression"] == r"(?P<secret>tok_[a-z0-9]{20})"


def _rewrite(path, change):
    """The file with its JSON changed by `change` and a matching digest: of the right form, but
    of another shape than the module writes."""
    payload = json.loads(path.read_bytes().partition(b"\n")[2])
    change(payload)
    data = json.dumps(payload).encode()
    path.write_bytes(hashlib.sha256(data).hexdigest().encode() + b"\n" + data)


@pytest.mark.parametrize("change", [
    lambda p: p.update(flags="8224"),
    lambda p: p.update(code="not base64!"),
    lambda p: p.update(index_group=[["1", "n"]]),
    lambda p: p.update(group_index={"n": "1"}),
    lambda p: p.update(req_chars=[1.5]),
    lambda p: p.update(requested=2),
    lambda p: p.update(expression="(?P<n>other)"),
    lambda p: p.pop("group_count"),
    lambda p: p.update(req_flags=None),
], ids=["flags", "code", "index-group", "group-index", "req-chars", "requested", "expression", "missing",
        "null"])
def test_a_file_of_another_shape_is_compiled_afresh(cache, monkeypatch, change):
    expression = r"(?P<n>[a-z]{3})-(?P=n)"
    compiled.pattern(expression)
    path = compiled._path(expression, 0)
    _rewrite(path, change)
    calls = []
    original = regex.compile
    monkeypatch.setattr(compiled.regex, "compile", lambda *a: calls.append(a) or original(*a))
    loaded = compiled.pattern(expression)
    assert calls == [(expression, 0)]
    assert loaded._pickled_data == original(expression)._pickled_data
    assert compiled._load(path.read_bytes(), expression, 0)._pickled_data == loaded._pickled_data  # stored again


@given(position=st.integers(min_value=0), byte=st.integers(min_value=0, max_value=255))
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_a_damaged_file_is_never_loaded(cache, position, byte):
    expression = r"(?i)pass(?:word)?[ \t]*[:=][ \t]*(?P<secret>\S{8,64})"
    compiled.pattern(expression)
    path = compiled._path(expression, 0)
    good = path.read_bytes()
    damaged = bytearray(good)
    damaged[position % len(damaged)] = byte
    if bytes(damaged) == good:
        return
    path.write_bytes(bytes(damaged))
    with pytest.raises((ValueError, KeyError, TypeError)):
        compiled._load(bytes(damaged), expression, 0)
    assert compiled.pattern(expression)._pickled_data == regex.compile(expression)._pickled_data
    assert path.read_bytes() == good


def test_a_truncated_file_is_compiled_afresh(cache):
    expression = r"ghp_[A-Za-z0-9]{36}"
    compiled.pattern(expression)
    path = compiled._path(expression, 0)
    path.write_bytes(path.read_bytes()[:50])
    assert compiled.pattern(expression).search("x ghp_" + "a" * 36)


def test_a_cache_that_cannot_be_written_only_means_compiling(tmp_path, monkeypatch):
    blocked = tmp_path / "file"
    blocked.write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocked))
    assert compiled.pattern(r"AKIA[0-9A-Z]{16}").search("AKIA" + "B" * 16)


def test_an_expression_that_does_not_compile_raises_and_stores_nothing(cache):
    with pytest.raises(regex.error):
        compiled.pattern("(?P<unclosed")
    assert not cache.exists() or not any(cache.iterdir())


def test_rules_take_their_patterns_from_the_cache(cache, no_compiling):
    rules = load_default_rules()
    expected = {r.id: regex.compile(r.expression)._pickled_data for r in rules.rules[:20]}
    for rule in rules.rules[:20]:
        compiled.pattern(rule.expression)
    no_compiling()
    for rule in rules.rules[:20]:
        assert dataclasses.replace(rule).pattern._pickled_data == expected[rule.id]
    assert os.listdir(cache)


def test_a_file_over_the_bound_is_not_read_whole_and_is_compiled_afresh(cache, monkeypatch):
    expression = r"xoxb-[0-9]{10,13}"
    compiled.pattern(expression)
    path = compiled._path(expression, 0)
    payload = path.read_bytes().partition(b"\n")[2] + b" " * compiled.MAX_FILE_BYTES  # still valid JSON
    path.write_bytes(hashlib.sha256(payload).hexdigest().encode() + b"\n" + payload)
    with pytest.raises(ValueError):
        compiled._load(path.read_bytes(), expression, 0)
    calls = []
    original = regex.compile
    monkeypatch.setattr(compiled.regex, "compile", lambda *a: calls.append(a) or original(*a))
    assert compiled.pattern(expression).search("xoxb-1234567890")
    assert calls == [(expression, 0)] and path.stat().st_size < compiled.MAX_FILE_BYTES
