"""Every assignment syntax the generic and named rules read, in the file it is written in.

Each form is checked three ways: the engine as shipped (Hyperscan's start patterns), the engine
without Hyperscan (starts worked out from keyword hits) and an engine that searches every line
whole. All three must report the value, and report the same findings: the start-position
shortcuts may not lose a form.
"""

from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from radar.scan.engine import Engine
from radar.scan.findings import FingerprintKey
from radar.scan.rules import load_default_rules

KEY = FingerprintKey(b"test-key")
ENGINE = Engine(load_default_rules(), KEY)
WITHOUT_HYPERSCAN = Engine(load_default_rules(), KEY, prefilter="ahocorasick")
SEARCHING = Engine(load_default_rules(), KEY)
SEARCHING._anchored.clear()
ENGINES = (ENGINE, WITHOUT_HYPERSCAN, SEARCHING)

VALUE = "Zx9qL2mN8vR4tY7wK3pB6sD1"  # random enough for the generic rules, no provider's format
NAMED = "q7Xk2LmP9sRt4VwZ8nBc3DfGh6JyA1eU"[:32]  # 32 characters: the adafruit-io-key format

# (file name, line with {n} for a name like apiToken, {N} for API_TOKEN, {v} for the value)
FORMS = [
    ("Makefile", '{N} = "{v}"'),
    ("Makefile", "{N} := {v}"),
    ("Makefile", '{N} ::= "{v}"'),
    ("Makefile", '{N} :::= "{v}"'),
    ("Makefile", '{N} ?= "{v}"'),
    ("Makefile", "{N} += {v}"),
    ("main.go", 'var {n} string = "{v}"'),
    ("main.go", "{n} := `{v}`"),
    ("main.go", 'os.Setenv("{N}", "{v}")'),
    ("App.kt", 'val {n}: String = "{v}"'),
    ("App.java", 'String {n} = "{v}";'),
    ("App.java", 'System.setProperty("{N}", "{v}");'),
    ("App.java", 'map.put("{n}", "{v}");'),
    ("Program.cs", 'string {n} = "{v}";'),
    ("index.php", '${n} .= "{v}";'),
    ("index.php", '${n} ??= "{v}";'),
    ("index.php", "'{n}' => '{v}',"),
    ("settings.py", 'os.environ["{N}"] = "{v}"'),
    ("settings.py", "{n} = '{v}'"),
    ("settings.py", '{N} = os.getenv("{N}") or "{v}"'),
    ("config.js", "  {n}: process.env.{N} || '{v}',"),
    ("config.ts", 'const {n} = process.env["{N}"] ?? "{v}";'),
    ("main.rs", 'const {N}: &str = "{v}";'),
    ("logstash.conf", '  "{n}" => "{v}"'),
    ("config.json", '{{"config.ini": "{N}={v}\\nBACKUP_ENABLED=true"}}'),
    ("settings.xml", "<{n}>{v}</{n}>"),
    ("settings.xml", "<{n}>\n    {v}\n</{n}>"),
    ("web.config", '<add key="x" />\n<{n} enabled="true">\r\n\t{v}\r\n</{n}>'),
    ("values.yaml", "{n}: '{v}'"),
    (".env", "{N}={v}"),
]


def _names(word: str) -> tuple[str, str]:
    return f"{word}Token", f"{word.upper()}_TOKEN"


@pytest.mark.parametrize("path, form", FORMS, ids=[f"{p}:{f}" for p, f in FORMS])
def test_a_generic_name_is_read_in_every_form(path, form):
    name, upper = _names("deploy")
    text = "x = 1\n" + form.format(n=name, N=upper, v=VALUE) + "\n"
    results = [engine.scan(text, path).findings for engine in ENGINES]
    assert [f.rule_id for f in results[0]] == ["generic-token"], (path, form)
    finding = results[0][0]
    assert finding.line == 2 + form[:form.index("{v}")].count("\n") and finding.end_column - finding.column == len(VALUE) - 1  # the value, no more
    assert results[0] == results[1] == results[2]


@pytest.mark.parametrize("path, form", FORMS, ids=[f"{p}:{f}" for p, f in FORMS])
def test_a_named_provider_rule_is_read_in_every_form_too(path, form):
    name, upper = _names("adafruit")
    text = form.format(n=name, N=upper, v=NAMED) + "\n"
    results = [engine.scan(text, path).findings for engine in ENGINES]
    assert [f.rule_id for f in results[0]] == ["adafruit-io-key"], (path, form)
    assert results[0] == results[1] == results[2]


NOT_VALUES = ["${DEPLOY_TOKEN}", "$DEPLOY_TOKEN", "changeme", "<your-token>", "HTTPBasicAuth", "os.getenv",
              "settings.DEPLOY_TOKEN", "xxxxxxxxxxxxxxxx"]


@pytest.mark.parametrize("path, form", FORMS, ids=[f"{p}:{f}" for p, f in FORMS])
def test_references_placeholders_and_identifiers_are_not_reported_in_any_form(path, form):
    name, upper = _names("deploy")
    for value in NOT_VALUES:
        text = form.format(n=name, N=upper, v=value) + "\n"
        for engine in ENGINES:
            assert engine.scan(text, path).findings == [], (path, form, value)


