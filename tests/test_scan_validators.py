"""Offline validators: each accepts its format's structure and rejects a broken one."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given, settings, strategies as st

from radar.scan import validators
from radar.scan.examples import expand


def _flip_last(text: str) -> str:
    last = text[-1]
    return text[:-1] + ("A" if last != "A" else "B")


def test_github_checksum_of_a_known_body():
    # CRC32("0" * 30) = 0x77E5DB82 = 2011552642, which is "2C8GjS" in base62 (0-9A-Za-z).
    assert validators.github_checksum("0" * 30) == "2C8GjS"


@pytest.mark.parametrize("prefix", ["ghp_", "gho_", "ghu_", "ghs_", "ghr_", "npm_"])
def test_github_style_token_with_a_good_checksum_validates(prefix):
    token = prefix + expand("{ghcrc:30}", prefix)
    assert validators.validate("github-crc32", token) is True


@pytest.mark.parametrize("prefix", ["ghp_", "npm_"])
def test_github_style_token_with_a_bad_checksum_fails(prefix):
    token = prefix + expand("{ghcrc:30}", prefix)
    assert validators.validate("github-crc32", _flip_last(token)) is False


def test_github_style_token_with_a_changed_body_fails():
    token = "ghp_" + expand("{ghcrc:30}", "body")
    changed = token[:4] + ("x" if token[4] != "x" else "y") + token[5:]
    assert validators.validate("github-crc32", changed) is False


def test_aws_key_id_with_an_account_in_range_validates():
    assert validators.validate("aws-key-id", "AKIA" + expand("{awskeyid}", 1)) is True


def test_aws_key_id_whose_account_bits_overflow_fails():
    # All-7 base32 decodes to all one bits: an account id above 999,999,999,999.
    assert validators.validate("aws-key-id", "AKIA" + "7" * 16) is False


def test_jwt_with_json_header_and_payload_validates():
    assert validators.validate("jwt", expand("{jwt}", 1)) is True


@pytest.mark.parametrize("token", [
    "eyJub3QganNvbg.eyJhIjoxfQ.c2lnbmF0dXJlc2lnbmF0dXJl",  # header is not JSON
    base64.urlsafe_b64encode(b'{"typ":"JWT"}').decode().rstrip("=") + ".eyJhIjoxfQ.c2lnbmF0dXJl",  # no alg
    "eyJhbGciOiJIUzI1NiJ9.eyJhIjoxfQ",  # two parts
])
def test_jwt_without_the_structure_fails(token):
    assert validators.validate("jwt", token) is False


@pytest.mark.parametrize("label", ["RSA PRIVATE KEY", "PRIVATE KEY", "EC PRIVATE KEY", "ENCRYPTED PRIVATE KEY"])
def test_pem_key_with_a_well_formed_der_body_validates(label):
    assert validators.validate("pem", expand(f"{{pem:{label}}}", label)) is True


def test_pem_key_inside_json_with_escaped_line_breaks_validates():
    assert validators.validate("pem", expand("{pemjson:PRIVATE KEY}", 2)) is True


def test_pem_key_whose_der_length_does_not_match_fails():
    body = base64.b64encode(b"\x30\x82\x04\x00" + b"\x01" * 100).decode()
    assert validators.validate("pem", f"-----BEGIN PRIVATE KEY-----\n{body}\n-----END PRIVATE KEY-----") is False


def test_openssh_key_needs_its_magic_header():
    assert validators.validate("pem", expand("{openssh}", 3)) is True
    body = base64.b64encode(b"not-openssh" + b"\x00" * 64).decode()
    assert validators.validate("pem", f"-----BEGIN OPENSSH PRIVATE KEY-----\n{body}\n-----END OPENSSH PRIVATE KEY-----") is False


def test_putty_key_validates_when_line_counts_and_mac_agree():
    key = expand("{ppk}", 4)
    assert validators.validate("ppk", key) is True
    assert validators.validate("ppk", key.replace("Private-Lines: 1", "Private-Lines: 3")) is False


def test_pypi_token_is_a_pypi_macaroon():
    assert validators.validate("pypi-macaroon", "pypi-" + expand("{pypi}", 5)) is True
    forged = base64.urlsafe_b64encode(b"\x02\x01\x08evil.org" + b"\x00" * 60).decode()
    assert validators.validate("pypi-macaroon", "pypi-" + forged) is False


def test_basic_auth_decodes_to_user_and_password():
    assert validators.validate("basic-auth", base64.b64encode(b"ci:s3cr3t-v4lue").decode()) is True
    assert validators.validate("basic-auth", base64.b64encode(b"no colon here").decode()) is False


def test_age_identity_has_a_bech32_checksum():
    key = expand("{age}", 6)
    assert validators.validate("bech32-age", key) is True
    assert validators.validate("bech32-age", key[:-1] + ("Q" if key[-1] != "Q" else "P")) is False


def test_base64_bytes_checks_the_decoded_length():
    assert validators.validate("base64-bytes:64", expand("{b64bytes:64}", 7)) is True
    assert validators.validate("base64-bytes:64", expand("{b64bytes:32}", 7)) is False


def test_unknown_validator_names_are_refused():
    assert not validators.known_validator("crc64")
    assert not validators.known_validator("base64-bytes:many")
    assert validators.known_validator("base64-bytes:32")


def _b64url(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _nested_jwt(depth: int, opener: str = "[") -> str:
    """A JWT whose claims hold arrays (`[`) or objects (`{`) nested `depth` levels deep."""
    inner = "[" * depth + "1" + "]" * depth if opener == "[" else '{"a":' * depth + "1" + "}" * depth
    header = _b64url('{"alg":"HS256"}')
    claims = _b64url('{"sub":' + inner + "}")
    return f"{header}.{claims}.S1gnatureS1gnatureS1gnature"


@pytest.mark.parametrize("opener", ["[", "{"])
def test_a_jwt_whose_claims_nest_100000_deep_fails_instead_of_crashing(opener):
    # json.loads recursed once per level and raised RecursionError out of the scan.
    assert validators.validate("jwt", _nested_jwt(100_000, opener)) is False


def test_a_scan_holding_a_deeply_nested_jwt_reports_the_rest_of_the_file():
    from radar.scan.engine import Engine
    from radar.scan.findings import FingerprintKey
    from radar.scan.rules import load_default_rules

    token = "glpat-" + expand("{b64url:20}", "nested-jwt")
    text = f"id_token: {_nested_jwt(100_000)}\nGITLAB_TOKEN={token}\n"
    findings = Engine(load_default_rules(), FingerprintKey(b"k")).scan(text, "ci.yaml").findings
    assert [f.rule_id for f in findings if not f.rule_id.startswith("generic")] == ["gitlab-personal-access-token"]


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 5000), st.sampled_from(["[", "{"]))
def test_a_jwt_with_claims_nested_to_any_depth_validates_or_fails_but_never_raises(depth, opener):
    # Real tokens nest a few levels and validate; past the parser's recursion guard (hundreds of
    # levels) the claims are malformed JSON, which fails validation like any other.
    result = validators.validate("jwt", _nested_jwt(depth, opener))
    assert result is True if depth <= 100 else isinstance(result, bool)
