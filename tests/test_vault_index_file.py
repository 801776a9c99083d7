"""The Vault index file without a Vault: what radar writes it reads back to the same places, and a
hostile or broken file is one `VaultIndexError` line naming the file and the line, never its text,
at a cost bounded by the file's size. (The walk and the scans: tests/test_vault_index.py.)"""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from radar.scan.findings import Finding, FingerprintKey, VaultPlace
from radar.scan.vault_index import (
    MAX_LINE_BYTES, IndexEntry, IndexHeader, VaultIndexError, load_index, parse_index, render, value_digests,
)

KEY = FingerprintKey(b"index-file-test-key")
DIGEST = "ab" * 32
MARKER = "zz-marker-from-the-file-zz"  # text a message must never repeat


def header(entries: int, **changes) -> IndexHeader:
    fields = dict(key_id=KEY.key_id, vault="https://vault.example.com", namespaces=("",),
                  mounts=(("", "secret", 2),), generated="2026-12-04T08:00:00Z", radar_version="1.0",
                  complete=True, unreadable=0, values=entries, entries=entries)
    return IndexHeader(**{**fields, **changes})


def entry(digest: str | None = DIGEST, path: str = "apps/db", version: int | None = 2, latest: bool = True,
          **changes) -> IndexEntry:
    field = changes.pop("field", "password")
    return IndexEntry(digest, changes.pop("namespace", ""), changes.pop("mount", "secret"), path,
                      None if digest is None else field, version, latest, **changes)


def document(*entries: IndexEntry, **changes) -> bytes:
    return render(header(len(entries), **changes), entries).encode()


def error(data: bytes) -> str:
    with pytest.raises(VaultIndexError) as caught:
        parse_index(data, KEY, "idx.jsonl")
    message = str(caught.value)
    assert "\n" not in message and MARKER not in message, "the error is not one line naming no file text"
    assert message.startswith("idx.jsonl: ")
    return message


def test_what_radar_writes_it_reads_back_latest_first():
    old = entry(version=1, latest=False)
    other = entry(digest="cd" * 32, path="apps/cache", version=None)
    gone = entry(digest=None, version=3, latest=True, deleted=True)
    index = parse_index(document(old, entry(), other, gone), KEY)
    assert index.places(DIGEST) == (VaultPlace("", "secret", "apps/db", "password", 2, True),
                                    VaultPlace("", "secret", "apps/db", "password", 1, False))
    assert index.places("cd" * 32) == (VaultPlace("", "secret", "apps/cache", "password", None, True),)
    assert len(index) == 2  # the deleted version has no digest to match
    assert index.warnings == ()


def test_findings_are_marked_by_fingerprint_and_others_left_as_they_are():
    index = parse_index(document(entry()), KEY)
    found = Finding("generic-password", "Password", "p", "a.env", 1, 1, 1, 2, "high", "high", DIGEST, "ab…")
    elsewhere = Finding("generic-password", "Password", "p", "b.env", 1, 1, 1, 2, "high", "high", "ef" * 32, "ef…")
    marked, untouched = index.mark([found, elsewhere])
    assert marked.in_vault == (VaultPlace("", "secret", "apps/db", "password", 2, True),)
    assert untouched is elsewhere


def test_an_incomplete_index_warns_each_scan():
    index = parse_index(document(entry(), complete=False, unreadable=3), KEY, "idx.jsonl")
    assert index.warnings == ("Vault index idx.jsonl is incomplete: 3 thing(s) could not be read when it was "
                              "made; a value stored there is not marked in_vault",)


def test_a_value_stored_in_many_places_is_read_in_linear_time():
    # Every entry the same digest: one ordered set of places, not a tuple rebuilt per line.
    entries = [entry(path=f"apps/s{i:05d}") for i in range(20_000)]
    index = parse_index(document(*entries), KEY)
    assert len(index.places(DIGEST)) == 20_000


@pytest.mark.parametrize("data, expected", [
    (b"", "is empty, not a Vault index"),
    (b"{}\n", "not a radar Vault index"),
    (f'["{MARKER}"]\n'.encode(), "not a radar Vault index"),
    (f"{MARKER}\n".encode(), "line 1: not JSON"),
    (b"\xff\xfe\n", "line 1 is not UTF-8 text"),
    (b"[" * (MAX_LINE_BYTES + 1) + b"\n", "line 1 is longer than"),
    (b"[" * 5_000 + b"]" * 5_000 + b"\n", "line 1: "),
    (b'{"radar_vault_index": 2}\n', "a Vault index in a format this radar does not read"),
    (b'{"radar_vault_index": 1}\n', "line 1: "),
    (b'{"radar_vault_index": ' + b"1" * 5000 + b"}\n", "line 1: not JSON (a number of more than 4300 digits"),
])
def test_what_is_not_an_index_is_named(data, expected):
    assert expected in error(data)


def test_an_index_made_with_another_key_is_refused():
    data = render(header(0, key_id=FingerprintKey(b"other").key_id), []).encode()
    assert f"made with the fingerprint key {FingerprintKey(b'other').key_id}, but this scan's key is {KEY.key_id}" \
        in error(data)


