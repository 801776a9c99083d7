"""Properties of the engine on open-ended input: it never crashes, and a planted token is found."""

from __future__ import annotations

import base64
import urllib.parse

from hypothesis import HealthCheck, example, given, settings, strategies as st

from radar.scan import prefilter, validators
from radar.scan.engine import Engine, _decode, _windows
from radar.scan.examples import expand
from radar.scan.findings import FingerprintKey
from radar.scan.prefilter import KeywordIndex
from radar.scan.rules import load_default_rules

ENGINE = Engine(load_default_rules(), FingerprintKey(b"test-key"))
TOKEN = "glpat-" + expand("{b64url:20}", "property")
# Text around a planted token: anything, as long as the characters touching the token end it.
SEPARATORS = st.sampled_from([" ", "\n", "\t", '"', "'", "=", ":", ",", ";", "(", ")", "<", ">"])
NOISE = st.text(st.characters(blacklist_categories=("Cs",)), max_size=300)
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(NOISE)
def test_scanning_any_text_never_crashes_and_positions_stay_inside_it(text):
    result = ENGINE.scan(text, "any.txt")
    lines = text.count("\n") + 1
    for f in result.findings:
        assert 1 <= f.line <= f.end_line <= lines and f.column >= 1


@FAST
@given(NOISE, SEPARATORS, SEPARATORS, NOISE)
def test_a_planted_token_is_found_on_its_line(before, left, right, after):
    text = before + left + TOKEN + right + after
    findings = [f for f in ENGINE.scan(text, "any.txt").findings if f.rule_id == "gitlab-personal-access-token"]
    line = (before + left).count("\n") + 1
    assert line in [f.line for f in findings]


@FAST
@given(st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=60),
       st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=60))
def test_a_token_inside_base64_is_found_at_the_blob(before, after):
    blob = base64.b64encode(f"{before} {TOKEN} {after}".encode()).decode()
    text = f"value: {blob}\n"
    findings = ENGINE.scan(text, "k8s.yaml").findings
    assert any(f.rule_id == "gitlab-personal-access-token" and f.line == 1 and "decoded:base64" in f.tags for f in findings)


@FAST
@given(st.text(alphabet="%0123456789abcdefABCDEFxyz=/+-_", max_size=200))
@example("%3D%80")
def test_decoding_arbitrary_blobs_never_raises(blob):
    _decode(blob, "percent")
    _decode(blob, "base64")


@FAST
@given(st.binary(max_size=200))
@example(b"=\x80")  # once crashed: a percent escape of a byte that is not UTF-8
def test_base64_of_arbitrary_bytes_is_scanned_or_skipped_but_never_crashes(data):
    ENGINE.scan("x = " + base64.b64encode(data).decode() + " " + urllib.parse.quote_from_bytes(data), "b.txt")


@FAST
@given(st.sampled_from(["github-crc32", "aws-key-id", "jwt", "pem", "ppk", "pypi-macaroon", "basic-auth",
                        "bech32-age", "base64-bytes:32"]), NOISE)
def test_validators_answer_for_any_value(name, value):
    assert validators.validate(name, value) in (True, False, None)


_ROLES = {w: (i,) for i, w in enumerate(["token", "ghp_", "glpat-", "password", "-----begin", "tok"])}
_PREFILTERS = [KeywordIndex(_ROLES, "ahocorasick")]
if prefilter.hyperscan is not None:
    _PREFILTERS.append(KeywordIndex(_ROLES, "hyperscan"))


@FAST
@given(st.lists(st.sampled_from(["token", "TOKEN", "ghp_", "glpat-", "Password", "-----BEGIN", "é", "ü", "\n", " ", "x", "日本"]),
                max_size=40).map("".join))
def test_both_prefilter_engines_report_the_same_hits(text):
    answers = [list(p.hits(text)) for p in _PREFILTERS]
    assert all(a == answers[0] for a in answers)
    for end, _ in answers[0]:
        assert 0 <= end < len(text)


# Pieces of assignments, arranged at random: names in several spellings and cases, key characters
# that lengthen the key past its 40-character reach, every operator and quote, XML tags, `ENV`
# lines, `--flags`, line breaks and values random enough to be reported.
_ASSIGNMENT_PIECES = st.sampled_from([
    "password", "PassWord", "db_", "_pass", "pass_", "token", "AUTH", "author", "api_key", "api-key",
    "apiKey", "api.key", "secret", "x" * 38, "a.b-c_", "=", ":", ":=", "=>", "!=", "==", " ", "\t", '"',
    "'", "`", "]", "<", ">", "</", "<password>", "ENV ", "env ", "--", "\n", "@", "!!str ",
    "Zx9qL2mN8vR4tY7w", "K3j$9pQ!mZ2w", "é", "K", "\u212a", "\u017f", "\u0130", "e\u0301", "пароль", "ß",
    "\u00a0", "\u2028", "?=", "+=", ".=", "??=", "::=", ",", " string ", ": String", "&'static str", '"]', " || ", "??", " or ", "process.env.X ", "getenv('X') ",
])


