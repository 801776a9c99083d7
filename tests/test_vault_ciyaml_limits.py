"""Hostile CI YAML: every expansion radar makes while reading a job is bounded.

Aliases ("billion laughs"), `!reference`, `extends:` and `$VAR` expansion can each turn a
small file into an enormous one; radar refuses with one line (`FILE:LINE:COL: malformed
YAML: ...` where the file has a place for it), exit 2, instead of spinning. Files that used to
spin are run through the real command line with a time bound, so a regression fails instead
of hanging the suite; the rest are checked in-process. A property test feeds the reader
arbitrary YAML-ish text: it returns or raises RadarError, nothing else.
"""

from __future__ import annotations

import re
import tempfile
import textwrap
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from radar.errors import RadarError
from radar.vault.ciyaml import MAX_DEPTH, MAX_VALUES, job_definition, load_ci_file, secrets_file_definition
from radar.vault.errors import CIYamlError, VaultConfigError
from radar.vault.spec import secret_specs
from radar.vault.variables import MAX_EXPANDED_LENGTH, JobVariables
from radar_cli import WAIT, assert_one_line_error, radar


def write(tmp_path: Path, text: str, name: str = ".gitlab-ci.yml") -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def definition(tmp_path: Path, text: str, name: str = "deploy"):
    path = write(tmp_path, textwrap.dedent(text))
    return job_definition(load_ci_file(path), name, path)


