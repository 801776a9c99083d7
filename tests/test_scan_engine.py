"""The engine: locations, one finding per secret, decoding, suppression, fingerprints, timeouts."""

from __future__ import annotations

import base64
import urllib.parse

import pytest

from radar.scan import engine as engine_module
from radar.scan.engine import Engine
from radar.scan.examples import expand
from radar.scan.findings import FingerprintKey, preview
from radar.scan.rules import load_default_rules, parse_rule_files
from radar_cli import assert_absent

ENGINE = Engine(load_default_rules(), FingerprintKey(b"test-key"))
GITHUB = "ghp_" + expand("{ghcrc:30}", "engine")
GITLAB = "glpat-" + expand("{b64url:20}", "engine")


def scan(text: str, path: str = "app/config.py", engine: Engine = ENGINE):
    return engine.scan(text, path).findings


def test_location_is_1_based_line_and_column_of_the_secret():
    [finding] = scan(f"# config\nx = 1\ntoken: {GITHUB}\n")
    assert (finding.line, finding.column) == (3, 8)
    assert (finding.end_line, finding.end_column) == (3, 7 + len(GITHUB))


def test_multi_line_secret_spans_its_lines():
    key = expand("{pem:EC PRIVATE KEY}", "engine")
    [finding] = scan(f"key: |\n{key}\n")
    assert finding.rule_id == "pem-private-key"
    assert finding.line == 2 and finding.end_line == 2 + key.count("\n")


def test_provider_rule_wins_over_generic_rule_on_the_same_value():
    findings = scan(f'GITHUB_TOKEN = "{GITHUB}"')
    assert [f.rule_id for f in findings] == ["github-personal-access-token"]


def test_structural_rule_wins_over_generic_rule_for_a_value_containing_it():
    findings = scan("DATABASE_URL=postgres://app:Q8vZ2LmX4pRt7NwK@db.internal:5432/app")
    assert [f.rule_id for f in findings] == ["postgres-connection-uri"]


def test_provider_rule_wins_over_url_credentials_for_a_token_in_a_url():
    findings = scan(f"https://x-access-token:{GITHUB}@github.com/org/repo.git")
    assert [f.rule_id for f in findings] == ["github-personal-access-token"]


def test_two_secrets_on_one_line_are_two_findings():
    findings = scan(f"{GITHUB} {GITLAB}")
    assert sorted(f.rule_id for f in findings) == ["github-personal-access-token", "gitlab-personal-access-token"]


def test_base64_blob_is_decoded_and_keeps_the_blob_location():
    blob = base64.b64encode(f"token={GITHUB}\n".encode()).decode()
    [finding] = scan(f"data:\n  config: {blob}\n")
    assert finding.rule_id == "github-personal-access-token"
    assert "decoded:base64" in finding.tags
    assert (finding.line, finding.column, finding.end_column) == (2, 11, 10 + len(blob))


def test_base64url_blob_is_decoded_too():
    blob = base64.urlsafe_b64encode(f"{GITLAB}??>>".encode()).decode()
    [finding] = scan(f"value={blob}")
    assert finding.rule_id == "gitlab-personal-access-token" and "decoded:base64" in finding.tags


def test_percent_encoded_url_is_decoded():
    encoded = urllib.parse.quote("postgres://app:Q8vZ2LmX4pRt7NwK@db:5432/app", safe="")
    [finding] = scan(f"redirect={encoded}")
    assert finding.rule_id == "postgres-connection-uri" and "decoded:percent" in finding.tags


def test_two_layers_of_base64_are_decoded_by_default():
    inner = base64.b64encode(f"token: {GITHUB}".encode())
    outer = base64.b64encode(b"payload: " + inner).decode()
    [finding] = scan(f"x = {outer}")
    assert finding.tags.count("decoded:base64") == 2


def test_decoding_stops_at_the_depth_limit():
    inner = base64.b64encode(f"token: {GITHUB}".encode())
    outer = base64.b64encode(b"payload: " + inner).decode()
    shallow = Engine(load_default_rules(), FingerprintKey(b"test-key"), max_decode_depth=1)
    assert scan(f"x = {outer}", engine=shallow) == []


def test_binary_base64_such_as_an_image_is_not_scanned_as_text():
    image = base64.b64encode(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4).decode()
    assert scan(f"background: url(data:image/png;base64,{image});") == []


@pytest.mark.parametrize("marker", ["# radar:ignore", "# gitleaks:allow", "# pragma: allowlist secret"])
def test_inline_marker_suppresses_the_finding(marker):
    [finding] = scan(f"token = '{GITHUB}'  {marker}")
    assert finding.ignored and marker.lstrip("# ") in finding.ignore_reason


def test_next_line_marker_suppresses_the_following_line():
    [finding] = scan(f"# pragma: allowlist nextline secret\ntoken = '{GITHUB}'")
    assert finding.ignored


def test_marker_on_another_line_does_not_suppress():
    [finding] = scan(f"# radar:ignore\n\ntoken = '{GITHUB}'")
    assert not finding.ignored


def test_equal_secrets_share_a_fingerprint_and_different_ones_do_not():
    a, b, c = scan(f"a = {GITHUB}\nb = {GITHUB}\nc = {GITLAB}")
    assert a.fingerprint == b.fingerprint != c.fingerprint


def test_fingerprint_is_an_hmac_under_the_key_not_a_plain_hash():
    other = Engine(load_default_rules(), FingerprintKey(b"another-key"))
    assert scan(GITHUB)[0].fingerprint != scan(GITHUB, engine=other)[0].fingerprint


