"""The scan configuration (`.radar.toml`): what it loads to, and every mistake as one exact line
naming the file, the line and the key, never a value from the file."""

from __future__ import annotations

import os
import pickle

import pytest
from hypothesis import example, given, settings, strategies as st

from radar.scan.config import (
    MAX_CONFIG_BYTES, NO_CONFIG, Allowlist, ConfigError, gitignore_spec, load_config, read_config_file,
)
from radar.scan.rules import load_default_rules

NAME = ".radar.toml"
RULE = """\
[[rules]]
id = "acme-internal-token"
description = "ACME internal API token"
secret_type = "ACME token"
docs = "https://wiki.acme.example/tokens"
severity = "high"
regex = '''acme_[a-z0-9]{24}'''
keywords = ["acme_"]
"""


def error(text: str) -> str:
    with pytest.raises(ConfigError) as caught:
        load_config(text, NAME)
    message = str(caught.value)
    assert "\n" not in message
    return message


# --- what a configuration loads to -------------------------------------------------------------


def test_no_file_changes_nothing():
    shipped = load_default_rules()
    assert NO_CONFIG.ruleset(shipped) is shipped
    assert not NO_CONFIG.allowlists


def test_added_rules_join_the_shipped_ones_and_disabled_ones_leave():
    config = load_config('disable = ["generic-password"]\n' + RULE, NAME)
    shipped = load_default_rules()
    rules = config.ruleset(shipped)
    assert "acme-internal-token" in rules and "generic-password" not in rules
    assert len(rules) == len(shipped)  # one in, one out
    assert rules.get("acme-internal-token").source == NAME
    assert config.ruleset(rules).rules == rules.rules  # applying it twice changes nothing more


def test_allowlist_reasons_name_the_entry():
    config = load_config("""\
[allowlist]
paths = ["docs/", "!docs/keep.md", "*.lock"]
regexes = ['^sk_test_', 'EXAMPLE$']
stopwords = ["LocalDev", "dummy"]

[allowlist.rules.generic-password]
stopwords = ["hunter"]
""", NAME)
    allow = config.allowlists
    assert allow.path_reason("any-rule", "docs/guide.md") == "config: allowlist.paths[0]"
    assert allow.path_reason("any-rule", "docs/keep.md") is None  # re-included by the negation
    assert allow.path_reason("any-rule", "a/b/yarn.lock") == "config: allowlist.paths[2]"
    assert allow.path_reason("any-rule", "src/docs.py") is None
    assert allow.value_reason("any-rule", "sk_test_abc") == "config: allowlist.regexes[0]"
    assert allow.value_reason("any-rule", "xx-EXAMPLE") == "config: allowlist.regexes[1]"
    assert allow.value_reason("any-rule", "my-localdev-pass") == "config: allowlist.stopwords[0]"  # any case
    assert allow.value_reason("any-rule", "hunter22") is None
    assert allow.value_reason("generic-password", "hunter22") == "config: allowlist.rules.generic-password.stopwords[0]"


def test_an_allowlist_crosses_to_a_worker_process_and_still_works():
    allowlist = Allowlist("allowlist", paths=("docs/",), regexes=("^x",), stopwords=("dev",))
    assert allowlist.path_reason("docs/a") == "config: allowlist.paths[0]"  # compiled before pickling
    copy = pickle.loads(pickle.dumps(allowlist))
    assert copy.path_reason("docs/a") == "config: allowlist.paths[0]"
    assert copy.value_reason("a-DEV-b") == "config: allowlist.stopwords[0]"


def test_gitignore_spec_reads_patterns_as_git_does():
    spec = gitignore_spec(["build/", "/root-only.txt", "**/fixtures/*.json", "*.pem", "!keep.pem"])
    matched = {p for p in ["build/x.py", "a/build/x.py", "root-only.txt", "a/root-only.txt",
                           "t/fixtures/a.json", "t/fixtures/a/b.json", "x.pem", "keep.pem"] if spec.match_file(p)}
    assert matched == {"build/x.py", "a/build/x.py", "root-only.txt", "t/fixtures/a.json", "x.pem"}