def alias_bomb(levels: int = 9) -> str:
    """The classic: nine levels of ten aliases, a billion values once expanded."""
    lines = ["lol0: &lol0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    lines += [f"lol{i}: &lol{i} [{', '.join([f'*lol{i - 1}'] * 10)}]" for i in range(1, levels)]
    lines += [f"deploy:\n  script: *lol{levels - 1}\n  secrets: {{}}"]
    return "\n".join(lines) + "\n"


def reference_bomb(levels: int = 10) -> str:
    """Ten levels of ten `!reference`s each: ten billion values, with no alias at all."""
    lines = [".l0: {v: [x, x, x, x, x, x, x, x, x, x]}"]
    lines += [f".l{i}: {{v: [{', '.join([f'!reference [.l{i - 1}, v]'] * 10)}]}}" for i in range(1, levels)]
    lines += [f"deploy: {{script: [!reference [.l{levels - 1}, v]], secrets: {{}}}}"]
    return "\n".join(lines) + "\n"


def extends_diamond(levels: int = 11) -> str:
    """Each template extends the one below ten times: 10^11 merges if each is merged afresh."""
    lines = [".p0: {variables: {A: a, B: b}, secrets: {DB: {vault: production/db/password@ops}}}"]
    lines += [f".p{i}: {{extends: [{', '.join([f'.p{i - 1}'] * 10)}], variables: {{L{i}: x}}}}"
              for i in range(1, levels)]
    lines += [f"deploy: {{extends: .p{levels - 1}, id_tokens: {{T: {{aud: a}}}}}}"]
    return "\n".join(lines) + "\n"


def variable_bomb(levels: int = 7) -> str:
    """Each variable names the next ten times: 10^7 characters from a few hundred bytes."""
    lines = ["variables:", "  V0: xxxxxxxxxx"]
    lines += [f"  V{i}: '{f'$V{i - 1}' * 10}'" for i in range(1, levels + 1)]
    lines += [f"deploy: {{id_tokens: {{T: {{aud: a}}}}, secrets: {{DB: {{vault: '$V{levels}/db/password@ops'}}}}}}"]
    return "\n".join(lines) + "\n"


# --- through the command line: what used to spin now ends ------------------------------------

@pytest.mark.parametrize("command", ["secrets check --job", "exec --secrets-file"])
def test_a_billion_laughs_file_is_refused_at_the_alias_that_overflows(tmp_path, command):
    path = write(tmp_path, alias_bomb(), "bomb.yml")
    args = ["secrets", "check", "--job", "deploy", "--ci-file", path] if command.startswith("secrets") \
        else ["exec", "--secrets-file", path, "--", "true"]
    result = radar(*args, timeout=WAIT)
    assert result.returncode == 2
    line = assert_one_line_error(result)
    assert re.search(rf"bomb\.yml:\d+:\d+: malformed YAML: with its aliases expanded the file holds more than {MAX_VALUES} values", line)


def test_references_that_multiply_a_value_are_refused_naming_the_line(tmp_path):
    path = write(tmp_path, reference_bomb(), "refs.yml")
    result = radar("secrets", "check", "--job", "deploy", "--ci-file", path, timeout=WAIT)
    assert result.returncode == 2
    line = assert_one_line_error(result)
    assert re.search(rf"refs\.yml: line \d+: !reference expands the file to more than {MAX_VALUES} values", line)


def test_an_extends_diamond_is_merged_once_per_template(tmp_path):
    path = write(tmp_path, extends_diamond(), "diamond.yml")
    result = radar("secrets", "check", "--job", "deploy", "--ci-file", path, timeout=WAIT,
                   env={"PATH": "/usr/bin:/bin", "VAULT_SERVER_URL": "http://127.0.0.1:1"})
    # The job resolved (its secret came through eleven levels of extends:); Vault is not there.
    assert "FAILED\tDB\tvault ops/data/production/db field password" in result.stdout.decode()
    assert result.returncode == 1


def test_variables_that_expand_to_millions_of_characters_are_refused(tmp_path):
    path = write(tmp_path, variable_bomb(), "vars.yml")
    result = radar("secrets", "check", "--job", "deploy", "--ci-file", path, timeout=WAIT)
    assert result.returncode == 2
    assert f"variable V6 expands to more than {MAX_EXPANDED_LENGTH} characters" in assert_one_line_error(result)


# --- in-process: shapes that used to crash or that sit at the limits -------------------------

@pytest.mark.parametrize("text, where", [
    ("a: &a [*a]\n", "1:8"),
    ("a: &a {b: [1, *a]}\n", "1:15"),
    ("a: &a\n  <<: *a\n", "2:7"),
])
def test_an_alias_inside_its_own_anchor_is_refused(tmp_path, text, where):
    with pytest.raises(CIYamlError, match=rf"yml:{where}: malformed YAML: the alias \*a is inside its own anchor"):
        load_ci_file(write(tmp_path, text))


def test_nesting_up_to_the_limit_loads_and_one_level_more_is_refused(tmp_path):
    deepest = "a: " + "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1) + "\n"  # the mapping is level 1
    assert load_ci_file(write(tmp_path, deepest))["a"] is not None
    too_deep = "a: " + "[" * MAX_DEPTH + "]" * MAX_DEPTH + "\n"
    with pytest.raises(CIYamlError, match=rf"yml:1:{MAX_DEPTH + 3}: malformed YAML: nested more than {MAX_DEPTH}"):
        load_ci_file(write(tmp_path, too_deep))


def test_an_alias_counts_as_deep_as_what_it_repeats(tmp_path):
    half = MAX_DEPTH // 2 + 1
    text = f"a: &a {'[' * half}{']' * half}\nb: {'[' * half}*a{']' * half}\n"
    with pytest.raises(CIYamlError, match=rf"yml:2:{half + 4}: malformed YAML: nested more than {MAX_DEPTH}"):
        load_ci_file(write(tmp_path, text))


@pytest.mark.parametrize("value", ["2001-02-30", "!!int 0x", "!!float abc", "!!timestamp 2001-13-01", "!!int " + "9" * 5000])
def test_a_value_python_cannot_build_is_malformed_yaml_with_its_place(tmp_path, value):
    with pytest.raises(CIYamlError, match=r"yml:2:18: malformed YAML: cannot read this value \(ValueError\)"):
        load_ci_file(write(tmp_path, f"deploy:\n  variables: {{A: {value}}}\n"))


def test_references_may_not_nest_values_beyond_the_limit(tmp_path):
    half = MAX_DEPTH // 2 + 1
    text = f".a: {{v: {'[' * half}x{']' * half}}}\ndeploy: {{v: {'[' * half}!reference [.a, v]{']' * half}}}\n"
    with pytest.raises(CIYamlError, match=rf"line 2: !reference nests values more than {MAX_DEPTH} levels deep"):
        load_ci_file(write(tmp_path, text))


def test_extends_may_not_merge_more_than_the_limit(tmp_path):
    parents = 2000  # each with its own key: every merge copies all the keys merged so far
    text = "".join(f".p{i}: {{variables: {{K{i}: x}}}}\n" for i in range(parents))
    text += f"deploy: {{extends: [{', '.join(f'.p{i}' for i in range(parents))}]}}\n"
    with pytest.raises(CIYamlError, match=rf"job 'deploy': extends: merges more than {MAX_VALUES} values"):
        definition(tmp_path, text)


def test_an_extends_chain_too_long_by_another_path_is_still_refused(tmp_path):
    """A template merged once through a short path is not reused where its chain is too long."""
    chain = "".join(f".l{i}: {{extends: .l{i + 1}}}\n" for i in range(1, 10)) + ".l10: {extends: .x}\n"
    text = ".z: {variables: {A: a}}\n.y: {extends: .z}\n.x: {extends: .y}\n" + chain
    text += "deploy: {extends: [.x, .l1]}\n"
    with pytest.raises(CIYamlError, match=r"extends: nested more than 11 levels deep at '.y'"):
        definition(tmp_path, text)


def test_a_secret_path_may_not_expand_beyond_the_limit():
    big = "x" * (MAX_EXPANDED_LENGTH // 4 + 1)
    variables = JobVariables((), {"BIG": big})
    assert variables.expand("$BIG$BIG$BIG") == big * 3
    with pytest.raises(VaultConfigError, match="a secret's path or field expands to more than"):
        variables.expand("$BIG$BIG$BIG$BIG")


# --- any input: a definition or a RadarError --------------------------------------------------

_SCALARS = st.sampled_from([
    "x", "deploy", ".j", "1", "-1.5e3", "2001-02-30", "2001-12-14", "null", "true", "''", '"a\\tb"', "$A", "${A}$$",
    "!!int 0x", "!!binary zz", "!!set {a}", "!!omap [1]", "!!str 1", "!vault x", "*a", "*b", "&a x", "&b [*a, *a]",
    "!reference [.j, v]", "!reference [deploy]", "!reference [x, 1]", "!reference x", "!reference []",
    "production/db/password@ops", "{vault: a/b@ops}", "{vault: {engine: {name: kv-v1, path: p}, path: a, field: b}}",
])
_KEYS = st.sampled_from(["deploy", ".j", "default", "variables", "secrets", "id_tokens", "extends", "inherit",
                         "v", "A", "vault", "file", "token", "<<", "1", "? [a]", "include", "T", "DB", "value"])
_NODES = st.recursive(
    _SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4).map(lambda items: "[" + ", ".join(items) + "]"),
        st.lists(st.tuples(_KEYS, inner), max_size=4).map(
            lambda pairs: "{" + ", ".join(f"{k}: {v}" for k, v in pairs) + "}"),
        st.tuples(st.sampled_from(["&a ", "&b ", "!reference ", ""]), inner).map("".join),
    ),
    max_leaves=25,
)
_FILES = st.one_of(
    st.lists(st.tuples(_KEYS, _NODES), max_size=6).map(lambda pairs: "".join(f"{k}: {v}\n" for k, v in pairs)),
    st.builds(  # a job with something in each place radar reads
        lambda template, secret, variable, token: (
            f".j: {template}\ndeploy:\n  extends: .j\n  id_tokens: {{T: {{aud: a}}}}\n"
            f"  secrets: {{DB: {secret}}}\n  variables: {{A: {variable}}}\n  inherit: {token}\n"
        ),
        _NODES,
        st.sampled_from(["{vault: $A/b@ops}", "{vault: {engine: {name: kv-v1, path: $A}, path: a, field: b}}",
                         "{vault: a/b, file: false, token: $T}", "!reference [.j, secrets, DB]"]) | _NODES,
        st.sampled_from(["x", "$A", "$$A${A}", "{value: $B, expand: false}"]) | _NODES,
        st.sampled_from(["{}", "{default: false}", "{variables: [A]}"]) | _NODES,
    ),
    st.text(alphabet="[]{}:,-&*!|>'\"#%@`?\n .$ajdeploy0123", max_size=200),
    st.text(st.characters(blacklist_categories=("Cs",)), max_size=100),  # any text a file can hold
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=_FILES)
def test_the_ci_yaml_reader_returns_a_definition_or_raises_radar_error(text):
    with tempfile.TemporaryDirectory() as directory:
        path = str(Path(directory) / ".gitlab-ci.yml")
        Path(path).write_text(text, encoding="utf-8")
        try:
            doc = load_ci_file(path)
        except RadarError:
            return
        for name in list(doc) + ["deploy"]:
            try:
                job = job_definition(doc, str(name), path)
                secret_specs(job, JobVariables(job.variables, {}))
            except RadarError:
                pass
        try:
            secrets_file_definition(doc, path)
        except RadarError:
            pass