@pytest.mark.parametrize("value, expected", [
    ("a" * 19, "[redacted]"), ("short", "[redacted]"), ("ghp_" + "x" * 16, "ghp_…"), ("Q8vZ2LmX4pRt7NwK9bYcD", "Q8vZ…"),
])
def test_preview_shows_four_characters_only_of_values_of_twenty_or_more(value, expected):
    assert preview(value) == expected


def test_finding_never_holds_the_value():
    [finding] = scan(f"token = '{GITHUB}'")
    assert_absent([GITHUB], repr(finding), str(finding.as_dict()), message="the planted token is in the finding")


def test_a_rule_that_backtracks_forever_times_out_with_a_warning(monkeypatch):
    monkeypatch.setattr(engine_module, "MATCH_TIMEOUT_SECONDS", 0.05)
    rules = parse_rule_files([("slow.toml", """
[[rules]]
id = "catastrophic"
description = "nested quantifiers"
secret_type = "test"
docs = "https://example.org"
severity = "low"
keywords = ["aaaa"]
regex = '(?:a|aa)+c'
examples = { true = ["aac"], false = ["b"] }
""")])
    # The line holds a `c`, which every match does: without one it is not searched at all.
    result = Engine(rules, FingerprintKey(b"k")).scan("c " + "a" * 64 + "b", "slow.txt")
    assert result.findings == []
    assert len(result.warnings) == 1 and "catastrophic" in result.warnings[0] and "skipped" in result.warnings[0]


def test_a_pattern_hyperscan_rejects_leaves_the_keywords_working():
    from radar.scan.prefilter import KeywordIndex

    index = KeywordIndex({"token": (7,)}, patterns={"(?<=x)token": (-9,)})  # no look-behind in Hyperscan
    assert not index.patterns_supported
    assert list(index.hits("a TOKEN")) == [(6, (7,))]


def test_the_keyword_plan_read_back_from_the_cache_is_the_one_worked_out(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    rules = load_default_rules().rules
    worked_out = engine_module._plan(rules, 2)
    assert engine_module._cached_plan(rules, 2) == worked_out  # works it out and stores it
    assert list((tmp_path / "radar").glob("plan-*.json"))
    assert engine_module._cached_plan(rules, 2) == worked_out  # reads it back
    assert engine_module._cached_plan(rules, 1) != worked_out  # another depth, another plan


_NAMED = """
[[rules]]
id = "acme-key"
description = "Acme key, named as such"
secret_type = "test"
docs = "https://example.org"
severity = "high"
keywords = ["acme_key"]
names = ["acme_key"]
value = '[0-9a-f]{32}'
examples = { true = ["ACME_KEY={hex:32}"], false = ["ACME_KEY=none"] }

[[rules]]
id = "acme-url"
description = "Acme URL with a password"
secret_type = "test"
docs = "https://example.org"
severity = "high"
keywords = ["acme://"]
regex = 'acme://[a-z]+:(?P<secret>[A-Za-z0-9]{12,})@'
examples = { true = ["acme://u:{alnum:16}@h"], false = ["acme://h"] }
"""


def test_a_line_without_what_every_match_holds_is_not_searched_and_the_expression_not_compiled():
    # A named rule's value, a rule's required literal (`@`): missing on the line, the expression
    # is neither searched nor compiled (compiling is most of what a woken rule costs a worker).
    rules = parse_rule_files([("acme.toml", _NAMED)])
    engine = Engine(rules, FingerprintKey(b"k"))
    assert engine.scan("ACME_KEY = not-a-key-at-all\nsee acme://docs.example.org/page\n", "a.env").findings == []
    assert all("pattern" not in rule.__dict__ for rule in rules.rules)
    value = expand("{hex:32}", "engine")
    password = expand("{alnum:16}", "engine")
    found = engine.scan(f"ACME_KEY = {value}\nacme://user:{password}@host\n", "a.env").findings
    assert sorted(f.rule_id for f in found) == ["acme-key", "acme-url"]


def test_a_value_that_refers_to_the_expression_s_groups_is_searched_without_its_own_check():
    # `(?P=q)` is the quote the expression opened: alone, the value would not compile (or, with
    # `\1`, mean another group), so it cannot stand for the expression on its own.
    rules = parse_rule_files([("acme.toml", _NAMED.replace(
        "value = '[0-9a-f]{32}'", "value = '''[0-9a-f]{32}(?=(?P=q)|\\s|$)'''"))])
    rule = rules.get("acme-key")
    assert rule.value_pattern is None
    value = expand("{hex:32}", "engine")
    [finding] = Engine(rules, FingerprintKey(b"k")).scan(f'ACME_KEY = "{value}"\n', "a.env").findings
    assert finding.rule_id == "acme-key"


def test_a_long_line_is_tried_where_a_keyword_begins_and_finds_what_a_search_finds():
    # Generated code puts a keyword on lines of 100,000 characters: a rule whose every match
    # begins with its keyword is tried at the keyword's hits there, not searched along the line.
    rules = parse_rule_files([("acme.toml", _NAMED)])
    rule = rules.get("acme-url")
    assert rule.keyword_lengths == (len("acme://"),)
    passwords = [expand("{alnum:16}", f"engine-{i}") for i in range(3)]
    for filler in ("x", "\u00e9"):  # ASCII, and not (searched whole)
        line = (filler * 40_000).join(
            [f"ACME://u:{passwords[0]}@h", "acme://docs/acme://", f"acme://user:{passwords[1]}@acme://x:{passwords[2]}@h"])
        found = Engine(rules, FingerprintKey(b"k")).scan(line, "gen.py").findings
        expected = [m.start("secret") + 1 for m in rule.pattern.finditer(line)]
        assert [f.column for f in found if f.rule_id == "acme-url"] == expected and len(expected) == 2
