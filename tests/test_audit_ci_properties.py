"""Properties of `radar audit ci` over open-ended input: any job structure or script line ends in
findings or in a CIYamlError (one line at the CLI), never in another exception; findings point
into the files read; the script reading is sound on the commands it claims to understand."""

from __future__ import annotations

import json
import re
import tempfile
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings, strategies as st

from radar.audit.ci import audit_ci
from radar.audit.ci_shell import (_has_option, dumps_environment, printed_secrets, token_sent_on_redirect,
                                  traces_commands, unverified_vault_tls)
from radar.vault.errors import CIYamlError
from radar_cli import assert_one_line_error, clean_env, radar

NAMES = st.sampled_from(["DB_PASSWORD", "TLS_KEY", "API_TOKEN", "SSH_PRIVATE_KEY", "X"])
FRAGMENTS = st.sampled_from([
    "echo", "printf", "cat", "env", "printenv", "set", "-x", "+x", "-euxo", "bash", "curl", "-k", "--insecure",
    "wget", "--no-check-certificate", "vault", "-tls-skip-verify", "$VAULT_ADDR/v1/x", "|", "||", "&&", ";", ">",
    ">>", "2>&1", ">&2", "$(", ")", "'", '"', "$DB_PASSWORD", "${TLS_KEY}", "$X", "CI_JOB_JWT", "sort", "-",
    "docker", "login", "--password-stdin", "\\", "#", "\t", "-L", "-fsSL", "--location", "-H", "--header",
    "PRIVATE-TOKEN:", "JOB-TOKEN:", "$CI_JOB_TOKEN", "status=$(curl", "`curl",
])
LINES = st.one_of(st.lists(FRAGMENTS, max_size=12).map(" ".join), st.text(max_size=80))
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-3, 3), st.text(max_size=12), NAMES)
CONDITIONS = st.sampled_from([
    '$CI_COMMIT_REF_PROTECTED == "true"', '$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH', "$CI_COMMIT_TAG",
    '$CI_PIPELINE_SOURCE == "schedule"', '$CI_PIPELINE_SOURCE =~ /web/', '$CI_COMMIT_REF_PROTECTED != "true"',
    '($CI_COMMIT_TAG || $X) && $Y', '$CI_COMMIT_BRANCH == "main" || $CI_PIPELINE_SOURCE == "trigger"',
])
RULES = st.lists(st.fixed_dictionaries({}, optional={"if": st.one_of(CONDITIONS, SCALARS),
                                                     "when": st.sampled_from(["never", "always", "manual", 3])}),
                 max_size=3)
