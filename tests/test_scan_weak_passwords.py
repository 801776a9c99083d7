"""Weak but real passwords, and the values that only look like one: cipher and algorithm names,
ciphertext and password hashes, stand-ins. A weak password is reported at low confidence."""

from __future__ import annotations

import string

import pytest
from hypothesis import given, settings, strategies as st

from radar.scan import filters, generic
from radar.scan.engine import Engine
from radar.scan.findings import FingerprintKey
from radar.scan.rules import load_default_rules

ENGINE = Engine(load_default_rules(), FingerprintKey(b"test-key"))


def reported(text: str, path: str = "config/app.yaml") -> list[tuple[str, str, tuple[str, ...]]]:
    return [(f.rule_id, f.confidence, f.tags) for f in ENGINE.scan(text, path).findings]


@pytest.mark.parametrize("text, path", [
    ('password = "hunter2" # development password', "settings.py"),
    ("password: hunter2", "config/app.yaml"),
    ("PASSWORD=Summer1", "deploy/.env"),
    ("db_pw: hunter2", "db.yaml"),
    ("service-pw: kitten4", "service.yaml"),
    ('client.pw = "hunter2"', "client.properties"),
    ('encrypted_password: "hunter2"', "db.yaml"),
    ('password = "the quick brown fox jumps over lazy dogs"', "settings.py"),
])
def test_a_weak_password_is_reported_at_low_confidence_and_tagged(text, path):
    assert reported(text, path) == [("generic-password", "low", (filters.WEAK_VALUE,))]


def test_a_random_password_keeps_its_rules_confidence():
    assert reported("password: Zf3D0LXCM3EIMbgJpUNnkRtOfOueHznB") == [("generic-password", "medium", ())]


@pytest.mark.parametrize("value", [
    "AES_256_CBC_HMAC_SHA_256", "AES/GCM", "AESWrap_256", "CAMELLIA-256-CBC", "ARIA_192_GCM", "CHACHA20-POLY1305",
    "XSALSA20-POLY1305", "DES-EDE3-CBC", "SM4-CTR", "RSA/ECB/OAEPWithSHA-256AndMGF1Padding",
    "PBEWithHmacSHA256AndAES_256", "PBES2-HS256+A128KW", "AES-256-GCM", "Blowfish", "HS512",
])
def test_cipher_and_algorithm_names_are_not_passwords(value):
    assert filters.is_algorithm_name(value)
    assert reported(f'password: "{value}"') == []


@pytest.mark.parametrize("value", ["myAES256_GCMpassword", "rsa-admin-2026", "aes4ever!", "Zf3D0LXCM3EIMbgJpUNnkRt"])
def test_a_password_that_mentions_an_algorithm_is_not_an_algorithm_name(value):
    assert not filters.is_algorithm_name(value)


@pytest.mark.parametrize("value", [
    "$ANSIBLE_VAULT;1.2;AES256;dev", "{cipher}AQB4aLongEncryptedValue", "ENC(VeryLongEncryptedPayload123==)",
    "ENC[AES256_GCM,data:XYZ,iv:ABC,tag:DEF,type:str]", "U2FsdGVkX19hbG90b2ZjaXBoZXJ0ZXh0",
    "vault:v1:AbCdEfGhIjKlMnOpQrStUvWxYz012345", "$argon2id$v=19$m=65536,t=3,p=4$YWJj$ZGVm",
    "SCRAM-SHA-512$4096:c2FsdA==$c3RvcmVkOnNlcnZlcg==", "$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW",
    "$6$rounds=5000$saltsalt$Yq0dVzZ1", "md5" + "0123456789abcdef" * 2,
])
def test_ciphertext_and_password_hashes_are_not_passwords(value):
    assert filters.is_encrypted(value)
    assert reported(f"password: '{value}'") == []


@pytest.mark.parametrize("text", [
    "password: PASSWORD", "password: your_password", "database_pw = undefined",
    "password: process.env.PASSWORD", 'password: "Please enter your password"', "password: Mot de passe",
    "password: 12345678", "password: v1.2.3", "password_file: /run/secrets/db_password", "password: letmein",
    'encrypted_password: "' + "Qk9QxT2v" * 4 + '"', "token: hunter2", "api_key: kitten4",
])
def test_stand_ins_and_non_password_names_are_not_weak_passwords(text):
    assert reported(text) == []


@pytest.mark.parametrize("text, path", [
    ('smtp.login(username, "hunter2")', "mail.py"),
    ("service.log_in(account, 'correct horse battery staple')", "client.py"),
    ('await page.signIn(email, "Kq8!vR2x")', "e2e.ts"),
])
def test_a_password_passed_to_a_login_call_is_reported_at_low_confidence(text, path):
    assert reported(text, path) == [("login-call-password", "low", ())]


@pytest.mark.parametrize("text", [
    'ldap.bind(user, "hunter2")', 'log.in(user, "hunter2")', 'log-in(user, "hunter2")', 'login(user, "PASSWD")',
    'client.authenticate(user, "password1")', "smtp.login(user, password)",
])
def test_other_calls_and_stand_ins_are_not_login_passwords(text):
    assert reported(text, "mail.py") == []


_alphabet = string.ascii_letters + string.digits + "!#%&*-_/+.=$@ "


@settings(max_examples=400, deadline=None)
@given(value=st.text(_alphabet, min_size=1, max_size=80))
def test_property_a_weak_password_is_never_a_filtered_value_or_under_a_non_password_name(value):
    if generic.weak_password("password", value):
        assert not (filters.is_placeholder(value) or filters.is_identifier(value) or filters.is_encrypted(value)
                    or filters.is_algorithm_name(value) or value.isdigit())
    assert not generic.weak_password("api_key", value)
    assert not generic.weak_password("password_hash", value)


@settings(max_examples=300, deadline=None)
@given(pieces=st.lists(st.sampled_from(["AES", "256", "GCM", "CBC", "SHA", "HMAC", "RSA", "OAEP", "With", "And",
                                         "PKCS5Padding", "ECB", "CHACHA20", "POLY1305", "128"]), min_size=1, max_size=6),
       sep=st.sampled_from(["-", "_", "/", ""]))
def test_property_any_join_of_algorithm_words_with_a_cipher_is_an_algorithm_name(pieces, sep):
    value = sep.join(pieces)
    if any(p in ("AES", "SHA", "HMAC", "RSA", "CHACHA20") for p in pieces) and len(value) <= 64:
        assert filters.is_algorithm_name(value)
