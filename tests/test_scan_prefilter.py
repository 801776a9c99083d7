"""The keyword index with Hyperscan: the keywords and the patterns are two databases, compiled
side by side on a fresh cache and loaded from it later, and their hits come as one list in text
order, the same from a worker's copy."""

from __future__ import annotations

import pickle

import hyperscan
import pytest
import regex
from hypothesis import HealthCheck, given, settings, strategies as st

from radar.scan import prefilter
from radar.scan.prefilter import KeywordIndex

WORDS = {"token": (0,), "ghp_": (1,), "password": (2,), "tok": (3,)}
PATTERNS = {r"(?i)tok[0-9]{2}": (-5,), r"^[ \t]*ENV[ \t]": (-6,)}
TEXTS = st.lists(st.sampled_from(["token", "TOK12", "tok9", "ghp_", "Password", "ENV ", " ENV\t", "\n", " ",
                                  "x", "é", "日本", "07"]), max_size=40).map("".join)


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    return tmp_path / "radar"


def _expected(text: str) -> list[tuple[int, tuple[int, ...]]]:
    """The hits worked out without Hyperscan: the keywords' from Aho-Corasick, the patterns' from
    `regex` (each match's last character), in text order."""
    hits = list(KeywordIndex(WORDS, "ahocorasick").hits(text))
    for expression, roles in PATTERNS.items():
        hits += [(m.end() - 1, roles) for m in regex.finditer(expression.replace("^", "(?m)^", 1), text)]
    return sorted(hits, key=lambda hit: hit[0])


def _by_offset(hits):
    return sorted(hits, key=lambda hit: (hit[0], hit[1]))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=TEXTS)
def test_the_hits_of_both_databases_come_in_text_order_and_are_all_there(cache, text):
    index = KeywordIndex(WORDS, "hyperscan", PATTERNS)
    assert index.patterns_supported
    hits = list(index.hits(text))
    assert [end for end, _ in hits] == sorted(end for end, _ in hits)
    assert _by_offset(hits) == _by_offset(_expected(text))


def test_a_fresh_cache_gets_both_databases_and_a_later_index_only_loads_them(cache, monkeypatch):
    text = "ENV token=ghp_x TOK12 password"
    first = list(KeywordIndex(WORDS, "hyperscan", PATTERNS).hits(text))
    assert len(list(cache.glob("keywords-*.hsdb"))) == 1 and len(list(cache.glob("patterns-*.hsdb"))) == 1

    class NoCompiling(hyperscan.Database):
        def compile(self, *args, **kwargs):
            raise AssertionError("compiled afresh")

    monkeypatch.setattr(prefilter.hyperscan, "Database", NoCompiling)
    assert list(KeywordIndex(WORDS, "hyperscan", PATTERNS).hits(text)) == first
    assert _by_offset(first) == _by_offset(_expected(text))


def test_a_damaged_database_file_is_compiled_again(cache):
    KeywordIndex(WORDS, "hyperscan", PATTERNS)
    [patterns] = cache.glob("patterns-*.hsdb")
    patterns.write_bytes(b"not a database")
    index = KeywordIndex(WORDS, "hyperscan", PATTERNS)
    assert index.patterns_supported and list(index.hits(" ENV x")) == [(4, (-6,))]
    assert patterns.read_bytes() != b"not a database"


def test_a_worker_s_copy_gives_the_same_hits(cache):
    index = KeywordIndex(WORDS, "hyperscan", PATTERNS)
    text = "tok07 token\nENV ghp_ é password"
    copy = pickle.loads(pickle.dumps(index))
    assert list(copy.hits(text)) == list(index.hits(text)) and copy.patterns_supported


def test_a_refused_pattern_leaves_the_keywords_in_their_own_database(cache):
    index = KeywordIndex(WORDS, "hyperscan", {"(?<=x)token": (-9,)})  # no look-behind in Hyperscan
    assert not index.patterns_supported
    assert list(index.hits("a TOKEN")) == [(4, (3,)), (6, (0,))]
    assert not list(cache.glob("patterns-*.hsdb"))


@pytest.mark.parametrize("failing", ["keywords", "patterns"])
def test_a_failure_while_compiling_is_raised_not_dropped(cache, monkeypatch, failing):
    # With an empty cache the keywords compile on a thread and the patterns on the caller's: a
    # failure that is not Hyperscan refusing a pattern must reach the caller from either.
    class Failing(hyperscan.Database):
        def compile(self, *args, literal=False, **kwargs):
            if literal == (failing == "keywords"):
                raise MemoryError(f"out of memory compiling the {failing}")
            return super().compile(*args, literal=literal, **kwargs)

    monkeypatch.setattr(prefilter.hyperscan, "Database", Failing)
    with pytest.raises(MemoryError, match=failing):
        KeywordIndex(WORDS, "hyperscan", PATTERNS)