def test_entries_the_header_does_not_announce_are_refused():
    data = render(header(1), [entry(), entry(path="apps/extra")]).encode()
    assert "line 3: more entries than its header says (1)" in error(data)
    data = render(header(3), [entry(), entry(path="apps/extra")]).encode()
    assert "holds 2 entries where its header says 3" in error(data)


def test_a_header_announcing_too_many_entries_is_refused_before_reading_them():
    assert "holds 2000001 entries, more than the 2000000 radar reads" in error(render(header(2_000_001), []).encode())


@pytest.mark.parametrize("change, expected", [
    ({"digest": MARKER}, "line 2: "),
    ({"version": 0}, "line 2: "),
    ({"field": None}, "line 2: an entry with a digest must name its field"),
    ({"mount": ""}, "line 2: "),
    ({"extra": MARKER}, "line 2: "),
])
def test_a_broken_entry_is_named_by_its_line(change, expected):
    item = {**json.loads(render(header(1), [entry()]).splitlines()[1]), **change}
    data = (render(header(1), []).splitlines()[0] + "\n" + json.dumps(item) + "\n").encode()
    assert expected in error(data)


def test_a_missing_or_unreadable_file_is_one_line(tmp_path):
    with pytest.raises(VaultIndexError, match=r"nope\.jsonl: no such file; create it with: radar index vault"):
        load_index(str(tmp_path / "nope.jsonl"), KEY)
    with pytest.raises(VaultIndexError, match="is a directory"):
        load_index(str(tmp_path), KEY)


_json_scalar = st.one_of(st.none(), st.booleans(), st.integers(-3, 2**63), st.text(max_size=20))
_json = st.recursive(_json_scalar, lambda inner: st.lists(inner, max_size=4)
                     | st.dictionaries(st.sampled_from(["digest", "field", "version", "path", "mount", "latest",
                                                        "namespace", "entries", "key_id", "x"]), inner, max_size=5),
                     max_leaves=20)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(good=st.integers(0, 3), tail=st.lists(st.one_of(st.binary(max_size=80), _json.map(lambda v: json.dumps(v).encode())),
                                             max_size=4),
       cut=st.integers(0, 2000))
def test_any_file_is_an_index_or_one_line_error(good, tail, cut):
    """A real index's prefix, cut anywhere, followed by arbitrary lines: it loads with at most the
    entries it holds, or fails with one line naming the file and never a byte of it."""
    valid = document(*[entry(path=f"apps/s{i}") for i in range(good)])
    data = valid[:cut] + b"\n".join([MARKER.encode() + b" " + line for line in tail[:1]] + tail[1:])
    try:
        index = parse_index(data, KEY, "idx.jsonl")
    except VaultIndexError as e:
        message = str(e)
        assert "\n" not in message and message.startswith("idx.jsonl: ")
        assert MARKER not in message, "the error repeats the file's text"
        return
    assert len(index) <= 1 and index.header.entries == good  # every good entry shares DIGEST


@settings(max_examples=200, deadline=None)
@given(value=st.text(min_size=1, max_size=200))
def test_every_digest_of_a_value_is_its_fingerprint_in_some_form(value):
    """The plain value's fingerprint is always there (a finding of exactly the stored text matches),
    and each digest is a fingerprint of some text a scan could see: no other kind of hash."""
    digests = value_digests(value, KEY)
    if value.strip():
        assert digests[KEY.fingerprint(value)] == "value"
        assert KEY.fingerprint(value.strip()) in digests
    else:
        assert digests == {}
    assert all(len(d) == 64 and int(d, 16) >= 0 for d in digests)


_names = st.text(min_size=1, max_size=12)  # any code point, lone surrogates, quotes and backslashes too


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(["ab" * 32, "cd" * 32, None]), st.text(max_size=8), _names, _names,
                          _names, st.one_of(st.none(), st.integers(1, 10**17)), st.booleans()), min_size=1, max_size=8))
def test_radars_own_lines_and_any_other_layout_load_to_the_same_places(rows):
    """Lines as radar writes them are matched by a pattern and parsed when asked; the same entries
    with their keys in another order and spaced go through the JSON parser and the schema: both
    must give the same places, whatever the names hold."""
    entries = [entry(digest, namespace=ns, mount=m, path=p, field=f, version=v, latest=latest, deleted=digest is None)
               for digest, ns, m, p, f, v, latest in rows]
    written = document(*entries)
    head, *lines = written.decode().splitlines()
    relaid = "\n".join([head, *(json.dumps(json.loads(x), sort_keys=True, indent=None, separators=(", ", ": "))
                                for x in lines)]) + "\n"
    fast, slow = parse_index(written, KEY), parse_index(relaid.encode(), KEY)
    # A blank line keeps radar's own lines from the one-pass reader: they go line by line too.
    careful = parse_index(written.replace(b"\n", b"\n\n", 1), KEY)
    for digest in ("ab" * 32, "cd" * 32):
        expected = {VaultPlace(e.namespace, e.mount, e.path, e.field, e.version, e.latest)
                    for e in entries if e.digest == digest}
        assert set(fast.places(digest)) == expected
        assert fast.places(digest) == slow.places(digest) == careful.places(digest)
