"""Where `radar mask` finds secret values: files, variables, file-type variables, the environment."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from radar.errors import SecretSourceError
from radar.mask.model import Secret
from radar.mask.sources import DEFAULT_SECRET_GLOBS, from_env, from_environment, from_file

PEM = b"-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----\n"


# --- from_file -------------------------------------------------------------------------------

def test_file_content_is_one_secret_named_by_path(tmp_path):
    key = tmp_path / "key.pem"
    key.write_bytes(PEM)
    assert from_file(key) == Secret(value=PEM, source=f"file {key}")


def test_file_bytes_are_kept_exactly_even_when_not_utf8(tmp_path):
    f = tmp_path / "bin"
    f.write_bytes(b"\xff\xfesecret\x00bytes")
    assert from_file(f).value == b"\xff\xfesecret\x00bytes"


def test_missing_file_error_names_the_path(tmp_path):
    missing = tmp_path / "nope.txt"
    with pytest.raises(SecretSourceError, match="nope.txt does not exist"):
        from_file(missing)


def test_directory_given_as_file_is_an_error_naming_it(tmp_path):
    with pytest.raises(SecretSourceError, match="is a directory") as e:
        from_file(tmp_path)
    assert str(tmp_path) in str(e.value)


def test_file_error_is_one_line(tmp_path):
    with pytest.raises(SecretSourceError) as e:
        from_file(tmp_path / "missing")
    assert "\n" not in str(e.value)


# --- from_env --------------------------------------------------------------------------------

def test_variable_value_is_the_secret():
    assert from_env("DB_PASSWORD", {"DB_PASSWORD": "hunter2-hunter2"}) == Secret(
        value=b"hunter2-hunter2", source="variable DB_PASSWORD"
    )


def test_file_type_variable_gives_the_file_content_not_the_path(tmp_path):
    key = tmp_path / "DEPLOY_KEY"
    key.write_bytes(PEM)
    secret = from_env("DEPLOY_KEY", {"DEPLOY_KEY": str(key)})
    assert secret.value == PEM
    assert secret.source == f"variable DEPLOY_KEY (file {key})"


def test_value_naming_a_missing_path_is_the_value_itself(tmp_path):
    value = str(tmp_path / "not-there")
    assert from_env("X_TOKEN", {"X_TOKEN": value}).value == value.encode()


def test_value_naming_a_directory_is_the_value_itself(tmp_path):
    assert from_env("X_TOKEN", {"X_TOKEN": str(tmp_path)}).value == str(tmp_path).encode()


def test_relative_file_name_is_not_read(tmp_path, monkeypatch):
    # A secret that equals a file name in the working directory must not be swapped for the file.
    monkeypatch.chdir(tmp_path)
    (tmp_path / "s3cr3t-value").write_bytes(b"other content")
    assert from_env("X_TOKEN", {"X_TOKEN": "s3cr3t-value"}).value == b"s3cr3t-value"


def test_non_utf8_variable_value_is_masked_as_its_original_bytes():
    # os.environ decodes undecodable bytes with surrogateescape; os.fsencode restores them.
    value = b"abc\xffdef-ghijk".decode("utf-8", "surrogateescape")
    assert from_env("X_TOKEN", {"X_TOKEN": value}).value == b"abc\xffdef-ghijk"


def test_missing_variable_error_names_the_variable():
    with pytest.raises(SecretSourceError, match="variable DB_PASSWORD is not set"):
        from_env("DB_PASSWORD", {})


# --- from_environment ------------------------------------------------------------------------

def names(secrets):
    return [s.source.removeprefix("variable ") for s in secrets]


@pytest.mark.parametrize("name", [
    "DB_PASSWORD", "MYSQL_ROOT_PASSWORD", "PASSWORD", "LDAP_PASSWD", "FTP_PASS",
    "APP_SECRET", "AWS_SECRET_ACCESS_KEY", "DJANGO_SECRET_KEY", "OAUTH_CLIENT_SECRET",
    "CI_JOB_TOKEN", "VAULT_ID_TOKEN", "TOKEN", "CI_JOB_JWT", "CI_JOB_JWT_V2",
    "STRIPE_API_KEY", "SENDGRID_APIKEY", "SSH_PRIVATE_KEY", "MINIO_ACCESS_KEY",
    "JWT_SIGNING_KEY", "AZURE_STORAGE_CONNECTION_STRING", "SENTRY_DSN",
    "GOOGLE_CREDENTIALS", "NPM_AUTH", "DOCKER_AUTH_CONFIG", "SLACK_WEBHOOK_URL",
])
def test_sensitive_names_are_secrets(name):
    assert names(from_environment({name: "value-of-the-secret"})) == [name]


@pytest.mark.parametrize("name", [
    "PASSWD", "SECRET_KEY", "JWT", "API_KEY", "APIKEY", "ACCESS_KEY", "PRIVATE_KEY", "SIGNING_KEY",
    "ENCRYPTION_KEY", "MASTER_KEY", "DEPLOY_KEY", "SSH_KEY", "CONNECTION_STRING", "DSN",
    "CREDENTIALS", "AUTH_CONFIG", "WEBHOOK_URL", "api_key",
])
def test_bare_sensitive_names_without_a_prefix_are_secrets(name):
    assert names(from_environment({name: "value-of-the-secret"})) == [name]


# `*_NAME` globs whose bare NAME is no glob of its own: bare, these are words, not credentials.
PREFIXED_ONLY = {"PASS", "AUTH"}
SUFFIX_GLOBS = [g for g in DEFAULT_SECRET_GLOBS if g.startswith("*_") and not any(c in g[2:] for c in "*?[")]


@given(prefix=st.from_regex(r"[A-Za-z][A-Za-z0-9]{0,11}", fullmatch=True),
       glob=st.sampled_from(SUFFIX_GLOBS), lower=st.booleans())
def test_every_prefixed_secret_name_is_a_secret_bare_too(prefix, glob, lower):
    bare = glob.removeprefix("*_")
    prefixed = f"{prefix}_{bare}"
    if lower:
        bare, prefixed = bare.lower(), prefixed.lower()
    expected = [prefixed] if bare.upper() in PREFIXED_ONLY else sorted([bare, prefixed])
    env = {bare: "value-of-the-secret", prefixed: "another-secret-value"}
    assert names(from_environment(env)) == expected


@pytest.mark.parametrize("name", [
    "HOME", "PATH", "CI_COMMIT_SHA", "VAULT_SERVER_URL", "VAULT_AUTH_PATH", "VAULT_TOKEN_URL",
    "DB_PASSWORD_FILE", "SSH_AUTH_SOCK", "AWS_ACCESS_KEY_ID", "TOKENIZER_MODEL",
    "PASS", "AUTH", "API_KEY_FILE", "BYPASS", "OAUTH",
])
def test_other_names_are_not_secrets(name):
    assert from_environment({name: "some-ordinary-value"}) == []


@pytest.mark.parametrize("name", [
    "MYSQL_ALLOW_EMPTY_PASSWORD", "MARIADB_ALLOW_EMPTY_ROOT_PASSWORD",
    "MYSQL_RANDOM_ROOT_PASSWORD", "NPM_CONFIG_ALWAYS_AUTH", "ALLOW_EMPTY_PASSWORD",
])
def test_switches_named_like_secrets_are_not_secrets(name):
    assert from_environment({name: "yes"}) == []


def test_names_match_case_insensitively():
    assert names(from_environment({"db_password": "value-of-the-secret"})) == ["db_password"]


def test_listed_variables_are_secrets_whatever_their_names():
    env = {"RADAR_MASK_VARS": "DEPLOY_HOST, LICENSE  ,MODEL_URL", "DEPLOY_HOST": "10.1.2.3",
           "LICENSE": "ABCD-EFGH-IJKL", "MODEL_URL": "https://x.example/model", "OTHER": "o"}
    assert names(from_environment(env)) == ["DEPLOY_HOST", "LICENSE", "MODEL_URL"]


def test_listed_variable_that_is_not_set_is_skipped():
    env = {"RADAR_MASK_VARS": "NOT_SET,LICENSE", "LICENSE": "ABCD-EFGH-IJKL"}
    assert names(from_environment(env)) == ["LICENSE"]


def test_listing_a_switch_makes_it_a_secret():
    env = {"RADAR_MASK_VARS": "MYSQL_ALLOW_EMPTY_PASSWORD", "MYSQL_ALLOW_EMPTY_PASSWORD": "yes"}
    assert names(from_environment(env)) == ["MYSQL_ALLOW_EMPTY_PASSWORD"]


def test_a_variable_both_listed_and_matched_is_one_secret():
    env = {"RADAR_MASK_VARS": "DB_PASSWORD", "DB_PASSWORD": "value-of-the-secret"}
    assert names(from_environment(env)) == ["DB_PASSWORD"]


def test_listed_variables_come_first_then_matches_in_name_order():
    env = {"Z_TOKEN": "zzzzzzzzzz", "A_TOKEN": "aaaaaaaaaa", "RADAR_MASK_VARS": "M", "M": "mmmmmmmm"}
    assert names(from_environment(env)) == ["M", "A_TOKEN", "Z_TOKEN"]


def test_empty_and_blank_values_are_skipped():
    env = {"CI_DEPLOY_PASSWORD": "", "SOME_TOKEN": "  \n", "RADAR_MASK_VARS": "E", "E": ""}
    assert from_environment(env) == []


def test_custom_globs_replace_the_defaults():
    env = {"DB_PASSWORD": "value-of-the-secret", "MY_LICENSE": "ABCD-EFGH-IJKL"}
    assert names(from_environment(env, ["*_license"])) == ["MY_LICENSE"]


def test_file_type_variables_found_by_glob_give_the_file_content(tmp_path):
    key = tmp_path / "SSH_PRIVATE_KEY"
    key.write_bytes(PEM)
    [secret] = from_environment({"SSH_PRIVATE_KEY": str(key)})
    assert secret.value == PEM

