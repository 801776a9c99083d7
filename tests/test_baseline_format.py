"""The baseline file and its matching (radar.scan.baseline), in process: the canonical text, what
a hostile or mangled file gives (one BaselineError, never another exception), and how a scan's
findings split into new, known and resolved."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from radar.scan import baseline as model
from radar.scan.baseline import Baseline, BaselineError, Entry
from radar.scan.findings import Finding, FingerprintKey, Origin

KEY = FingerprintKey(b"test-key")


def finding(value: str, rule_id: str = "github-personal-access-token", path: str = "app/config.py", line: int = 3,
            **changes) -> Finding:
    """A finding of `value` as the engine makes it (only the fingerprint of the value is kept)."""
    f = Finding(rule_id=rule_id, secret_type="GitHub token", description="d", severity="critical",
                confidence="high", path=path, line=line, column=5, end_line=line, end_column=44,
                fingerprint=KEY.fingerprint(value), preview="ghp_…")
    return replace(f, **changes)


def entry(n: int, **fields) -> Entry:
    return Entry(fields.pop("rule_id", "generic-password"), f"{n:064x}", **fields)


# ---- the text --------------------------------------------------------------------------------

CANONICAL = model.HEADER + """\
version = 1
fingerprint_key_id = "83b7dd861c51"

[[finding]]
rule_id = "aws-access-key-id"
fingerprint = "0000000000000000000000000000000000000000000000000000000000000002"
secret_type = "AWS access key ID"
path = "deploy/aws.ini"

[[finding]]
rule_id = "generic-password"
fingerprint = "0000000000000000000000000000000000000000000000000000000000000001"
secret_type = "Password"
path = "app/.env"
reason = "a local database; \\"dev\\" only"
audited_by = "Dev One"
"""


def test_the_canonical_text_reads_and_writes_back_byte_for_byte():
    baseline = model.loads(CANONICAL, "b.toml")
    assert baseline.key_id == KEY.key_id == "83b7dd861c51"
    assert [e.rule_id for e in baseline.entries] == ["aws-access-key-id", "generic-password"]
    assert baseline.entries[1].reason == 'a local database; "dev" only'
    assert baseline.entries[1].audited_by == "Dev One"
    assert model.dumps(baseline) == CANONICAL


def test_entries_are_written_sorted_by_rule_then_fingerprint_whatever_order_they_were_in():
    shuffled = Baseline("83b7dd861c51", (entry(2, rule_id="b-rule"), entry(9), entry(1, rule_id="b-rule"), entry(3)))
    order = [(e.rule_id, e.fingerprint[-1]) for e in model.loads(model.dumps(shuffled), "b").entries]
    assert order == [("b-rule", "1"), ("b-rule", "2"), ("generic-password", "3"), ("generic-password", "9")]


def test_an_empty_baseline_is_the_header_version_and_key_id():
    text = model.dumps(model.created([], KEY))
    assert text == model.HEADER + 'version = 1\nfingerprint_key_id = "83b7dd861c51"\n'
    assert model.loads(text, "b").entries == ()


def test_a_long_reason_keeps_every_other_entry_as_it_was():
    """Each entry is its own block whatever its length: editing one touches only its lines."""
    short = Baseline("83b7dd861c51", (entry(1), entry(2)))
    long = Baseline("83b7dd861c51", (entry(1), entry(2, reason="r" * 500)))
    before, after = model.dumps(short).splitlines(), model.dumps(long).splitlines()
    assert after[:len(before)] == before and len(after) == len(before) + 1


def test_a_hand_written_file_in_any_toml_style_is_read():
    text = """
