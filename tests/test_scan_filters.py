"""False-positive filters and the generic rules' judgement of names and values."""

from __future__ import annotations

import string

import pytest
from hypothesis import given, settings, strategies as st

from radar.scan import filters, generic
from radar.scan.engine import Engine
from radar.scan.findings import FingerprintKey
from radar.scan.rules import load_default_rules

ENGINE = Engine(load_default_rules(), FingerprintKey(b"test-key"))
RANDOM = "q8Vz2LmX4pRt7NwK9bYc"


def scan(text: str, path: str = "app/config.py"):
    return ENGINE.scan(text, path).findings


@pytest.mark.parametrize("value", [
    "changeme", "CHANGE_ME", "<token>", "<your-api-key>", "${DB_PASSWORD}", "$DB_PASSWORD",
    "{{ vault_db_password }}", "%(password)s", "#{secret}", "xxxxxxxxxxxx", "XXXX-XXXX", "********",
    "your_api_key_here", "insert-your-token", "replace_me_please", "AKIAIOSFODNN7EXAMPLE",
    "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "sk_live_example_only", "password", "guest",
    "process.env.API_KEY", "os.environ['X']", "not-a-real-secret", "glpat-xxxxxxxxxxxxxxxxxxxx",
    "AKIA0000000000000000", "[REDACTED]",
])
def test_placeholders_are_not_secrets(value):
    assert filters.is_placeholder(value)


@pytest.mark.parametrize("value", [RANDOM, "Harbor42!mint#77", "glpat-" + RANDOM, "dGhpcyBpcyBub3QgYSBwbGFjZWhvbGRlcg"])
def test_random_values_are_not_placeholders(value):
    assert not filters.is_placeholder(value)


@pytest.mark.parametrize("key", [
    "password", "DB_PASSWORD", "dbPassword", "spring.datasource.password", "api_key", "apiKey",
    "X-Api-Key", "client_secret", "AWS_SECRET_ACCESS_KEY", "auth_token", "accessToken", "passwd",
    "--password", "private_key", "secret_id", "credentials", "signingKey",
])
def test_names_that_hold_secrets(key):
    assert generic.names_a_secret(key)


@pytest.mark.parametrize("key", [
    "password_file", "token_url", "secret_name", "api_key_id", "password_hash", "token_sha256",
    "max_tokens", "tokenizer", "author", "authority", "password_min_length", "cache_key",
    "auth_type", "secret_digest", "primary_key", "keyword",
])
def test_names_that_describe_secrets_without_holding_them(key):
    assert not generic.names_a_secret(key)


@pytest.mark.parametrize("value", [RANDOM, "Harbor42!mint#77", "kQ7#vP2m", "ab12cd34ef56ab12cd34ef56ab12cd34", "dGVzdC12YWx1ZS0xMjM0NTY3OA=="])
def test_random_looking_values(value):
    assert generic.looks_random(value)


@pytest.mark.parametrize("value", [
    "self.password", "config.api.key", "get_password", "AutoTokenizer", "getPasswordFromVault",
    "/run/secrets/db_password", "./secrets/api.key", "C:\\keys\\deploy.pem", "https://auth.example.com/token",
    "123456789012", "0b6a1f3e-5d2c-4a8b-9f7e-1c2d3e4f5a6b", "1.4.22", "aaaaaaaaaaaa", "my-secret-password",
    "PASSWORD_FROM_VAULT", "short",
])
def test_values_that_are_code_paths_numbers_or_words(value):
    assert not generic.looks_random(value)


def test_generic_assignment_with_placeholder_value_is_dropped():
    assert scan('password = "changeme"\napi_key: ${API_KEY}\ntoken = "{{ token }}"\n') == []


def test_hash_named_value_of_md5_sha1_sha256_length_is_not_a_secret():
    text = "\n".join([
        'password_md5 = "5f4dcc3b5aa765d61d8327deb882cf99"',
        'token_sha1 = "aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d"',
        'secret_sha256 = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"',
    ])
    assert scan(text) == []


def test_uuid_assigned_to_a_token_name_is_not_reported_generically():
    assert scan('request_token = "0b6a1f3e-5d2c-4a8b-9f7e-1c2d3e4f5a6b"') == []


@pytest.mark.parametrize("path, tag", [
    ("tests/fixtures/creds.json", filters.TEST_FIXTURE),
    ("pkg/handler_test.go", filters.TEST_FIXTURE),
    ("src/__tests__/api.spec.ts", filters.TEST_FIXTURE),
    ("frontend/package-lock.json", filters.LOCK_FILE),
    ("Cargo.lock", filters.LOCK_FILE),
    ("static/vendor.min.js", filters.MINIFIED),
])
def test_findings_in_fixture_lock_and_minified_files_are_kept_but_ranked_low(path, tag):
    findings = scan(f'DB_PASSWORD = "{RANDOM}"', path)
    assert len(findings) == 1
    assert findings[0].confidence == "low" and tag in findings[0].tags