SECRET = st.fixed_dictionaries({}, optional={
    "vault": st.one_of(st.sampled_from(["ci/app/production/db/password@secret", "a/b", "x/tls_cert@kv"]), SCALARS,
                       st.fixed_dictionaries({"path": SCALARS, "field": SCALARS})),
    "file": SCALARS, "token": st.one_of(st.sampled_from(["$VAULT_ID_TOKEN", "${OTHER}", "$"]), SCALARS),
})
JOB = st.fixed_dictionaries({}, optional={
    "script": st.one_of(LINES, st.lists(st.one_of(LINES, st.lists(LINES, max_size=2)), max_size=4), SCALARS),
    "before_script": st.lists(LINES, max_size=2),
    "secrets": st.one_of(st.dictionaries(NAMES, st.one_of(SECRET, SCALARS), max_size=3), SCALARS),
    "id_tokens": st.one_of(st.dictionaries(st.sampled_from(["VAULT_ID_TOKEN", "OTHER"]),
                                           st.one_of(st.fixed_dictionaries({"aud": SCALARS}), SCALARS), max_size=2),
                           SCALARS),
    "environment": st.one_of(st.sampled_from(["production", "staging", "prod-eu"]), SCALARS,
                             st.fixed_dictionaries({"name": SCALARS}, optional={"deployment_tier": SCALARS})),
    "rules": st.one_of(RULES, SCALARS),
    "only": st.one_of(st.lists(st.sampled_from(["main", "tags", "branches", "schedules", "/^rel/"]), max_size=3),
                      st.fixed_dictionaries({}, optional={"refs": st.lists(SCALARS, max_size=2),
                                                          "variables": st.lists(CONDITIONS, max_size=2)}),
                      SCALARS),
    "extends": st.one_of(st.sampled_from([".base", "deploy", "missing"]), st.lists(st.just(".base"), max_size=2)),
    "inherit": st.one_of(st.fixed_dictionaries({"default": st.one_of(st.booleans(), st.lists(st.just("id_tokens")))}),
                         SCALARS),
})
CONFIG = st.fixed_dictionaries(
    {"deploy": JOB, ".base": JOB},
    optional={"default": st.one_of(st.fixed_dictionaries({}, optional={"id_tokens": SCALARS,
                                                                          "before_script": st.lists(LINES, max_size=2)}),
                                   SCALARS),
              "workflow": st.one_of(st.fixed_dictionaries({"rules": RULES}), SCALARS),
              "variables": st.one_of(st.dictionaries(st.sampled_from(["VAULT_SKIP_VERIFY", "A"]), SCALARS), SCALARS),
              "test": JOB},
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(CONFIG)
def test_any_job_structure_gives_findings_or_a_ci_yaml_error(config):
    with tempfile.TemporaryDirectory() as directory:
        text = yaml.safe_dump(config, sort_keys=False, allow_unicode=True)
        path = Path(directory, ".gitlab-ci.yml")
        path.write_text(text, encoding="utf-8")
        try:
            result = audit_ci(directory)
        except CIYamlError as e:
            assert "\n" not in str(e)
            return
        count = len(text.splitlines())
        for issue in result.issues:
            assert issue.path == ".gitlab-ci.yml" and 1 <= issue.line <= count
            assert issue.kind == "gitlab-ci-config" and issue.risk and issue.fix


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_any_text_as_a_ci_file_gives_findings_or_a_ci_yaml_error(text):
    with tempfile.TemporaryDirectory() as directory:
        Path(directory, ".gitlab-ci.yml").write_bytes(text.encode("utf-8", "surrogatepass"))  # not UTF-8 too
        try:
            audit_ci(directory)
        except CIYamlError as e:
            assert "\n" not in str(e)


SECRETS = frozenset({"DB_PASSWORD", "X"})
FILES = frozenset({"TLS_KEY"})


@settings(max_examples=500, deadline=None)
@given(LINES)
def test_script_readings_never_fail_and_name_only_the_jobs_secrets(line):
    assert set(printed_secrets(line, SECRETS, FILES)) <= SECRETS | FILES
    assert dumps_environment(line, SECRETS | FILES) in (None, "env", "printenv", "export -p")
    assert traces_commands(line) is None or traces_commands(line).endswith(" -x")
    assert unverified_vault_tls(line) in (None, "curl --insecure", "wget --no-check-certificate",
                                          "vault -tls-skip-verify", "bao -tls-skip-verify")
    assert token_sent_on_redirect(line) in (None, "curl --location")


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet="-sSkLxeuAz1 ", max_size=12), st.sampled_from("kLx"))
def test_a_short_option_is_found_as_an_expression_of_it_would_find_it(word, letter):
    # The reading tests letters (`in`) instead of an expression like -[A-Za-z]*k[A-Za-z]*, which
    # backtracks quadratically over a long word: the same answers on every short word.
    assert _has_option((word,), letter) == bool(re.fullmatch(f"-[A-Za-z]*{letter}[A-Za-z]*", word))


def test_a_two_million_character_word_is_read_through():
    # A CI file's line is hostile input: each reading is linear in the line's length (the quadratic
    # expressions before would have taken hours on this line). No time is asserted: it returns.
    word = "-" + "s" * 2_000_000 + "1"
    assert traces_commands(f"set {word}") is None
    assert unverified_vault_tls(f"curl {word} $VAULT_ADDR/v1/x") is None
    assert token_sent_on_redirect(f"curl {word} -H PRIVATE-TOKEN:x") is None
    assert token_sent_on_redirect(f"curl {word} -sL -H PRIVATE-TOKEN:x") == "curl --location"


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(sorted(SECRETS)), st.sampled_from(["$", "${"]), st.sampled_from(["echo", "printf '%s'"]),
       st.sampled_from(["", "make && ", "cd app; "]))
def test_an_echoed_secret_is_found_and_one_piped_onward_is_not(name, sigil, command, before):
    reference = sigil + name + ("}" if sigil == "${" else "")
    assert printed_secrets(f"{before}{command} \"{reference}\"", SECRETS, FILES) == [name]
    assert printed_secrets(f"{before}{command} \"{reference}\" | docker login --password-stdin", SECRETS, FILES) == []
    assert printed_secrets(f"{before}{command} \"{reference}\" > secret.txt", SECRETS, FILES) == []


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(CONFIG)
def test_at_the_command_line_any_job_structure_exits_0_1_or_2_without_a_traceback(config):
    with tempfile.TemporaryDirectory() as directory:
        Path(directory, ".gitlab-ci.yml").write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
        result = radar("audit", "ci", directory, "--format", "json",
                       env=clean_env(RADAR_FINGERPRINT_KEY="property-tests"))
        assert result.returncode in (0, 1, 2), result.stderr
        assert b"Traceback" not in result.stderr and b"internal error" not in result.stderr
        if result.returncode == 2:
            assert_one_line_error(result)
        else:
            assert json.loads(result.stdout)["scan"]["kind"] == "directory"