fingerprint_key_id = '83b7dd861c51'   # the key
version = 1
finding = [
  {rule_id = "generic-password", fingerprint = "%s", reason = '''multi
line'''},
]
""" % ("ab" * 32)
    [only] = model.loads(text, "b").entries
    assert only.reason == "multi\nline" and only.path is None


# ---- hostile and mangled files: one error naming what is wrong -------------------------------

FP = "ab" * 32
VALID_HEAD = 'version = 1\nfingerprint_key_id = "83b7dd861c51"\n'


@pytest.mark.parametrize("text, message", [
    ("version = 1\nfingerprint_key_id = \n", "not valid TOML: Invalid value (at line 2, column 22); fix it or "
                                             "recreate the baseline"),
    ('fingerprint_key_id = "83b7dd861c51"\n', "no version: not a radar baseline"),
    ('version = "1"\nfingerprint_key_id = "83b7dd861c51"\n', "version must be a whole number"),
    ('version = true\nfingerprint_key_id = "83b7dd861c51"\n', "version must be a whole number"),
    ('version = 2\nfingerprint_key_id = "83b7dd861c51"\n',
     "is version 2; this radar reads version 1: use the radar that wrote it, or recreate the baseline"),
    ("version = 1\n", "fingerprint_key_id must be 12 lowercase hex digits"),
    ('version = 1\nfingerprint_key_id = "E3FE051F04E5"\n', "fingerprint_key_id must be 12 lowercase hex digits"),
    (VALID_HEAD + "findings = []\n",
     "unknown key 'findings' (a baseline has version, fingerprint_key_id, finding)"),
    (VALID_HEAD + "[finding]\nrule_id = 'x'\n", "finding must be an array of tables ([[finding]] blocks)"),
    (VALID_HEAD + "finding = [1]\n", "finding[0] must be a table"),
    (VALID_HEAD + "[[finding]]\nrule_id = 'generic-password'\n", "finding[0]: fingerprint is missing"),
    (VALID_HEAD + f"[[finding]]\nfingerprint = '{FP}'\n", "finding[0]: rule_id is missing"),
    (VALID_HEAD + f"[[finding]]\nrule_id = 'generic-password'\nfingerprint = '{FP}'\naudited-by = 'me'\n",
     "finding[0]: unknown key 'audited-by' (an entry has rule_id, fingerprint, secret_type, path, reason, "
     "audited_by)"),
    (VALID_HEAD + f"[[finding]]\nrule_id = 'generic-password'\nfingerprint = '{FP}'\nreason = 4\n",
     "finding[0].reason must be a string"),
    (VALID_HEAD + f"[[finding]]\nrule_id = 'Generic Password'\nfingerprint = '{FP}'\n",
     "finding[0].rule_id must be a rule id (lowercase letters, digits and single dashes)"),
    (VALID_HEAD + "[[finding]]\nrule_id = 'generic-password'\nfingerprint = 'abc'\n",
     "finding[0].fingerprint must be 64 lowercase hex digits"),
    (VALID_HEAD + f"[[finding]]\nrule_id = 'a'\nfingerprint = '{FP}'\n[[finding]]\nrule_id = 'a'\nfingerprint = '{FP}'\n",
     "finding[1] repeats the rule_id and fingerprint of an earlier entry; keep one"),
    (VALID_HEAD + "x" * 1000 + " = 1\n", "unknown key '" + "x" * 40 + "…' (a baseline has version, "
                                          "fingerprint_key_id, finding)"),
], ids=lambda v: v[:40] if isinstance(v, str) else None)
def test_a_bad_file_is_one_error_naming_the_problem(text, message):
    with pytest.raises(BaselineError) as raised:
        model.loads(text, "b.toml")
    assert str(raised.value) == f"baseline b.toml: {message}"


def test_a_file_nested_too_deeply_is_an_error_not_a_recursion_crash():
    with pytest.raises(BaselineError, match="nested too deeply"):
        model.loads(VALID_HEAD + "x = " + "[" * 100_000 + "]" * 100_000 + "\n", "b.toml")


def test_a_file_over_the_limit_is_refused_before_it_is_parsed(tmp_path, monkeypatch):
    monkeypatch.setattr(model, "MAX_BYTES", 100)
    path = tmp_path / "b.toml"
    path.write_text(VALID_HEAD + "#" * 100)
    with pytest.raises(BaselineError, match=r"larger than .* not a baseline radar wrote"):
        model.read(str(path))


@pytest.mark.parametrize("make, message", [
    (lambda p: None, "no baseline {p}: create it with radar baseline create {p} PATH"),
    (lambda p: p.mkdir(), "baseline {p} is a directory; give the baseline file"),
    (lambda p: p.write_bytes(b"version = 1\n# \xff\n"), "baseline {p} is not UTF-8 text (byte 15); recreate it"),
])
def test_a_missing_directory_or_binary_file_is_one_error(tmp_path, make, message):
    path = tmp_path / "b.toml"
    make(path)
    with pytest.raises(BaselineError) as raised:
        model.read(str(path))
    assert str(raised.value) == message.format(p=path)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(
    st.text(max_size=300),
    st.lists(st.sampled_from([VALID_HEAD, "[[finding]]\n", "rule_id = 'a'\n", f"fingerprint = '{FP}'\n",
                              "reason = '\\u0000'\n", "version = 1\n", "[finding]\n", "x = [[\n", "]]\n",
                              "fingerprint = 'ab'\n", "audited_by = 1\n", "'''\n", "= \n", "\n"]),
             max_size=12).map("".join),
))
def test_any_text_is_a_baseline_or_one_baseline_error(text):
    try:
        baseline = model.loads(text, "b.toml")
    except BaselineError as e:
        assert str(e).startswith("baseline b.toml: ") and "\n" not in str(e)
    else:  # what it read, it writes back in the canonical form, which reads as the same baseline
        assert model.loads(model.dumps(baseline), "b.toml") == baseline


_texts = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40)


@st.composite
def baselines(draw) -> Baseline:
    keys = draw(st.lists(st.tuples(st.from_regex(r"[a-z0-9]+(-[a-z0-9]+){0,3}", fullmatch=True),
                                   st.from_regex(r"[0-9a-f]{64}", fullmatch=True)), unique=True, max_size=8))
    entries = tuple(Entry(rule, fp, *(draw(st.none() | _texts) for _ in range(4))) for rule, fp in keys)
    return Baseline(draw(st.from_regex(r"[0-9a-f]{12}", fullmatch=True)), entries)


@settings(max_examples=200)
@given(baselines())
def test_any_baseline_survives_writing_and_reading_whatever_its_notes_hold(baseline):
    text = model.dumps(baseline)
    assert model.loads(text, "b") == baseline
    assert model.dumps(model.loads(text, "b")) == text


# ---- matching: new, known, resolved ----------------------------------------------------------

def test_a_known_value_is_marked_ignored_with_the_entrys_reason_wherever_it_now_is():
    baseline = model.created([finding("value-1")], KEY)
    baseline = Baseline(baseline.key_id, (replace(baseline.entries[0], reason="revoked"),))
    moved = finding("value-1", path="elsewhere/settings.py", line=120)
    result = model.compare(baseline, [moved, finding("value-2", line=3)], KEY)
    assert [f.path for f in result.known] == ["elsewhere/settings.py"]
    assert result.known[0].ignored and result.known[0].ignore_reason == "baseline: revoked"
    assert [f.fingerprint for f in result.new] == [KEY.fingerprint("value-2")]
    assert result.resolved == ()
    assert [f.ignored for f in result.findings] == [True, False]  # in the scan's order


def test_the_same_value_under_another_rule_is_new():
    baseline = model.created([finding("value-1")], KEY)
    result = model.compare(baseline, [finding("value-1", rule_id="generic-api-key")], KEY)
    assert len(result.new) == 1 and [e.rule_id for e in result.resolved] == ["github-personal-access-token"]


def test_an_entry_no_finding_matches_is_resolved_and_an_inline_ignored_finding_stays_as_it_is():
    baseline = model.created([finding("gone"), finding("silenced")], KEY)
    silenced = finding("silenced", ignored=True, ignore_reason="radar:ignore")
    result = model.compare(baseline, [silenced], KEY)
    assert result.findings == (silenced,) and result.new == () and result.known == ()
    assert [e.fingerprint for e in result.resolved] == [KEY.fingerprint("gone")]


def test_findings_without_a_value_are_matched_by_their_place():
    """GitLab hides some variables' values: their findings have no fingerprint, and one hidden
    variable's entry must not cover every other hidden variable."""
    def hidden(key: str) -> Finding:
        return finding("", rule_id="gitlab-variable-unprotected", path=f"variables/{key}[*]", fingerprint="",
                       origin=Origin(project="acme/api"))

    baseline = model.created([hidden("VAULT_SECRET")], KEY)
    [recorded] = baseline.entries
    assert recorded.fingerprint != "" and recorded.path == "acme/api:variables/VAULT_SECRET[*]"
    result = model.compare(baseline, [hidden("VAULT_SECRET"), hidden("OTHER_SECRET")], KEY)
    assert [f.path for f in result.known] == ["variables/VAULT_SECRET[*]"]
    assert [f.path for f in result.new] == ["variables/OTHER_SECRET[*]"]


