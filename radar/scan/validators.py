"""Offline checks of a candidate's internal structure: checksums, encodings, embedded JSON.

A validator looks only at the matched value and never calls a provider. It answers True (the
structure holds: confidence becomes high), False (it does not: the value is most likely made up
or mistyped, so confidence becomes low) or None (it cannot tell). Rules name validators in their
`validator` field; `base64-bytes:N` takes its argument after the colon.
"""

from __future__ import annotations

import base64
import binascii
import string
from typing import Callable

import regex

from radar import json_input
from radar.scan import compiled

BASE62 = string.digits + string.ascii_uppercase + string.ascii_lowercase
_BECH32 = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_PEM = compiled.pattern(
    r"-----BEGIN (?P<label>[A-Z0-9 ]+)-----(?P<body>.*?)-----END (?P=label)-----", regex.DOTALL
)


def github_checksum(body: str) -> str:
    """GitHub's (and npm's) token checksum: CRC32 of the random part, in 6 base62 digits."""
    n = binascii.crc32(body.encode("ascii"))
    digits = ""
    while n:
        n, r = divmod(n, 62)
        digits = BASE62[r] + digits
    return digits.rjust(6, "0")


def _github_crc32(value: str) -> bool:
    # ghp_/gho_/ghu_/ghs_/ghr_/npm_: a 4-character prefix, 30 random characters, 6 of checksum.
    body = value[4:]
    return len(body) > 6 and body.isalnum() and github_checksum(body[:-6]) == body[-6:]


def _aws_key_id(value: str) -> bool:
    # The 16 base32 characters after the 4-letter prefix decode to 10 bytes whose first 6 hold
    # the 12-digit account id in bits 7..46.
    try:
        raw = base64.b32decode(value[4:20])
    except binascii.Error:
        return False
    account = (int.from_bytes(raw[:6], "big") & 0x7FFFFFFFFF80) >> 7
    return account < 10**12


def _b64decode(text: str, urlsafe: bool = False) -> bytes | None:
    text = "".join(text.split())
    text += "=" * (-len(text) % 4)
    try:
        if urlsafe:
            return base64.urlsafe_b64decode(text)
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None


def _jwt(value: str) -> bool:
    parts = value.split(".")
    if len(parts) != 3:
        return False
    try:
        header = json_input.loads(_b64decode(parts[0], urlsafe=True) or b"")
        payload = json_input.loads(_b64decode(parts[1], urlsafe=True) or b"")
    except (ValueError, UnicodeDecodeError):
        return False
    return isinstance(header, dict) and "alg" in header and isinstance(payload, dict)


def _der_sequence(raw: bytes) -> bool:
    """True when `raw` is one DER SEQUENCE whose declared length is the data's length."""
    if len(raw) < 2 or raw[0] != 0x30:
        return False
    first = raw[1]
    if first < 0x80:
        return len(raw) == 2 + first
    count = first & 0x7F
    if not 1 <= count <= 3 or len(raw) < 2 + count:
        return False
    return len(raw) == 2 + count + int.from_bytes(raw[2 : 2 + count], "big")


def _pem(value: str) -> bool:
    text = value.replace("\\r", "").replace("\\n", "\n")
    m = _PEM.search(text)
    if not m:
        return False
    body = m.group("body")
    if ":" in body:  # legacy encrypted keys carry Proc-Type/DEK-Info headers before the data
        body = body.split("\n\n", 1)[-1]
    raw = _b64decode(body)
    if raw is None:
        return False
    label = m.group("label")
    if label == "OPENSSH PRIVATE KEY":
        return raw.startswith(b"openssh-key-v1\x00")
    if "PGP" in label:
        return len(raw) > 32
    return _der_sequence(raw)


def _ppk(value: str) -> bool:
    lines = value.replace("\r", "").split("\n")
    fields: dict[str, str] = {}
    i = 0
    while i < len(lines):
        key, _, rest = lines[i].partition(": ")
        if key in ("Public-Lines", "Private-Lines"):
            if not rest.strip().isdigit():
                return False
            n = int(rest)
            block = lines[i + 1 : i + 1 + n]
            if len(block) != n or _b64decode("".join(block)) is None:
                return False
            fields[key] = "".join(block)
            i += n + 1
            continue
        if rest:
            fields[key] = rest.strip()
        i += 1
    mac = fields.get("Private-MAC", "")
    return ("Public-Lines" in fields and "Private-Lines" in fields
            and len(mac) in (40, 64) and all(c in string.hexdigits for c in mac))


def _pypi_macaroon(value: str) -> bool:
    raw = _b64decode(value.split("-", 1)[-1], urlsafe=True)
    return raw is not None and raw[:2] == b"\x02\x01" and raw[3 : 3 + raw[2]] in (b"pypi.org", b"test.pypi.org")


def _basic_auth(value: str) -> bool:
    raw = _b64decode(value)
    if raw is None:
        return False
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    user, sep, password = text.partition(":")
    return bool(sep and password and text.isprintable())


def _bech32_polymod(values: list[int]) -> int:
    generator = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)
    chk = 1
    for v in values:
        top = chk >> 25
        chk = (chk & 0x1FFFFFF) << 5 ^ v
        for i in range(5):
            chk ^= generator[i] if (top >> i) & 1 else 0
    return chk


def _hrp_expand(hrp: str) -> list[int]:
    return [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]


def _to_5bit(data: bytes) -> list[int]:
    acc, bits, out = 0, 0, []
    for byte in data:
        acc = (acc << 8) | byte
        bits += 8
        while bits >= 5:
            bits -= 5
            out.append((acc >> bits) & 31)
    if bits:
        out.append((acc << (5 - bits)) & 31)
    return out


def bech32_encode(hrp: str, data: bytes) -> str:
    """BIP-173 bech32, the encoding of age's `AGE-SECRET-KEY-1...` identities."""
    values = _to_5bit(data)
    polymod = _bech32_polymod(_hrp_expand(hrp) + values + [0] * 6) ^ 1
    checksum = [(polymod >> 5 * (5 - i)) & 31 for i in range(6)]
    return hrp + "1" + "".join(_BECH32[v] for v in values + checksum)


def _bech32_age(value: str) -> bool:
    text = value.lower()
    hrp, sep, data = text.rpartition("1")
    if not sep or any(c not in _BECH32 for c in data):
        return False
    return _bech32_polymod(_hrp_expand(hrp) + [_BECH32.index(c) for c in data]) == 1


def _base64_bytes(value: str, argument: str) -> bool:
    raw = _b64decode(value)
    return raw is not None and len(raw) == int(argument)


_VALIDATORS: dict[str, Callable[[str], bool]] = {
    "github-crc32": _github_crc32,
    "aws-key-id": _aws_key_id,
    "jwt": _jwt,
    "pem": _pem,
    "ppk": _ppk,
    "pypi-macaroon": _pypi_macaroon,
    "basic-auth": _basic_auth,
    "bech32-age": _bech32_age,
}
_PARAMETRISED: dict[str, Callable[[str, str], bool]] = {"base64-bytes": _base64_bytes}


def known_validator(name: str) -> bool:
    base, _, argument = name.partition(":")
    if base in _PARAMETRISED:
        return argument.isdigit()
    return name in _VALIDATORS


def validate(name: str, value: str) -> bool | None:
    base, _, argument = name.partition(":")
    try:
        if base in _PARAMETRISED:
            return _PARAMETRISED[base](value, argument)
        return _VALIDATORS[name](value)
    except (ValueError, IndexError):
        return None
