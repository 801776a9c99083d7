"""The monitor's state file (radar.monitor.state) and one run's comparison with it
(radar.monitor.compare), in process: the canonical text, what a hostile or mangled file gives
(one StateError, never another exception), and how findings split into new, known and resolved."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from radar.monitor import state as model
from radar.monitor.compare import compare
from radar.monitor.state import Seen, State, StateEntry, StateError
from radar.scan.findings import Finding, FingerprintKey, History, Location
from radar.scan.severity import LEVELS, LadderContext

KEY = FingerprintKey(b"test-key")
DIRECTORY, HISTORY = LadderContext("directory"), LadderContext("history")
ALL = ("high", "medium", "low")
MONDAY, TUESDAY = Seen("2026-11-30", 101), Seen("2026-12-01")
FP = "0" * 63 + "1"


def finding(value: str, path: str = "app/config.py", line: int = 3, **changes) -> Finding:
    """A finding of `value` as the engine makes it (only the fingerprint of the value is kept)."""
    f = Finding(rule_id="github-personal-access-token", secret_type="GitHub token", description="d",
                severity="critical", confidence="high", path=path, line=line, column=5, end_line=line,
                end_column=44, fingerprint=KEY.fingerprint(value), preview="ghp_…")
    return replace(f, **changes)


def run(previous: State | None, findings: list[Finding], now: Seen = TUESDAY, complete: bool = True,
        context: LadderContext = DIRECTORY, confident=ALL):
    return compare(previous, findings, KEY, context, now, confident, complete)


# ---- the text --------------------------------------------------------------------------------

CANONICAL = model.HEADER + """\
version = 1
fingerprint_key_id = "83b7dd861c51"

[[finding]]
rule_id = "aws-access-key-id"
fingerprint = "0000000000000000000000000000000000000000000000000000000000000002"
secret_type = "AWS access key ID"
path = "deploy/aws.ini"
severity = "critical"
first_seen = "2026-11-30"
first_seen_pipeline = 101