COMMANDS = [
    ("deploy.sh", "docker login -u ci -p '{v}' registry.example.com", "docker-login-password"),
    (".gitlab-ci.yml", 'script:\n  - docker login -u ci -p "{v}" $CI_REGISTRY', "docker-login-password"),
    ("Dockerfile", "RUN curl -fsS -u deploy:{v} https://nexus.example.com/repo/app.tgz -o app.tgz", "curl-user-password"),
    ("Makefile", "backup:\n\tmysqldump -u backup -p'{v}' shop > shop.sql", "mysql-password-option"),
    ("deploy.sh", "sshpass -p '{v}' ssh deploy@10.0.0.5", "sshpass-password"),
    (".gitlab-ci.yml", "script:\n  - PGPASSWORD={v} psql -h db -U app -c 'select 1'", "password-environment-variable"),
    ("deploy.sh", "curl -k -X POST https://cache:11222/rest \\\n  -d 'world' \\\n  -u developer:{v}", "curl-user-password"),
    ("deploy.sh", "curl --user kevin:'{v}' -iX PATCH https://api.example.com", "curl-user-password"),
    ("deploy.sh", 'curl -u ":{v}" https://localhost:9200', "curl-user-password"),
    ("deploy.sh", 'curl -u "{v}:" https://api.example.com/v1/charges', "curl-user-password"),
    (".gitlab-ci.yml", "script:\n  - 'curl --header \"PRIVATE-TOKEN: {v}\" \"$CI_API_V4_URL/projects\"'", "curl-header-credential"),
    ("Makefile", 'release:\n\tcurl -H "Content-Type: text/plain; charset=UTF-8" -H "X-Api-Key: {v}" https://x', "curl-header-credential"),
    ("deploy.sh", "curl -X GET \\\n  -H 'Authorization:  {v}' \\\n  https://api.example.com", "curl-header-credential"),
]


@pytest.mark.parametrize("path, form, rule_id", COMMANDS, ids=[f"{p}:{r}" for p, _, r in COMMANDS])
def test_credentials_on_command_lines_are_found_quoted_or_bare(path, form, rule_id):
    for value in (VALUE, VALUE[:12]):
        text = form.format(v=value) + "\n"
        assert [f.rule_id for f in ENGINE.scan(text, path).findings] == [rule_id], (path, form)
    for reference in ("$REGISTRY_PASSWORD", "${{REGISTRY_PASSWORD}}"):
        text = form.format(v=reference) + "\n"
        assert ENGINE.scan(text, path).findings == [], (path, form, reference)


_NAME_WORDS = st.sampled_from(["deploy", "stripe", "acme", "ci", "registry", "app"])
# Generated tokens, drawn from a seeded generator: however hypothesis shrinks the seed, the token
# stays random-looking (a shrunk string would be `aaaa...`, which no rule should report).
_ALPHABET = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
# Two digits at the end keep a drawn token from reading as camelCase words (`mXwhHpGpsgxiCjuq`),
# which the generic rules rightly take for an identifier.
_RANDOM = st.tuples(st.integers(0, 2**32), st.integers(20, 40)).map(
    lambda seed_length: "".join(random.Random(seed_length[0]).choices(_ALPHABET, k=seed_length[1]))
    + f"{seed_length[0] % 90 + 10}")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(FORMS), _NAME_WORDS, _RANDOM)
def test_any_random_value_in_any_form_is_found_alike_by_every_engine(form, word, value):
    path, line = form
    name, upper = _names(word)
    text = line.format(n=name, N=upper, v=value) + "\n"
    results = [engine.scan(text, path).findings for engine in ENGINES]
    assert results[0], (path, line)
    assert results[0] == results[1] == results[2]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(FORMS), _NAME_WORDS,
       st.from_regex(r"[A-Z][a-z]{2,8}(?:[A-Z][a-z]{2,8}){1,3}(?:\.[a-z]{3,8}){0,2}", fullmatch=True))
def test_identifiers_in_any_form_are_never_reported(form, word, identifier):
    path, line = form
    name, upper = _names(word)
    text = line.format(n=name, N=upper, v=identifier) + "\n"
    for engine in ENGINES:
        assert engine.scan(text, path).findings == [], (path, line)


@pytest.mark.parametrize("path, line", [
    ("_cocoa_builtins.py", "COCOA_INTERFACES = {'ABPersonViewController', 'ACAccountCredential', 'ACAccountStoreXz9q'}"),
    ("README.md", "a hidden job with `VAULT_AUTH_TOKEN`, `id_tokens:` (`aud`)"),
    ("names.py", 'FIELDS = ["api_token", "Zx9qL2mN8vR4tY7wK3pB6sD1"]'),
])
def test_quoted_words_in_a_list_are_not_a_call_that_passes_a_name_and_a_value(path, line):
    # A call passes its name as its first argument; a set, a list or prose lists quoted words.
    for engine in ENGINES:
        assert engine.scan(line + "\n", path).findings == [], line


# Asaas keys begin with `$`, as a shell reference does; "aact" + random enough letters after it.
ASAAS = "$aact_prod_" + "Qw8ZrT5nVb2LkP9mXc4YdH7sJf3Ga6Ue"
ASAAS_NOT_KEYS = ["$ASAAS_API_KEY", "${ASAAS_API_KEY}", "$aact_prod_your_api_key_here_000000", "$aact_tokenVariable"]


@pytest.mark.parametrize("path, form", FORMS, ids=[f"{p}:{f}" for p, f in FORMS])
def test_a_key_whose_prefix_begins_with_a_dollar_is_found_and_references_are_not(path, form):
    name, upper = _names("asaas")
    text = form.format(n=name, N=upper, v=ASAAS) + "\n"
    results = [engine.scan(text, path).findings for engine in ENGINES]
    assert [f.rule_id for f in results[0]] == ["asaas-api-key"], (path, form)
    assert results[0] == results[1] == results[2]
    for value in ASAAS_NOT_KEYS:
        text = form.format(n=name, N=upper, v=value) + "\n"
        for engine in ENGINES:
            assert engine.scan(text, path).findings == [], (path, form, value)
