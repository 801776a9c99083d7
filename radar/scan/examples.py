"""Expands the example templates of rule files into synthetic credentials, deterministically.

Rule files keep their true-positive examples as templates rather than literal tokens, so that the
repository holds no string that looks like a live credential to a push-protection scanner, and
so the corpus generator can mint any number of fresh values per type. `expand(template, seed)`
replaces each `{name}` or `{name:arg}` with random text drawn from `random.Random(seed)`:

    {alnum:N} {alpha:N} {lower:N} {upper:N} {digits:N} {hex:N} {HEX:N} {lowernum:N} {uppernum:N}
    {b64:N} {b64url:N} {base32:N} {lowerbase32:N}     N characters of that alphabet
    {b64bytes:N}                                       standard base64 of N random bytes
    {uuid} {UUID}                                      a random version-4 UUID
    {ghcrc:N}                                          N base62 characters and their CRC32 suffix
    {awskeyid}                                         16 base32 characters with a valid account
    {pem:LABEL} {pemjson:LABEL}                        a PEM block (JSON-escaped line breaks)
    {openssh} {ppk} {pgp}                              private key files
    {jwt} {basic} {pypi} {testpypi} {age}              structured tokens
    {{ and }}                                          literal braces

Any other `{NAME}` is left as written, so examples can show `${PASSWORD}` as they are.
"""

from __future__ import annotations

import base64
import json
import random
import string
import textwrap
import uuid as uuid_module

import regex

from radar.scan import validators

_ALPHABETS = {
    "alnum": string.ascii_letters + string.digits,
    "alpha": string.ascii_letters,
    "lower": string.ascii_lowercase,
    "upper": string.ascii_uppercase,
    "digits": string.digits,
    "hex": "0123456789abcdef",
    "HEX": "0123456789ABCDEF",
    "lowernum": string.ascii_lowercase + string.digits,
    "uppernum": string.ascii_uppercase + string.digits,
    "b64": string.ascii_letters + string.digits + "+/",
    "b64url": string.ascii_letters + string.digits + "-_",
    "base32": string.ascii_uppercase + "234567",
    "lowerbase32": string.ascii_lowercase + "234567",
}
_PLACEHOLDER = regex.compile(r"\{\{|\}\}|\{([A-Za-z0-9]+)(?::([^{}]*))?\}")
_DER_SIZES = {"EC PRIVATE KEY": 119, "PRIVATE KEY": 1214, "ENCRYPTED PRIVATE KEY": 1298,
              "RSA PRIVATE KEY": 1188, "DSA PRIVATE KEY": 443}


# Generators whose output length grows with their N (base64 of N bytes, N characters and a checksum).
_COUNTED = ("b64bytes", "ghcrc")


class TemplateError(ValueError):
    pass


class TemplateTooLong(TemplateError):
    """The expansion would pass the `max_length` the caller gave."""


def expand(template: str, seed: object, max_length: int | None = None) -> str:
    """The template with its placeholders filled; with `max_length`, a TemplateError rather than
    more text than that (`{alnum:99999999999}` in a file radar did not write must not exhaust memory)."""
    rng = random.Random(str(seed))
    made = 0

    def replace(m: regex.Match[str]) -> str:
        nonlocal made
        if m.group(0) == "{{":
            return "{"
        if m.group(0) == "}}":
            return "}"
        name, arg = m.group(1), m.group(2)
        if max_length is not None and (name in _ALPHABETS or name in _COUNTED):
            made += _count(name, arg)  # checked before a run of N characters is made
            if made > max_length:
                raise TemplateTooLong(f"expands to over {max_length:,} characters")
        text = _generate(rng, name, arg)
        if max_length is not None and name not in _ALPHABETS and name not in _COUNTED:
            made += len(text)  # the fixed-size generators: at most a few KB each
            if made > max_length:
                raise TemplateTooLong(f"expands to over {max_length:,} characters")
        return text

    return _PLACEHOLDER.sub(replace, template)