# --- every mistake, one line -------------------------------------------------------------------

SHIPPED_ID = "openai-api-key"
CASES = [
    ('disable = ["generic-passwrd"]',
     ".radar.toml:1: disable[0]: unknown rule id (did you mean 'generic-password'?); "
     "use a rule_id as radar reports it"),
    ('disable = [\n  "generic-password",\n  "no-such-rule-at-all-x",\n]',
     ".radar.toml:3: disable[1]: unknown rule id; use a rule_id as radar reports it"),
    ('disable = "generic-password"',
     '.radar.toml:1: disable: must be a list of rule ids, like ["generic-password"]'),
    ("disable = [1]", ".radar.toml:1: disable[0]: must be a rule id (a string)"),
    ("colour = 1", ".radar.toml:1: colour: unknown key; a configuration has disable, [[rules]], [allowlist] and "
     "[archives]"),
    ("# settings\n\ndisabled = []",
     ".radar.toml:3: disabled: unknown key (did you mean 'disable'?); a configuration has disable, [[rules]], "
     "[allowlist] and [archives]"),
    ("allowlist = 3", ".radar.toml:1: allowlist: must be a table: [allowlist] with paths, regexes, stopwords"),
    ('[allowlist]\npath = ["x"]',
     ".radar.toml:2: allowlist.path: unknown key (did you mean 'paths'?); an allowlist has paths, regexes, "
     "stopwords, rules"),
    ('[allowlist]\nregexes = [\n  "ok",\n  "(unclosed",\n]',
     ".radar.toml:4: allowlist.regexes[1]: does not compile: missing ) at position 9"),
    ('[allowlist]\npaths = ["docs/", "!"]',
     ".radar.toml:2: allowlist.paths[1]: not a pattern git accepts (a lone `!` or a trailing `\\`)"),
    ('[allowlist]\npaths = ["# a comment"]',
     ".radar.toml:2: allowlist.paths[0]: matches no path (an empty pattern, a `#` comment or an unclosed `[`)"),
    ('[allowlist]\npaths = ["a\\nb"]', ".radar.toml:2: allowlist.paths[0]: a pattern is one line"),
    ('[allowlist]\nstopwords = ["dev", ""]',
     ".radar.toml:2: allowlist.stopwords[1]: must not be empty (it would match everything)"),
    ('[allowlist]\nstopwords = "dev"',
     '.radar.toml:2: allowlist.stopwords: must be a list of strings, like stopwords = ["..."]'),
    ('[allowlist]\nregexes = [true]', ".radar.toml:2: allowlist.regexes[0]: must be a string"),
    ('[allowlist]\nrules = ["generic-password"]',
     ".radar.toml:2: allowlist.rules: must be a table of rule ids: [allowlist.rules.RULE-ID]"),
    ('[allowlist.rules.generic-pasword]\nstopwords = ["x"]',
     ".radar.toml:1: allowlist.rules.generic-pasword: unknown rule id "
     "(did you mean 'generic-password'?); use a rule_id as radar reports it"),
    ('[allowlist.rules.generic-password]\n\nregex = ["x"]',
     ".radar.toml:3: allowlist.rules.generic-password.regex: unknown key (did you mean 'regexes'?); an allowlist "
     "has paths, regexes, stopwords"),
    ("[allowlist.rules]\ngeneric-password = 1",
     ".radar.toml:2: allowlist.rules.generic-password: must be a table with paths, regexes, stopwords"),
    ("rules = 1", ".radar.toml:1: rules: must be an array of tables: write each rule under [[rules]]"),
    ("[rules]\nid = 'x'", ".radar.toml:1: rules: must be an array of tables: write each rule under [[rules]]"),
    ("[[rules]]\nid = 'x'",
     ".radar.toml:1: rules[0].description: missing: every rule has id, description, secret_type, docs, severity "
     "and keywords"),
    (RULE.replace('severity = "high"', 'severity = "severe"'),
     ".radar.toml:6: rules[0].severity: must be one of critical, high, medium, low"),
    (RULE.replace("[a-z0-9]{24}", "[a-z0-9{24}"),
     ".radar.toml:7: rules[0].regex: does not compile: unterminated character set at position 16"),
    (RULE + 'keyword = ["x"]',
     ".radar.toml:9: rules[0].keyword: unknown field (did you mean 'keywords'?); a rule has confidence, description, "
     "docs, entropy, examples, gate, id, keywords, kind, multiline, names, priority, regex, requires_validation, "
     "secret_type, severity, span, structure, validator, value"),
    (RULE.replace('keywords = ["acme_"]', 'keywords = ["acme_", 7]'), ".radar.toml:8: rules[0].keywords[1]: must be a string"),
    (RULE.replace("acme-internal-token", SHIPPED_ID),
     f".radar.toml:2: rules[0].id: '{SHIPPED_ID}' is a shipped rule: give yours another id "
     f"(and add '{SHIPPED_ID}' to disable to replace it)"),
    (RULE + "\n" + RULE, ".radar.toml:11: rules[1].id: 'acme-internal-token' is defined twice"),
    (RULE + "[rules.examples]\ntrue = ['token = acme_{lowernum:24}', 'acme_{lowernum:20}']\n",
     ".radar.toml:10: rules[0].examples.true[1]: rule acme-internal-token does not find this true example: "
     "fix its regex or keywords, or the example"),
    (RULE + "[rules.examples]\nfalse = [\n  'acme_short',\n  'acme_{lowernum:30}',\n]\n",
     ".radar.toml:12: rules[0].examples.false[1]: rule acme-internal-token finds this false example: "
     "tighten its regex, or fix the example"),
    (RULE + "[rules.examples]\ntrue = ['acme_{lowernum}']\n",
     ".radar.toml:10: rules[0].examples.true[0]: not a valid example template: {lowernum:N} needs a length"),
    (RULE + "[rules.examples]\ntrue = ['acme_{lowernum:\u00b2}']\n",  # a digit to isdigit(), not to int()
     ".radar.toml:10: rules[0].examples.true[0]: not a valid example template: {lowernum:N} needs a length"),
    (RULE + "[rules.examples]\ntrue = ['acme_{lowernum:99999999999999}']\n",
     ".radar.toml:10: rules[0].examples.true[0]: the examples expand to over 1 MiB together: keep fewer or "
     "shorter ones"),
    (RULE + "[rules.examples]\nfalse = [\n  '{lowernum:600000}',\n  '{lowernum:600000}',\n]\n",
     ".radar.toml:12: rules[0].examples.false[1]: the examples expand to over 1 MiB together: keep fewer or "
     "shorter ones"),
    (RULE + "[rules.examples]\nmaybe = []\n",
     ".radar.toml:10: rules[0].examples.maybe: unknown field; examples has `true` and `false` lists"),
    ("disable = [", ".radar.toml:1: not valid TOML: invalid value (at the end of the file)"),
    ("a = 1\na = 2\n", ".radar.toml:2:6: not valid TOML: cannot overwrite a value"),
    ("# x\n[allowlist]\nregexes = [" + "'" * 3 + "a",
     ".radar.toml:3: not valid TOML: expected \"'''\" (at the end of the file)"),
    ("x = " + "[" * 5000 + "]" * 5000, ".radar.toml: not valid TOML: arrays or tables nested too deeply"),
    ('[allowlist]\nstopwords = [[[[[[["deep"]]]]]]]', ".radar.toml:2: allowlist.stopwords[0]: must be a string"),
    ("archives = 3", ".radar.toml:1: archives: must be a table: [archives] with depth, total_bytes, member_bytes, "
     "members, ratio, ratio_floor"),
    ("[archives]\ndepht = 2\n", ".radar.toml:2: archives.depht: unknown key (did you mean 'depth'?); [archives] has "
     "depth, total_bytes, member_bytes, members, ratio, ratio_floor"),
    ("[archives]\ndepth = -1\n", ".radar.toml:2: archives.depth: must be a whole number (0 or more)"),
    ("[archives]\nmembers = 0\n", ".radar.toml:2: archives.members: must be a whole number of 1 or more"),
    ("[archives]\nratio = true\n", ".radar.toml:2: archives.ratio: must be a whole number of 1 or more"),
]