[[finding]]
rule_id = "generic-password"
fingerprint = "0000000000000000000000000000000000000000000000000000000000000001"
severity = "medium"
first_seen = "2026-12-01"
"""


def test_the_canonical_text_reads_and_writes_back_byte_for_byte():
    state = model.loads(CANONICAL, "s.toml")
    assert state.key_id == KEY.key_id
    assert state.entries[0] == StateEntry("aws-access-key-id", "0" * 63 + "2", "critical", MONDAY,
                                          "AWS access key ID", "deploy/aws.ini")
    assert state.entries[1].first_seen == TUESDAY and state.entries[1].path is None
    assert model.dumps(state) == CANONICAL


def test_entries_are_written_sorted_whatever_order_they_came_in():
    a = StateEntry("b-rule", FP, "low", MONDAY)
    b = StateEntry("a-rule", "f" * 64, "low", MONDAY)
    c = StateEntry("a-rule", "0" * 64, "low", MONDAY)
    assert model.dumps(State(KEY.key_id, (a, b, c))) == model.dumps(State(KEY.key_id, (c, a, b)))
    assert [e.key for e in State(KEY.key_id, (a, b, c)).entries] == [c.key, b.key, a.key]


VALID_HEAD = 'version = 1\nfingerprint_key_id = "83b7dd861c51"\n'
ENTRY = f'[[finding]]\nrule_id = "r"\nfingerprint = "{FP}"\nseverity = "low"\nfirst_seen = "2026-12-01"\n'


@pytest.mark.parametrize("text, message", [
    ("version = 2\n" 'fingerprint_key_id = "83b7dd861c51"\n',
     "is version 2; this radar reads version 1: use the radar that wrote it, or recreate the monitor state"),
    ('fingerprint_key_id = "83b7dd861c51"\n', "no version: not a radar monitor state"),
    (VALID_HEAD + "runs = 3\n", "unknown key 'runs' (a monitor state has version, fingerprint_key_id, finding)"),
    (VALID_HEAD + ENTRY + 'value = "x"\n', "finding[0]: unknown key 'value' (an entry has rule_id, fingerprint, "
                                           "secret_type, path, severity, first_seen, first_seen_pipeline)"),
    (VALID_HEAD + ENTRY.replace('severity = "low"\n', ""), "finding[0]: severity is missing"),
    (VALID_HEAD + ENTRY.replace('"low"', '"urgent"'),
     "finding[0].severity must be one of critical, high, medium, low, info"),
    (VALID_HEAD + ENTRY.replace('"low"', "3"), "finding[0].severity must be a string"),
    (VALID_HEAD + ENTRY.replace("2026-12-01", "2026-02-30"), "finding[0].first_seen must be a date, YYYY-MM-DD"),
    (VALID_HEAD + ENTRY.replace('"2026-12-01"', "2026-12-01"), "finding[0].first_seen must be a string"),
    (VALID_HEAD + ENTRY.replace("2026-12-01", "20261201"), "finding[0].first_seen must be a date, YYYY-MM-DD"),
    (VALID_HEAD + ENTRY + "first_seen_pipeline = 0\n",
     "finding[0].first_seen_pipeline must be a pipeline id (a whole number from 1)"),
    (VALID_HEAD + ENTRY + 'first_seen_pipeline = "12"\n',
     "finding[0].first_seen_pipeline must be a pipeline id (a whole number from 1)"),
    (VALID_HEAD + ENTRY + "first_seen_pipeline = true\n",
     "finding[0].first_seen_pipeline must be a pipeline id (a whole number from 1)"),
    (VALID_HEAD + ENTRY.replace(FP, "XYZ"), "finding[0].fingerprint must be 64 lowercase hex digits"),
    (VALID_HEAD + ENTRY.replace('"r"', '"Not A Rule"'),
     "finding[0].rule_id must be a rule id (lowercase letters, digits and single dashes)"),
    (VALID_HEAD + ENTRY + ENTRY,
     "finding[1] repeats the rule_id and fingerprint of an earlier entry; remove the file to start afresh"),
    (VALID_HEAD + "finding = 3\n", "finding must be an array of tables ([[finding]] blocks)"),
])
def test_a_bad_state_is_one_error_naming_the_problem(text, message):
    with pytest.raises(StateError) as raised:
        model.loads(text, "s.toml")
    assert str(raised.value) == f"monitor state s.toml: {message}"


def test_a_missing_state_is_a_first_run_and_a_directory_or_binary_file_an_error(tmp_path):
    assert model.read(str(tmp_path / "none.toml")) is None
    with pytest.raises(StateError, match="is a directory; give the monitor state file"):
        model.read(str(tmp_path))
    (tmp_path / "s.toml").write_bytes(b"version = 1\n# \xff\n")
    with pytest.raises(StateError, match=r"is not UTF-8 text \(byte 15\)"):
        model.read(str(tmp_path / "s.toml"))


def test_a_state_of_another_key_is_refused_naming_both_key_ids():
    state = State(FingerprintKey(b"another").key_id)
    with pytest.raises(StateError) as raised:
        model.check_key(state, KEY, "s.toml")
    assert f"made with fingerprint key id {state.key_id}; this run uses {KEY.key_id}" in str(raised.value)
    assert "RADAR_FINGERPRINT_KEY" in str(raised.value)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(
    st.text(max_size=300),
    st.lists(st.sampled_from([VALID_HEAD, "[[finding]]\n", "rule_id = 'a'\n", f"fingerprint = '{FP}'\n",
                              "severity = 'low'\n", "severity = 'x'\n", "first_seen = '2026-01-01'\n",
                              "first_seen = '2026-99-01'\n", "first_seen_pipeline = 9223372036854775807\n",
                              "first_seen_pipeline = -1\n", "path = '\\u0000'\n", "version = 1\n", "[finding]\n",
                              "x = [[\n", "]]\n", "'''\n", "= \n", "\n"]),
             max_size=14).map("".join),
))
def test_any_text_is_a_state_or_one_state_error(text):
    try:
        state = model.loads(text, "s.toml")
    except StateError as e:
        assert str(e).startswith("monitor state s.toml: ") and "\n" not in str(e)
    else:  # what it read, it writes back in the canonical form, which reads as the same state
        assert model.loads(model.dumps(state), "s.toml") == state


_texts = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40)


@st.composite
def states(draw) -> State:
    keys = draw(st.lists(st.tuples(st.from_regex(r"[a-z0-9]+(-[a-z0-9]+){0,3}", fullmatch=True),
                                   st.from_regex(r"[0-9a-f]{64}", fullmatch=True)), unique=True, max_size=8))
    entries = tuple(StateEntry(rule, fp, draw(st.sampled_from(LEVELS)),
                               Seen(draw(st.dates()).isoformat(), draw(st.none() | st.integers(1, 2**63 - 1))),
                               draw(st.none() | _texts), draw(st.none() | _texts)) for rule, fp in keys)
    return State(draw(st.from_regex(r"[0-9a-f]{12}", fullmatch=True)), entries)


@settings(max_examples=200)
@given(states())
def test_any_state_survives_writing_and_reading_whatever_its_notes_hold(state):
    text = model.dumps(state)
    assert model.loads(text, "s") == state
    assert model.dumps(model.loads(text, "s")) == text


# ---- one run against the last ----------------------------------------------------------------

def test_the_first_run_finds_everything_new_and_records_when():
    result = run(None, [finding("one"), finding("two", path="b.py")], now=MONDAY)
    assert result.first_run and len(result.new) == 2 and result.known == () and result.resolved == ()
    assert sorted((e.path, e.severity, e.first_seen) for e in result.state.entries) == \
           [("app/config.py", "critical", MONDAY), ("b.py", "critical", MONDAY)]


def test_a_second_run_reports_only_the_new_value_and_marks_the_known_one():
    first = run(None, [finding("one")], now=MONDAY)
    second = run(first.state, [finding("one"), finding("two", path="b.py")])
    assert [f.path for f in second.new] == ["b.py"] and not second.new[0].ignored
    [known] = second.known
    assert known.ignored and known.ignore_reason == "monitor: first seen 2026-11-30 (pipeline 101)"
    assert [f.ignored for f in second.findings] == [True, False]  # in the scan's order
    assert {e.first_seen for e in second.state.entries} == {MONDAY, TUESDAY}


def test_a_value_no_longer_found_is_resolved_and_leaves_the_state():
    first = run(None, [finding("one"), finding("two")], now=MONDAY)
    second = run(first.state, [finding("one")])
    assert [e.fingerprint for e in second.resolved] == [KEY.fingerprint("two")]
    assert [e.fingerprint for e in second.state.entries] == [KEY.fingerprint("one")]
    assert second.new == ()


def test_a_moved_value_is_neither_new_nor_resolved_and_keeps_its_entry():
    first = run(None, [finding("one")], now=MONDAY)
    second = run(first.state, [finding("one", path="lib/settings.py", line=40)])
    assert (second.new, second.resolved) == ((), ())
    assert second.state == first.state


def test_an_incomplete_scan_resolves_nothing_and_leaves_no_state_to_write():
    first = run(None, [finding("one"), finding("two")], now=MONDAY)
    second = run(first.state, [finding("three")], complete=False)
    assert second.resolved == () and second.state is None
    assert [f.fingerprint for f in second.new] == [KEY.fingerprint("three")]


def test_a_value_now_ignored_or_baselined_is_not_resolved_but_leaves_the_state():
    first = run(None, [finding("one"), finding("two")], now=MONDAY)
    second = run(first.state, [finding("one", ignored=True, ignore_reason="baseline"), finding("two")])
    assert second.resolved == ()
    assert [e.fingerprint for e in second.state.entries] == [KEY.fingerprint("two")]
    [accepted, _] = second.findings
    assert accepted.severity == "info" and accepted.ignore_reason == "baseline"


def test_a_value_in_two_places_is_one_entry_at_its_most_urgent_level_noting_the_first_place():
    fixture = finding("one", path="tests/a.py", tags=("test-fixture",))
    live = finding("one", path="z/app.py")
    for order in ([fixture, live], [live, fixture]):
        result = run(None, order, now=MONDAY)
        [entry] = result.state.entries
        assert (entry.severity, entry.path) == ("critical", "tests/a.py")
        assert sorted(f.severity for f in result.new) == ["critical", "low"]


def test_a_known_entry_keeps_its_first_seen_and_takes_the_latest_level():
    history = History(True, (Location("a.py", 1, "a" * 40, "Dev", "2024-01-01"),))
    first = run(None, [finding("one", history=history)], now=MONDAY, context=HISTORY)
    gone_from_head = replace(history, in_head=False)
    second = run(first.state, [finding("one", history=gone_from_head)], context=HISTORY)
    [entry] = second.state.entries
    assert (entry.severity, entry.first_seen) == ("medium", MONDAY)
    assert [f.severity for f in second.findings] == ["medium"]


def test_findings_below_the_reported_confidence_are_not_tracked():
    result = run(None, [finding("one", confidence="low"), finding("two")], confident=("high",))
    assert [f.fingerprint for f in result.new] == [KEY.fingerprint("two")]
    assert len(result.state.entries) == 1


@pytest.mark.parametrize("threshold, failing", [
    ("critical", ["critical"]), ("high", ["critical", "high"]), ("medium", ["critical", "high", "medium"]),
    ("low", ["critical", "high", "medium", "low"]), ("info", ["critical", "high", "medium", "low"]),
])
def test_only_new_findings_at_the_threshold_or_above_fail(threshold, failing):
    from radar.scan.findings import VaultPlace

    older = VaultPlace("", "secret", "app", "token", 1, False)
    gone = History(False, (Location("a.py", 1, "a" * 40, "Dev", "2024-01-01"),))
    findings = [finding("c", history=replace(gone, in_head=True)), finding("h", history=gone, in_vault=(older,)),
                finding("m", history=gone), finding("l", history=gone, confidence="low"),
                finding("i", history=gone, ignored=True, ignore_reason="inline")]
    result = run(None, findings, context=HISTORY)
    assert [f.severity for f in result.failing(threshold)] == failing
    known = run(result.state, findings, context=HISTORY)
    assert known.failing(threshold) == ()  # nothing is new the second time