def _generate(rng: random.Random, name: str, arg: str | None) -> str:
    if name in _ALPHABETS:
        return _chars(rng, _ALPHABETS[name], _count(name, arg))
    if name == "b64bytes":
        return base64.b64encode(rng.randbytes(_count(name, arg))).decode()
    if name in ("uuid", "UUID"):
        value = str(uuid_module.UUID(int=rng.getrandbits(128), version=4))
        return value.upper() if name == "UUID" else value
    if name == "ghcrc":
        body = _chars(rng, validators.BASE62, _count(name, arg))
        return body + validators.github_checksum(body)
    if name == "awskeyid":
        return _aws_key_id_body(rng)
    if name in ("pem", "pemjson"):
        pem = _pem(rng, arg or "PRIVATE KEY")
        return pem.replace("\n", "\\n") if name == "pemjson" else pem
    if name == "openssh":
        return _armor("OPENSSH PRIVATE KEY", b"openssh-key-v1\x00" + rng.randbytes(384), 70)
    if name == "ppk":
        return _ppk(rng)
    if name == "pgp":
        body = base64.b64encode(b"\x95\x03\xc6" + rng.randbytes(900)).decode()
        lines = "\n".join(textwrap.wrap(body, 64))
        return f"-----BEGIN PGP PRIVATE KEY BLOCK-----\n\n{lines}\n-----END PGP PRIVATE KEY BLOCK-----"
    if name == "jwt":
        return _jwt(rng)
    if name == "basic":
        user = _chars(rng, _ALPHABETS["lower"], 8)
        password = _chars(rng, _ALPHABETS["alnum"], 18)
        return base64.b64encode(f"{user}:{password}".encode()).decode()
    if name in ("pypi", "testpypi"):
        location = b"pypi.org" if name == "pypi" else b"test.pypi.org"
        raw = b"\x02\x01" + bytes([len(location)]) + location + b"\x02\x01\x00\x02\x1e" + rng.randbytes(150)
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")
    if name == "age":
        return validators.bech32_encode("age-secret-key-", rng.randbytes(32)).upper()
    # Not a generator: template syntax of the example itself (`${PASSWORD}`), kept as written.
    return "{" + name + (":" + arg if arg is not None else "") + "}"


def _count(name: str, arg: str | None) -> int:
    if not arg or not (arg.isascii() and arg.isdigit()):  # `{alnum:²}`: isdigit() alone takes it
        raise TemplateError(f"{{{name}:N}} needs a length")
    return int(arg)


def _chars(rng: random.Random, alphabet: str, n: int) -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


def _aws_key_id_body(rng: random.Random) -> str:
    # The first 6 bytes carry the account id in bits 7..46 (see validators.aws_key_id).
    account = rng.randrange(10**11, 10**12)
    head = ((account << 7) | rng.getrandbits(7)).to_bytes(6, "big")
    return base64.b32encode(head + rng.randbytes(4)).decode()


def _der(rng: random.Random, size: int) -> bytes:
    if size < 128:
        return bytes([0x30, size]) + rng.randbytes(size)
    return bytes([0x30, 0x82]) + size.to_bytes(2, "big") + rng.randbytes(size)


def _pem(rng: random.Random, label: str) -> str:
    return _armor(label, _der(rng, _DER_SIZES.get(label, 1188)), 64)


def _armor(label: str, payload: bytes, width: int) -> str:
    lines = "\n".join(textwrap.wrap(base64.b64encode(payload).decode(), width))
    return f"-----BEGIN {label}-----\n{lines}\n-----END {label}-----"


def _ppk(rng: random.Random) -> str:
    public = textwrap.wrap(base64.b64encode(b"\x00\x00\x00\x0bssh-ed25519" + rng.randbytes(36)).decode(), 64)
    private = textwrap.wrap(base64.b64encode(b"\x00\x00\x00\x20" + rng.randbytes(32)).decode(), 64)
    return "\n".join([
        "PuTTY-User-Key-File-3: ssh-ed25519",
        "Encryption: none",
        f"Comment: eddsa-key-2024{rng.randrange(1000, 9999)}",
        f"Public-Lines: {len(public)}", *public,
        f"Private-Lines: {len(private)}", *private,
        f"Private-MAC: {_chars(rng, _ALPHABETS['hex'], 64)}",
    ])


def _jwt(rng: random.Random) -> str:
    def part(obj: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj, separators=(",", ":")).encode()).decode().rstrip("=")

    header = part({"alg": "HS256", "typ": "JWT"})
    payload = part({
        "sub": _chars(rng, _ALPHABETS["digits"], 10),
        "name": _chars(rng, _ALPHABETS["lower"], 7),
        "iat": rng.randrange(1_600_000_000, 1_800_000_000),
        "scope": "deploy",
    })
    return f"{header}.{payload}.{_chars(rng, _ALPHABETS['b64url'], 43)}"