@pytest.mark.parametrize("text, message", CASES, ids=[f"case-{i}" for i in range(len(CASES))])
def test_each_mistake_is_one_line_naming_file_line_and_key(text, message):
    assert error(text) == message


def test_the_rule_of_the_mistake_cases_is_itself_valid_and_its_examples_are_checked():
    config = load_config(RULE + "[rules.examples]\ntrue = ['token = acme_{lowernum:24}']\nfalse = ['acme_short']\n",
                         NAME)
    assert config.added[0].true_examples == ("token = acme_{lowernum:24}",)


# --- the file itself ---------------------------------------------------------------------------


def test_the_file_must_be_a_regular_file_of_utf8_of_bounded_size(tmp_path):
    fifo = tmp_path / "fifo.toml"
    os.mkfifo(fifo)  # opened without waiting for a writer: a planted FIFO cannot hang a scan
    with pytest.raises(ConfigError, match=r"fifo\.toml: the configuration is not a regular file$"):
        read_config_file(str(fifo), str(fifo))
    with pytest.raises(ConfigError, match=r"the configuration is not a regular file \(or scan with --no-config\)$"):
        read_config_file(str(tmp_path), str(tmp_path), found=True)
    latin = tmp_path / "latin.toml"
    latin.write_bytes(b"# ok\n# caf\xe9\n")
    with pytest.raises(ConfigError, match=r"latin\.toml:2: not UTF-8 text \(TOML files are UTF-8\)$"):
        read_config_file(str(latin), str(latin))
    big = tmp_path / "big.toml"
    big.write_bytes(b"#" * (MAX_CONFIG_BYTES + 1))
    with pytest.raises(ConfigError, match=r"big\.toml: the configuration is over 1 MiB; it holds settings, not data$"):
        read_config_file(str(big), str(big))
    with pytest.raises(ConfigError, match=r"missing\.toml: cannot read the configuration: no such file or directory$"):
        read_config_file(str(tmp_path / "missing.toml"), str(tmp_path / "missing.toml"))


