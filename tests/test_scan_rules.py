"""The detector suite: every rule's own true and false examples, and the suite's coverage."""

from __future__ import annotations

from urllib.parse import urlparse

import pytest
import regex

from radar.scan.engine import Engine
from radar.scan.examples import expand
from radar.scan.findings import FingerprintKey
from radar.scan.rules import RuleError, load_default_rules, parse_rule_files

RULES = load_default_rules()
ENGINE = Engine(RULES, FingerprintKey(b"test-key"))
# Examples are scanned as if they sat in an ordinary source file (not a test fixture).
PATH = "src/settings.conf"


def _cases(kind: str):
    for rule in RULES.rules:
        examples = rule.true_examples if kind == "true" else rule.false_examples
        for i, template in enumerate(examples):
            yield pytest.param(rule.id, template, f"{rule.id}/{kind}/{i}", id=f"{rule.id}-{kind}-{i}")


@pytest.mark.parametrize("rule_id, template, seed", list(_cases("true")))
def test_rule_reports_its_true_example(rule_id, template, seed):
    text = expand(template, seed)
    findings = ENGINE.scan(text, PATH).findings
    assert rule_id in [f.rule_id for f in findings], f"{rule_id} missed its example {seed}"


@pytest.mark.parametrize("rule_id, template, seed", list(_cases("false")))
def test_rule_ignores_its_false_example(rule_id, template, seed):
    text = expand(template, seed)
    findings = ENGINE.scan(text, PATH).findings
    assert rule_id not in [f.rule_id for f in findings], f"{rule_id} reported its false example {seed}"


@pytest.mark.parametrize("rule_id", [r.id for r in RULES.rules if r.validator])
def test_true_examples_pass_the_rules_validator(rule_id):
    rule = RULES.get(rule_id)
    for i, template in enumerate(rule.true_examples):
        findings = [f for f in ENGINE.scan(expand(template, f"{rule_id}/true/{i}"), PATH).findings if f.rule_id == rule_id]
        assert findings and findings[0].confidence == "high" and "validated" in findings[0].tags


def test_the_suite_has_at_least_150_credential_types():
    assert len(RULES) >= 150


def test_every_rule_links_to_a_documentation_page():
    for rule in RULES.rules:
        url = urlparse(rule.docs)
        assert url.scheme == "https" and url.netloc, rule.id


@pytest.mark.parametrize("prefix", [
    "glpat-", "gloas-", "gldt-", "glrt-", "glrtr-", "glcbt-", "glptt-", "glft-", "glimt-", "glagent-",
    "glsoat-", "glffct-", "gltok-", "gr1348941", "_gitlab_session=",
])
def test_every_gitlab_token_prefix_has_a_rule(prefix):
    assert any(prefix in rule.keywords for rule in RULES.rules if rule.id.startswith("gitlab-"))


@pytest.mark.parametrize("prefix", ["hvs.", "hvb.", "hvr."])
def test_every_vault_token_prefix_has_a_rule(prefix):
    assert any(prefix in rule.keywords for rule in RULES.rules)


@pytest.mark.parametrize("text, message", [
    ("[[rules]]\nid = 'x'\n", "description: missing"),
    ("[[rules]]\nid = 'Bad_Id'\ndescription='d'\nsecret_type='t'\ndocs='https://x'\nseverity='high'\nkeywords=['k']\nregex='k'\n", "kebab-case"),
    ("[[rules]]\nid = 'a'\ndescription='d'\nsecret_type='t'\ndocs='https://x'\nseverity='high'\nkeywords=['K']\nregex='k'\n", "lower-case"),
    ("[[rules]]\nid = 'a'\ndescription='d'\nsecret_type='t'\ndocs='https://x'\nseverity='high'\nkeywords=['k']\nregex='(k'\n", "does not compile"),
    ("[[rules]]\nid = 'a'\ndescription='d'\nsecret_type='t'\ndocs='https://x'\nseverity='high'\nkeywords=['k']\nregex='k'\nvalidator='nope'\n", "unknown validator"),
    ("[[rules]]\nid = 'a'\ndescription='d'\nsecret_type='t'\ndocs='https://x'\nseverity='high'\nkeywords=['k']\nregex='k'\n", "true example"),
    ("[[rules]]\nid = 'a'\ndescription='d'\nsecret_type='t'\ndocs='https://x'\nseverity='high'\nkeywords=['k']\nregex='k'\ncolour='red'\n", "unknown field"),
])
def test_a_malformed_rule_file_is_refused_with_its_name_and_reason(text, message):
    with pytest.raises(RuleError, match=message) as caught:
        parse_rule_files([("broken.toml", text)])
    assert "radar/detectors/rules/broken.toml" in str(caught.value)


