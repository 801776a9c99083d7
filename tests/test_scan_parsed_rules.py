"""The shipped rules are read from their parsed copy (radar/detectors/parsed-rules.json) only while
that copy was made from the rule files as they are; otherwise from the TOML itself."""

from __future__ import annotations

import json
from importlib import resources

import pytest

from radar.scan.rules import (PARSED_RULES, RuleError, default_rule_texts, parse_rule_files, parsed_rules_json,
                              rules_from)


def test_the_shipped_parsed_rules_are_those_of_the_rule_files():
    shipped = resources.files("radar.detectors").joinpath(PARSED_RULES).read_text(encoding="utf-8")
    assert shipped == parsed_rules_json(default_rule_texts()) + "\n", \
        f"radar/detectors/{PARSED_RULES} is stale: run `make rules-json` after changing a rule file"


def test_rules_from_a_current_parsed_copy_equal_those_from_the_toml():
    texts = default_rule_texts()
    assert rules_from(texts, parsed_rules_json(texts)) == parse_rule_files(texts, check_expressions=False)


def _with_changed_description(texts):
    name, text = texts[0]
    changed = text.replace('description = "', 'description = "Changed: ', 1)
    assert changed != text
    return [(name, changed), *texts[1:]]


def test_a_stale_parsed_copy_is_not_used():
    texts = default_rule_texts()
    stale = parsed_rules_json(texts)
    changed = _with_changed_description(texts)
    rules = rules_from(changed, stale)
    assert rules == parse_rule_files(changed, check_expressions=False)
    assert any(r.description.startswith("Changed: ") for r in rules.rules)


@pytest.mark.parametrize("parsed", [None, "", "not json", "[]", '{"digest": 1}', '{"documents": []}'])
def test_a_missing_or_unreadable_parsed_copy_means_the_toml(parsed):
    texts = default_rule_texts()
    assert rules_from(texts, parsed) == parse_rule_files(texts, check_expressions=False)


def test_a_parsed_copy_is_checked_as_the_toml_is():
    """Made from these texts but edited afterwards (a bad field): the same error as the TOML's would be."""
    texts = default_rule_texts()
    stored = json.loads(parsed_rules_json(texts))
    stored["documents"][0][1]["rules"][0]["severity"] = "apocalyptic"
    with pytest.raises(RuleError, match="severity"):
        rules_from(texts, json.dumps(stored))
