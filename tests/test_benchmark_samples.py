"""The rule-sample extractor of benchmarks/scan_benchmark.py: Go rule sources in, samples out.

The Go snippets are written here in the shape gitleaks' rule files have; no network, no sdist.
"""

from __future__ import annotations

import random
import re
import sys
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

import gosamples  # noqa: E402
import regexgen  # noqa: E402
import rule_samples  # noqa: E402

RULES = r'''
package rules

const prefix = "tok_"

var shared = []string{"kept"}

func helper(n int) string {
	return prefix + strings.Repeat("a", n)
}

func Example() *config.Rule {
	r := config.Rule{
		ID:    "example-token",
		Regex: utils.GenerateUniqueTokenRegex(`tok_[a-z0-9]{8}`, false),
	}
	// comments do not count
	tps := utils.GenerateSampleSecrets("example", "tok_"+secrets.NewSecret(utils.AlphaNumeric("8")))
	tps = append(tps,
		`raw "literal"`,
		fmt.Sprintf("key=%s", helper(3)),
	)
	tps = append(tps, shared...)
	fps := []string{"tok_short", "a\tb"}
	return utils.Validate(r, tps, fps)
}

func Broken() *config.Rule {
	r := config.Rule{ID: "broken"}
	tps := []string{"ok", mystery()}
	return utils.Validate(r, tps, nil)
}

func Unused() *config.Rule {
	r := config.Rule{ID: "unused"}
	return utils.Validate(r, []string{"x"}, nil)
}
'''

MAIN = "func main() { rules := []*config.Rule{ rules.Example(), rules.Broken(), rules.Missing() } }"


def run() -> tuple[dict[str, gosamples.RuleSamples], object]:
    registered = gosamples.registered_rules(MAIN)
    found, missing = gosamples.extract({"r.go": RULES}, {}, registered)
    return {r.rule_id: r for r in found}, missing


def test_registered_rules_are_read_in_order() -> None:
    assert gosamples.registered_rules(MAIN) == ["Example", "Broken", "Missing"]


def test_every_context_and_literal_is_evaluated() -> None:
    found, _ = run()
    assert "unused" not in found  # not registered
    example = found["example-token"]
    contexts = [s for s in example.true if s.syntax != "literal"]
    assert [s.syntax for s in contexts] == list(gosamples.CONTEXTS)
    secret = contexts[0].secret
    assert re.fullmatch(r"tok_[a-z0-9]{8}", secret)
    by_syntax = {s.syntax: s.text for s in contexts}
    assert by_syntax["go - normal"] == f'var exampleToken string = "{secret}"'
    assert by_syntax["xml - element multiline"] == f"<exampleToken>\n    {secret}\n</exampleToken>"
    assert by_syntax["misc - comma operator"] == f'System.setProperty("EXAMPLE_TOKEN", "{secret}")'
    assert by_syntax["json - escaped newline in string"] == '{"config.ini": "EXAMPLE_TOKEN=' + secret + '\\nBACKUP_ENABLED=true"}'
    literals = [s.text for s in example.true if s.syntax == "literal"]
    assert literals == ['raw "literal"', "key=tok_aaa", "kept"]
    assert [s.text for s in example.false] == ["tok_short", "a\tb"]


def test_what_cannot_be_evaluated_is_counted() -> None:
    found, missing = run()
    broken = found["broken"].true
    assert isinstance(broken[0], gosamples.Sample) and broken[0].text == "ok"
    assert isinstance(broken[1], gosamples.Unknown) and "mystery" in broken[1].reason
    assert missing == {"Missing: function not found": 1}


def test_samples_are_the_same_every_run() -> None:
    first, _ = run()
    second, _ = run()
    assert first["example-token"].true == second["example-token"].true


def test_scoring_counts_findings_on_sample_lines() -> None:
    placed = [rule_samples.Placed("a/true/x.txt", 1, 3, "a", "literal", True, "s"),
              rule_samples.Placed("a/true/y.txt", 1, 1, "a", "json - string", True, "s"),
              rule_samples.Placed("a/false/z.txt", 1, 1, "a", "literal", False, "s")]
    result = rule_samples.score([("a/true/x.txt", 3, "r"), ("a/false/z.txt", 1, "r")], placed)
    assert (result["precision"], result["recall"]) == (0.5, 0.5)
    assert result["per_syntax"] == {"literal": [1, 1], "json - string": [0, 1]}
    assert [p.path for p in result["missed"]] == ["a/true/y.txt"]


def test_shapes_hide_the_value() -> None:
    shaped = rule_samples.shape_of('key = "tok_a1b2c3d4ez"', "tok_a1b2c3d4ez")
    assert shaped == 'key = "tok_{alnum:10}"'
    assert rule_samples.shape_of("password=Zx81kQ0pLm2v", None) == "password={alnum:12}"


SIMPLE = st.recursive(
    st.sampled_from(["a", "[a-z]", "[0-9a-f]", r"\d", r"\w", "[A-Z2-7]", r"[^\s]", "-", r"\.", "[a-z0-9_-]"]),
    lambda inner: st.one_of(
        st.tuples(inner, inner).map("".join),
        st.tuples(inner, st.integers(0, 5), st.integers(0, 5)).map(lambda t: f"(?:{t[0]}){{{min(t[1], t[2])},{max(t[1], t[2])}}}"),
        st.tuples(inner, inner).map(lambda t: f"(?:{t[0]}|{t[1]})"),
        inner.map(lambda r: f"(?:{r})+"),
        inner.map(lambda r: f"({r})*"),
    ),
    max_leaves=6,
)


@settings(max_examples=300, deadline=None)
@given(SIMPLE, st.integers(0, 2**32))
def test_generated_strings_match_their_regex(regex: str, seed: int) -> None:
    value = regexgen.generate(regex, random.Random(seed))
    assert re.fullmatch(regex, value), (regex, value)
