"""The fingerprint key (radar.scan.findings.FingerprintKey): where it comes from, the key id that
names it in baselines and reports, and the warning a CI job gets when it has to make a fresh one."""

from __future__ import annotations

import string

import pytest

from radar.scan.findings import FingerprintKey, FingerprintKeyError

KEY = FingerprintKey(b"test-key")
OTHER_KEY = FingerprintKey(b"another-key")


def test_the_key_id_names_the_key_and_nothing_else():
    assert KEY.key_id == FingerprintKey(b"test-key", "elsewhere").key_id
    assert KEY.key_id != OTHER_KEY.key_id
    assert len(KEY.key_id) == 12 and set(KEY.key_id) <= set(string.hexdigits.lower())
    # No value's fingerprint begins with it: a scanned file cannot make radar print the key id.
    assert not KEY.fingerprint("radar key id").startswith(KEY.key_id)
    assert not KEY.fingerprint("\udcffradar key id").startswith(KEY.key_id)


def test_a_key_file_holds_the_same_key_as_the_variable(tmp_path):
    (tmp_path / "key").write_text("  a-long-random-key\n")
    from_file = FingerprintKey.load({"RADAR_FINGERPRINT_KEY_FILE": str(tmp_path / "key")})
    from_variable = FingerprintKey.load({"RADAR_FINGERPRINT_KEY": "a-long-random-key"})
    assert from_file.fingerprint("v") == from_variable.fingerprint("v")
    assert from_file.key_id == from_variable.key_id


def test_an_empty_key_file_is_refused(tmp_path):
    (tmp_path / "key").write_text("\n")
    with pytest.raises(FingerprintKeyError, match=r"is empty; put a long random key in it"):
        FingerprintKey.load({"RADAR_FINGERPRINT_KEY_FILE": str(tmp_path / "key")})


@pytest.mark.parametrize("ci", [{"CI": "true"}, {"GITLAB_CI": "true"}, {"CI": "1"}])
def test_a_fresh_key_in_ci_warns_once_and_an_existing_one_does_not(tmp_path, ci):
    environ = {"XDG_CONFIG_HOME": str(tmp_path), **ci}
    fresh = FingerprintKey.load(environ)
    [warning] = fresh.warnings(environ)
    assert warning.startswith(f"created a new fingerprint key in {tmp_path}/radar/fingerprint.key: ")
    assert "set RADAR_FINGERPRINT_KEY" in warning
    again = FingerprintKey.load(environ)
    assert again.key == fresh.key and again.warnings(environ) == ()


@pytest.mark.parametrize("environ", [{}, {"CI": "false"}, {"CI": ""}])
def test_a_fresh_key_outside_ci_is_said_nothing_about(tmp_path, environ):
    environ = {"XDG_CONFIG_HOME": str(tmp_path), **environ}
    key = FingerprintKey.load(environ)
    assert key.created and key.warnings(environ) == ()