def test_a_new_entry_notes_the_first_place_of_its_value_and_no_value_or_preview():
    baseline = model.created([finding("value-1", path="z.py"), finding("value-1", path="a.py")], KEY)
    [only] = baseline.entries
    assert only.path == "a.py" and only.secret_type == "GitHub token"
    text = model.dumps(baseline)
    assert "value-1" not in text and "ghp_" not in text


def test_update_keeps_what_people_wrote_adds_new_findings_and_drops_gone_ones():
    made = model.created([finding("kept", path="old/place.py"), finding("gone")], KEY)
    audited = Baseline(made.key_id, tuple(replace(e, reason="accepted", audited_by="alice") for e in made.entries))
    scan = [finding("kept", path="new/place.py"), finding("new")]
    update = model.updated(audited, scan, scan, KEY, complete=True)
    assert (update.added, update.kept, update.dropped, update.unchecked) == (1, 1, 1, 0)
    by_fp = {e.fingerprint: e for e in update.baseline.entries}
    kept = by_fp[KEY.fingerprint("kept")]
    assert (kept.reason, kept.audited_by, kept.path) == ("accepted", "alice", "old/place.py")
    assert KEY.fingerprint("gone") not in by_fp and by_fp[KEY.fingerprint("new")].reason is None


def test_update_after_an_incomplete_scan_drops_nothing():
    made = model.created([finding("in-an-unreadable-file")], KEY)
    update = model.updated(made, [], [], KEY, complete=False)
    assert update.baseline == made and (update.dropped, update.unchecked) == (0, 1)


def test_update_keeps_an_entry_whose_finding_is_now_silenced_inline():
    made = model.created([finding("v")], KEY)
    silenced = finding("v", ignored=True, ignore_reason="radar:ignore")
    assert model.updated(made, [], [silenced], KEY, complete=True).baseline == made


def test_update_with_nothing_changed_is_the_same_text():
    scan = [finding("a"), finding("b", rule_id="generic-password")]
    text = model.dumps(model.created(scan, KEY))
    assert model.dumps(model.updated(model.loads(text, "b"), scan, scan, KEY, complete=True).baseline) == text


def test_a_baseline_of_another_key_is_refused_naming_both_key_ids():
    baseline = model.created([], KEY)
    other = FingerprintKey(b"another-key", "RADAR_FINGERPRINT_KEY")
    with pytest.raises(BaselineError) as raised:
        model.check_key(baseline, other, "b.toml")
    assert str(raised.value) == (
        f"baseline b.toml was made with fingerprint key id {KEY.key_id}; this run uses {other.key_id} "
        "(from RADAR_FINGERPRINT_KEY): set RADAR_FINGERPRINT_KEY to the key that made it, or recreate the baseline")
    model.check_key(baseline, FingerprintKey(b"test-key"), "b.toml")