def test_minified_code_is_recognised_by_its_line_length():
    bundle = ";".join(f"function f{i}(a){{return a+{i}}}" for i in range(200)) + f';var k="{RANDOM}",api_key="{RANDOM}x";'
    findings = scan(bundle, "static/bundle.js")
    assert findings and all(filters.MINIFIED in f.tags and f.confidence == "low" for f in findings)


def test_values_that_read_like_samples_are_ranked_low():
    findings = scan('API_KEY = "sample-Q8vZ2LmX4pRt7NwK9b"')
    assert len(findings) == 1 and findings[0].confidence == "low" and filters.PLACEHOLDER_LIKE in findings[0].tags


def test_entropy_is_bits_per_character():
    assert filters.entropy("aaaa") == 0.0
    assert filters.entropy("abcd") == 2.0


@pytest.mark.parametrize("line", [
    "token = Punctuation", "private_key: SSHPrivateKeyTypes,", "credentials = standard_b64encode(creds)",
    "passwd = HTTPPasswordMgr()",
])
def test_unquoted_values_in_program_source_are_code(line):
    assert scan(line, "lib/module.py") == []


def test_unquoted_values_in_configuration_files_are_values():
    findings = scan(f"DB_PASSWORD={RANDOM}", "deploy/app.env")
    assert [f.rule_id for f in findings] == ["generic-password"]


def test_quoted_values_in_program_source_are_literals():
    assert [f.rule_id for f in scan(f'DB_PASSWORD = "{RANDOM}"', "lib/module.py")] == ["generic-password"]


def test_values_with_spaces_are_prose_not_secrets():
    assert scan('token = " * [would prune] "\nauth = "Digest %s q8Vz2LmX"', "lib/module.py") == []


# --- identifiers are code, not secrets --------------------------------------------------------

@pytest.mark.parametrize("value, called", [
    ("HTTPBasicAuth", True), ("HTTPDigestAuth", True), ("HTTPBasicAuth", False), ("getpass", True),
    ("Foo.Bar", False), ("os.environ.get", False), ("MyClass", False), ("self.password", False),
    ("settings.SECRET_KEY", False), ("OAuth2Session", True), ("XMLHttpRequest", False), ("getPassword", False),
])
def test_code_identifiers_are_identifiers(value, called):
    assert filters.is_identifier(value, called)


@pytest.mark.parametrize("value, called", [
    ("Xk9qL2mPz8RtVw3N", False), ("Xk9qL2mPz8RtVw3N", True), (RANDOM, False), ("OAuth2Session", False),
    ("QwXzPlMnBvCx", False), ("Harbor42!mint#77", True), ("dGhpcyBpcyBub3Q", False),
])
def test_random_tokens_are_not_identifiers(value, called):
    assert not filters.is_identifier(value, called)


@pytest.mark.parametrize("line", [
    'auth = HTTPBasicAuth("user", "pass")', "    >>> auth = HTTPDigestAuth('user', 'pass')",
    "auth = HTTPBasicAuth (user, pass)", "password = getpass(", "token = os.environ.get",
    "SECRET_KEY = settings.SECRET_KEY", "auth: HTTPBasicAuth",
])
def test_identifiers_assigned_to_secret_names_in_docs_are_not_reported(line):
    assert scan(line, "docs/user/authentication.rst") == []


def test_a_random_token_written_like_a_class_name_is_still_reported():
    assert [f.rule_id for f in scan("token = Xk9qL2mPz8RtVw3N", "docs/setup.md")] == ["generic-token"]


def test_provider_rules_ignore_the_identifier_test():
    # A provider's prefix says what the value is: a Stripe key read as a call is still a key.
    value = "sk_live_" + "KestrelHarborMintOrbitLamp"
    assert filters.is_identifier(value, called=True)
    findings = scan(f"api_key = {value}()", "deploy/app.env")
    assert [f.rule_id for f in findings] == ["stripe-secret-key"]


_WORDS = ["basic", "auth", "digest", "client", "session", "request", "token", "manager", "password",
          "handler", "provider", "secret", "config", "loader", "service", "factory", "builder", "reader"]
_ACRONYMS = ["HTTP", "JSON", "XML", "AWS", "OAuth", "API", "SSL"]
_word = st.sampled_from(_WORDS)
_class_name = st.builds(lambda acronym, words: acronym + "".join(w.capitalize() for w in words),
                        st.sampled_from(["", *_ACRONYMS]), st.lists(_word, min_size=1, max_size=4))