# --- open-ended input --------------------------------------------------------------------------

MARK = "Zq0SECRETVALUE"  # in every string the generator writes: no error message may quote one
KEYS = st.sampled_from(["disable", "rules", "allowlist", "paths", "regexes", "stopwords", "id", "regex",
                        "keywords", "description", "secret_type", "docs", "severity", "examples", "true", "false",
                        "generic-password", "kind", "names", "entropy", "span", "x"])
STRINGS = st.sampled_from(["generic-password", "high", "generic", "acme_", "(", "docs/", "!", "", "{alnum}",
                           "https://x", "[a-z]{8}", "*.md", "\\", "acme_{alnum:8}"]).map(lambda s: s + MARK) \
    | st.sampled_from(["generic-password", "high", "acme-x", "k"])
VALUES = st.recursive(STRINGS | st.integers(-3, 3) | st.booleans() | st.floats(allow_nan=True),
                      lambda inner: st.lists(inner, max_size=3) | st.dictionaries(KEYS, inner, max_size=4),
                      max_leaves=12)


def _inline(value) -> str:
    """A TOML inline value (arrays and inline tables only: every structure is expressible)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value) if value == value and abs(value) != float("inf") else ("nan" if value != value else
                                                                                 ("inf" if value > 0 else "-inf"))
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(map(_inline, value)) + "]"
    return "{" + ", ".join(f'"{k}" = {_inline(v)}' for k, v in value.items()) + "}"


def _check(text: str) -> None:
    try:
        load_config(text, NAME)
    except ConfigError as e:
        message = str(e)
        assert message.startswith(NAME) and "\n" not in message, "not one line naming the file"
        if MARK in message:
            raise AssertionError("an error message quotes a value from the configuration") from None


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(KEYS, VALUES, max_size=4))
def test_any_configuration_loads_or_is_one_error_line_quoting_no_value(document):
    _check("\n".join(f"{k} = {_inline(v)}" for k, v in document.items()))


@settings(max_examples=400, deadline=None)
@given(st.text(st.sampled_from('[]{}=,."\'#\n abc-_1') , max_size=60))
def test_any_text_loads_or_is_one_error_line(text):
    _check(text)


FRAGMENTS = st.sampled_from(["a", "b", "A", "ab", "^", "$", ".", "[a-c]", "\\d", "x?", "(?i)", "(?:a|b)", "(a)\\1",
                             "(?P<n>b)(?P=n)", "a(*SKIP)(*FAIL)", "(?<=a)b", "(?x) a b", "(?s).", "\\w+", "(?a)\\w"])


@settings(max_examples=300, deadline=None)
# Cases where one alternation of all would miss a match: (*SKIP) abandons the other branches, a
# verbose flag reads the other branches' spaces as nothing, a numbered reference counts groups.
@example(["aa", "a(*SKIP)(*FAIL)", "a"], "a")
@example(["a b", "(?x) c"], "a b")
@example(["(b)", "(a)\\1"], "aa")
@given(st.lists(st.lists(FRAGMENTS, min_size=1, max_size=3).map("".join), min_size=1, max_size=12),
       st.text(st.sampled_from("abAB1 \n_é"), max_size=8))
def test_the_regexes_searched_as_one_name_the_first_that_matches_alone(expressions, value):
    """Searching the combinable regexes as one alternation first is only a shortcut: the entry named
    is the first, in file order, whose own search matches, and none is named when none matches."""
    import regex

    expressions = [e for e in expressions if _compiles(e)]
    allowlist = Allowlist("allowlist", regexes=tuple(expressions))
    expected = next((f"config: allowlist.regexes[{i}]" for i, e in enumerate(expressions)
                     if regex.search(e, value)), None)
    assert allowlist.value_reason(value) == expected


def _compiles(expression: str) -> bool:
    import regex

    try:
        regex.compile(expression)
    except regex.error:
        return False
    return True


class _CountingRegex:
    """The `regex` module as radar.scan.config uses it, counting the searches of what it compiles."""

    error = __import__("regex").error

    def __init__(self) -> None:
        self.searches = 0

    def compile(self, expression: str):
        import regex

        pattern, counter = regex.compile(expression), self

        class Counted:
            def search(self, *args, **kwargs):
                counter.searches += 1
                return pattern.search(*args, **kwargs)

        return Counted()


@pytest.mark.parametrize("count", [2, 7, 100, 1000])
def test_finding_which_of_many_regexes_matches_costs_searches_logarithmic_in_their_number(monkeypatch, count):
    """Each timed search costs alike however simple the expression, so a value allowlisted by the
    last of n regexes must not be searched n times (a count of work done, not a timing)."""
    import math

    import radar.scan.config as config_module

    counting = _CountingRegex()
    monkeypatch.setattr(config_module, "regex", counting)
    allowlist = Allowlist("allowlist", regexes=tuple(f"^nomatch{i}$" for i in range(count - 1)) + ("b",))
    assert allowlist.value_reason("abc") == f"config: allowlist.regexes[{count - 1}]"
    assert counting.searches <= 2 * math.ceil(math.log2(count)) + 1
    counting.searches = 0
    assert allowlist.value_reason("xyz") is None
    assert counting.searches == 1  # one alternation of all says that none matches
