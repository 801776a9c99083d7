"""Files that are credentials by what they are, not by a value in their text.

A PKCS#12 keystore (`.p12`, `.pfx`) holds a private key and its certificate chain: committing one
commits the key, whatever its password (keystore passwords are often empty, `changeit`, or in
the same repository). Its content is binary, so no text rule could see it; its name says what it
is. Each such file gets one finding, at line 1, in directory, `--staged` and history scans (the
check runs on every unit's path, before the binary test that skips other binary files).

Confidence: `medium` when the bytes start as DER does (a SEQUENCE, 0x30), as a PKCS#12 file does;
`low` when only the name says so (an empty file, text, or a file misnamed).
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from typing import Iterable

from radar.scan.findings import REDACTED, Finding, FingerprintKey, Origin


@dataclass(frozen=True)
class CredentialFile:
    rule_id: str
    description: str
    secret_type: str
    extensions: tuple[str, ...]  # lower-case, with the dot
    docs: str
    severity: str


CREDENTIAL_FILES = (
    CredentialFile("pkcs12-file", "PKCS#12 keystore (private key and certificates) committed as a file",
                   "PKCS#12 keystore", (".p12", ".pfx"),
                   "https://datatracker.ietf.org/doc/html/rfc7292", "high"),
)
CREDENTIAL_FILE_IDS = tuple(c.rule_id for c in CREDENTIAL_FILES)
_EXTENSIONS = tuple(e for c in CREDENTIAL_FILES for e in c.extensions)
_DER_SEQUENCE = 0x30


def credential_file_finding(path: str, data: bytes, origin: Origin, key: FingerprintKey,
                            disabled: Iterable[str] = ()) -> Finding | None:
    """The finding for a file whose name makes it a credential, or None. Cost: one `endswith`
    for the files that are not (this runs on every file a scan reads)."""
    if not path[-8:].lower().endswith(_EXTENSIONS):
        return None
    extension = posixpath.splitext(path)[1].lower()
    kind = next((c for c in CREDENTIAL_FILES if extension in c.extensions), None)
    if kind is None or kind.rule_id in frozenset(disabled):
        return None
    confidence = "medium" if data[:1] == bytes([_DER_SEQUENCE]) else "low"
    return Finding(
        rule_id=kind.rule_id, secret_type=kind.secret_type, description=kind.description,
        severity=kind.severity, confidence=confidence, path=path, line=1, column=1, end_line=1, end_column=1,
        # The file is the secret: its fingerprint is its content's, so a copy elsewhere matches.
        fingerprint=key.fingerprint(data.decode("latin-1")), preview=REDACTED, origin=origin,
    )