_camel_name = st.builds(lambda first, words: first + "".join(w.capitalize() for w in words),
                        _word, st.lists(_word, min_size=1, max_size=3))
_dotted = st.builds(".".join, st.lists(st.one_of(_word, _class_name, _camel_name), min_size=2, max_size=4))


@settings(max_examples=300, deadline=None)
@given(name=st.one_of(_class_name, _camel_name, _dotted), call=st.sampled_from(["", "(", "()", " (user, pw)"]),
       key=st.sampled_from(["auth", "token", "password", "api_key", "client_secret"]),
       path=st.sampled_from(["README.md", "docs/auth.rst", "deploy/app.env", "notes.txt"]))
def test_property_identifiers_calls_and_dotted_names_are_never_reported_by_generic_rules(name, call, key, path):
    findings = scan(f"{key} = {name}{call}", path)
    assert [f.rule_id for f in findings if f.rule_id.startswith("generic-")] == []


# A generated token: letters broken by digits at least three times, as random mixed case is.
_token = st.builds(
    "".join,
    st.lists(st.tuples(st.text(string.ascii_letters, min_size=1, max_size=4), st.sampled_from(string.digits)).map("".join),
             min_size=4, max_size=10),
)


@settings(max_examples=300, deadline=None)
@given(token=_token, call=st.booleans())
def test_property_random_tokens_are_never_identifiers_and_still_reported(token, call):
    assert not filters.is_identifier(token, call)
    if generic.looks_random(token) and not filters.is_placeholder(token):
        assert [f.rule_id for f in scan(f"token = {token}", "deploy/app.env")] == ["generic-token"]


@pytest.mark.parametrize("hosts, documentation", [
    ("example.com", True), ("api.example.com", True), ("db.example.net", True), ("EXAMPLE.ORG", True),
    ("example.com.", True), ("cache.example", True), ("a.example.com:5432,b.example.net:5433", True),
    ("example.com,db.internal", False), ("db.internal", False), ("example.company.com", False),
    ("myexample.com", False), ("localhost", False), ("", False),
])
def test_documentation_hosts_are_the_reserved_example_domains(hosts, documentation):
    assert filters.is_documentation_host(hosts) is documentation


@pytest.mark.parametrize("line, rule_id", [
    ("SERVICE_URL=https://alice:s3cr3t@api.example.com/v1", None),
    ("DATABASE_URL=postgres://alice:hunter2@db.example.net/app", None),
    ("REDIS_URL=redis://:s3cr3t@cache.example/0", None),
    ("DATABASE_URL=postgresql://alice:hunter2@example.com,db.example.net/app", None),
    ("REDIS_URL=redis://:redis-password-goes-here@gitlab-redis/", None),
    # A real host, or a random password pasted into an example, is still a leak.
    ("DATABASE_URL=postgresql://alice:hunter2@example.com,db.internal/app", "postgres-connection-uri"),
    ("DATABASE_URL=postgres://alice:hunter2@db.internal/app", "postgres-connection-uri"),
    ("git clone https://deploy:" + RANDOM + "@git.example.com/team/app.git", "url-credentials"),
])
def test_a_made_up_password_on_a_documentation_host_is_not_reported(line, rule_id):
    assert [f.rule_id for f in scan(line, "deploy/app.env")] == ([rule_id] if rule_id else [])


@pytest.mark.parametrize("value", [
    "aaaaaaaaaa1111111111bbbbbbbbbb2222222222", "GR134894112312312312312312312", "AstraCS:short", "lsv2_pt_short",
    "sk-lf-00000000-0000-0000-0000-000000000000", "ababababababab", "essu_abc123", "db-abc123def456ghi789jkl012mno34",
])
def test_values_typed_to_fill_a_format_are_placeholders(value):
    assert filters.is_placeholder(value)


@pytest.mark.parametrize("value", [
    RANDOM, "xoxa-2-511111111-31111111111-3111111111111-e039d02840a0b9379c", "Zf3D0LXCM3EIMbgJpUNnkRtOfOueHznB",
    # a long base64 body with runs of A (zero bytes) is a key, not a made-up value
    "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZWQyNTUxOQAAACDr" * 2,
])
def test_random_values_with_some_repetition_are_not_made_up(value):
    assert not filters.is_placeholder(value)


@settings(max_examples=300, deadline=None)
@given(st.text(string.ascii_letters + string.digits + "-_", min_size=20, max_size=100))
def test_property_a_value_that_is_mostly_one_repeated_piece_is_a_placeholder(filler):
    piece = filler[:3]
    if len(set(piece)) > 1:
        assert filters.is_placeholder(piece * 5 + filler[3:10])
