"""Files that are credentials by what they are: a PKCS#12 keystore (`.p12`, `.pfx`) is reported
once, at line 1, in directory and history scans, with the secret never in the output."""

from __future__ import annotations

import datetime
import json

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

from git_repo import Repo
from radar_cli import assert_absent, clean_env, radar

ENV = clean_env(RADAR_FINGERPRINT_KEY="test-key")


def keystore() -> bytes:
    """A real PKCS#12 file: a new EC key and a self-signed certificate, password-protected."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "radar test")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now)
            .not_valid_after(now + datetime.timedelta(days=1)).sign(key, hashes.SHA256()))
    return pkcs12.serialize_key_and_certificates(
        b"client", key, cert, None, serialization.BestAvailableEncryption(b"keystore-pass"))


def findings(result) -> list[tuple[str, int, str, str]]:
    assert result.returncode in (0, 1), result.stderr.decode()
    return sorted((f["path"], f["line"], f["rule_id"], f["confidence"]) for f in json.loads(result.stdout)["findings"])


def test_a_keystore_in_a_directory_is_one_finding_at_line_1_and_its_bytes_never_printed(tmp_path):
    data = keystore()
    (tmp_path / "certs").mkdir()
    (tmp_path / "certs" / "client.p12").write_bytes(data)
    (tmp_path / "certs" / "Server.PFX").write_bytes(data)
    (tmp_path / "notes.p12.txt").write_text("not a keystore\n")
    result = radar("scan", tmp_path, "--format", "json", env=ENV)
    assert findings(result) == [("certs/Server.PFX", 1, "pkcs12-file", "medium"),
                                ("certs/client.p12", 1, "pkcs12-file", "medium")]
    assert_absent([data[:32].hex(), data.decode("latin-1")], result.stdout, result.stderr)


def test_a_file_only_named_like_a_keystore_is_reported_at_low_confidence(tmp_path):
    (tmp_path / "empty.p12").write_text("\n")
    result = radar("scan", tmp_path, "--format", "json", env=ENV)
    assert findings(result) == [("empty.p12", 1, "pkcs12-file", "low")]


def test_a_keystore_deleted_from_history_is_still_found(tmp_path):
    repo = Repo(tmp_path / "repo")
    repo.commit("add the client keystore", **{"deploy__client.pfx": keystore()})
    repo.commit("remove it", **{"README.md": "nothing here\n"})
    repo.git("rm", "-q", "deploy/client.pfx")
    repo.commit("really remove it")
    result = radar("scan", repo.path, "--history", "--format", "json", env=ENV)
    assert result.returncode == 1, result.stderr.decode()
    found = json.loads(result.stdout)["findings"]
    assert [(f["rule_id"], sorted(loc["path"] for loc in f["locations"]), f["in_head"]) for f in found] == [
        ("pkcs12-file", ["deploy/client.pfx"], False)]


def test_the_rule_can_be_disabled_by_its_id(tmp_path):
    (tmp_path / "client.p12").write_bytes(keystore())
    (tmp_path / ".radar.toml").write_text('disable = ["pkcs12-file"]\n')
    result = radar("scan", tmp_path, "--format", "json", env=ENV)
    assert findings(result) == []