# Whole assignments too, so that most examples hold something the expressions match.
_ASSIGNMENTS = st.tuples(
    st.sampled_from(["", " ", "\n", "<", "ENV ", "  env\t", "--", "x.", "é", "ÿ ", '("', "['", "`"]),
    st.sampled_from(["", "db_", "my-", "Z" * 39, "a.b-c_", "пароль_", "e\u0301"]),
    st.sampled_from(["password", "Token", "api_key", "apiKey", "secret", "_pass", "auth", "pa\u017fsword",
                     "to\u212aen", "ap\u0130_key"]),
    st.sampled_from(["", "_file", "Word", "y" * 39, "-x.z", "é", "\u0301"]),
    st.sampled_from(["=", " = ", ": ", ":=", " => ", "!=", '"', '": ', "']=", ">", " ", "\t", " a>", "\t=",
                     '" \t= ', "'=", "`: ", "]= ", '"\t:', " \t!= ", " ?= ", "::=", " :::= ", "+=", " .= ",
                     " ??= ", '", ', "',", " string = ", ": String = ", " str=", '"]= ', "'] = "]),
    st.sampled_from(["", '"', "'", "`", "@"]),
    st.sampled_from(["Zx9qL2mN8vR4tY7w", "K3j$9pQ!mZ2w", "short", "${VAR}", "Zx9q\nL2mN8vR4tY7w", "Zx9qпароль8vR4"]),
    st.sampled_from(["", '"', "'", "</", "\n", " ", ";", "é"]),
).map("".join)

_TAGS = st.tuples(
    st.just("<"), st.sampled_from(["", "db_", "Z" * 39, "a.b-c_"]),
    st.sampled_from(["password", "Token", "api-key", "secret"]), st.sampled_from(["", "_file", "y" * 39]),
    st.sampled_from(["", " a='1'", "\n"]), st.just(">"), st.sampled_from(["", " ", "\n"]),
    st.sampled_from(["Zx9qL2mN8vR4tY7w", "short"]), st.sampled_from(["", " ", "\n"]), st.just("</"),
).map("".join)


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(_ASSIGNMENT_PIECES, _ASSIGNMENTS, _TAGS), max_size=30))
def test_generic_rules_match_where_a_search_of_every_line_matches(pieces):
    # The engine runs a generic rule's expression only where a match can begin, as Hyperscan's
    # start patterns report them (or, without Hyperscan, as worked out from the keyword hits); a
    # search of each line holding a name must match the same spans.
    text = "".join(pieces)
    for engine in _ANCHORED:
        hits = engine._hits(text)
        for index, ends in hits.rules.items():
            if index in engine._anchored:
                rule = engine.rules[index]
                searched = [m.span() for start, stop in _windows(text, ends, rule)
                            for m in rule.pattern.finditer(text, start, stop)]
                anchored = engine._rule_matches(text, index, ends, hits, "x", [], text.isascii())
                assert [m.span() for m in anchored] == searched


@FAST
@given(st.lists(st.one_of(_ASSIGNMENT_PIECES, _ASSIGNMENTS), max_size=30),
       st.sampled_from(["settings.env", "app.py", "values.yaml"]))
def test_generic_rules_find_what_a_search_of_every_line_finds(pieces, path):
    text = "".join(pieces)
    assert ENGINE.scan(text, path).findings == _SEARCHING.scan(text, path).findings


# The same engine with the shortcut turned off: generic rules search every line holding a name.
_SEARCHING = Engine(load_default_rules(), FingerprintKey(b"test-key"))
_SEARCHING._anchored.clear()
# Without Hyperscan: no start patterns or gates, one index for every keyword.
_AHOCORASICK = Engine(load_default_rules(), FingerprintKey(b"test-key"), prefilter="ahocorasick")
_ANCHORED = [ENGINE, _AHOCORASICK] if ENGINE._keywords.patterns_supported else [ENGINE]


_GATED = [ENGINE.rules[i] for i in sorted(ENGINE._gated)]
_GATED_EXAMPLES = sorted({expand(example, "gate") for rule in _GATED for example in rule.true_examples})
# Examples whole, cut short (so that a gate matches where the expression does not) and among noise.
_GATE_PIECES = st.one_of(
    st.sampled_from(_GATED_EXAMPLES),
    st.tuples(st.sampled_from(_GATED_EXAMPLES), st.integers(0, 200)).map(lambda p: p[0][: p[1]]),
    st.sampled_from([" ", "\n", "=", '"', "é", "\u212a", "x" * 30]),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_GATE_PIECES, max_size=12))
def test_rules_with_a_gate_match_what_a_search_of_their_lines_matches(pieces):
    # A rule with a gate is searched only on the lines where Hyperscan found its gate, and its
    # own keywords are looked for only in texts where a gate matched. The reference: an engine
    # with no gates and one index for all keywords.
    text = "".join(pieces)
    hits = ENGINE._hits(text)
    reference = _AHOCORASICK._hits(text)
    for index in ENGINE._gated:
        rule = ENGINE.rules[index]
        ends = reference.rules.get(index, [])
        searched = [m.span() for start, stop in _windows(text, ends, rule)
                    for m in rule.pattern.finditer(text, start, stop)]
        if index in hits.rules:
            assert hits.rules[index] == ends
            gated = ENGINE._rule_matches(text, index, ends, hits, "x", [], text.isascii())
            assert [m.span() for m in gated] == searched
        else:
            assert searched == []


def test_an_env_line_is_a_start_once_however_many_names_its_key_holds():
    # The start patterns take a key of any length, so each of the names below is a report of the
    # `ENV` form (2) on the same line; the line's start is found once per line, in any order.
    from radar.scan.generic import reported_starts

    first = "ENV " + "password" * 1_000 + "=x\n"
    text = first + "RUN make\n" + "  ENV token=y\n"
    names = [i + len("password") - 1 for i in range(4, 4 + 8_000, 8)]
    second = text.index("  ENV") + len("  ENV token") - 1
    reports = [(last, 2) for last in names] + [(second, 2)]
    assert reported_starts(text, reports, len("password")) == [0, text.index("  ENV")]
    assert reported_starts(text, list(reversed(reports)), len("password")) == [0, text.index("  ENV")]
    assert reported_starts(text, [(second, 2), (names[5], 2), (second, 2)], 8) == [0, text.index("  ENV")]