_VALID = "id = 'a'\ndescription='d'\nsecret_type='t'\ndocs='https://x'\nseverity='high'\nregex='k[0-9]{8}'\n"
_EXAMPLES = "[rules.examples]\ntrue = ['k12345678']\nfalse = ['k1']\n"


@pytest.mark.parametrize("field, message", [
    # A value of the wrong type was taken as it came: a string of keywords became one keyword per
    # letter, `priority = true` a priority of 1, `span = "x"` a crash when first scanned.
    ("keywords = 'key'", "keywords: must be a list of strings"),
    ("keywords = ['k', 3]", "keywords[1]: must be a string"),
    ("keywords = ['k']\npriority = true", "priority: must be a whole number"),
    ("keywords = ['k']\nspan = 'long'", "span: must be a whole number"),
    ("keywords = ['k']\nentropy = 'high'", "entropy: must be a number"),
    ("keywords = ['k']\nentropy = nan", "entropy: must be a number of bits per character, at least 0"),
    ("keywords = ['k']\nmultiline = 1", "multiline: must be true or false"),
    ("keywords = ['k']\nspan = 0", "span: must be at least 1"),
    # The prefilter folds ASCII case and matches bytes: a keyword outside ASCII never matched alike.
    ("keywords = ['kéy']", "keywords: must be ASCII"),
    ("keywords = ['k']\nkeyword = ['k']",
     "keyword: unknown field (did you mean 'keywords'?); a rule has confidence, description, docs, entropy, "
     "examples, gate, id, keywords, kind, multiline, names, priority, regex, requires_validation, secret_type, "
     "severity, span, structure, validator, value"),
    ("keywords = ['k']\nstructure = 'helm-chart'", "structure: unknown structure; radar.scan.manifests has kubernetes-secret"),
    # A named value: the key must hold a name, and the rule's expression names the value itself.
    ("keywords = ['k']\nvalue = 'x[a-z]{8}'", "value: a rule that gives value also gives names (the key must hold one), and no regex"),
])
def test_a_field_of_the_wrong_type_or_range_is_refused_by_name(field, message):
    with pytest.raises(RuleError) as caught:
        parse_rule_files([("broken.toml", f"[[rules]]\n{_VALID}{field}\n{_EXAMPLES}")])
    assert str(caught.value) == f"radar/detectors/rules/broken.toml: rule 'a': {message}"


def test_the_valid_rule_of_the_type_cases_loads():
    assert parse_rule_files([("ok.toml", f"[[rules]]\n{_VALID}keywords = ['k']\n{_EXAMPLES}")]).get("a").keywords == ("k",)


_NAMED = "id = 'a'\ndescription='d'\nsecret_type='t'\ndocs='https://x'\nseverity='high'\nkeywords = ['acme']\n"


def test_a_named_value_rule_must_leave_the_secret_group_to_radar():
    text = f"[[rules]]\n{_NAMED}names = ['acme']\nvalue = '(?P<secret>x[a-z]{{8}})'\n{_EXAMPLES}"
    with pytest.raises(RuleError) as caught:
        parse_rule_files([("broken.toml", text)])
    assert str(caught.value) == ("radar/detectors/rules/broken.toml: rule 'a': value: must not name groups: "
                                 "the rule's expression names the value `secret` itself")


def test_a_named_value_rule_takes_the_value_whole_in_every_assignment_form():
    rules = parse_rule_files([("ok.toml", f"[[rules]]\n{_NAMED}names = ['acme']\nvalue = 'x[a-z]{{8}}'\n{_EXAMPLES}")])
    expression = regex.compile(rules.get("a").expression)
    for line in ("ACME_KEY=xabcdefgh", 'acmeToken := "xabcdefgh"', "<acmeKey>xabcdefgh</acmeKey>", "acme_key: 'xabcdefgh'"):
        m = expression.search(line)
        assert m is not None and m.group("secret") == "xabcdefgh", line
    for line in ("ACME_KEY=xabcdefghij", "OTHER_KEY=xabcdefgh", 'acme_key = "xabcdefgh1"'):
        assert expression.search(line) is None, line


def test_examples_must_be_lists_of_strings():
    text = f"[[rules]]\n{_VALID}keywords = ['k']\n[rules.examples]\ntrue = 'k12345678'\nfalse = ['k1']\n"
    with pytest.raises(RuleError) as caught:
        parse_rule_files([("broken.toml", text)])
    assert str(caught.value) == "radar/detectors/rules/broken.toml: rule 'a': examples.true: must be a list of strings"

