"""False-positive filters: what a candidate value or its surroundings say about it.

Two outcomes. Values that cannot be a live credential (template references, placeholders such as
`changeme` or `xxxx`, providers' documented example keys; for the generic rules also code
identifiers, `is_identifier`) are dropped. Places where credentials
are usually fake or harmless (test fixtures, lock files, minified code) and values that read like
samples are kept but ranked lower: confidence `low` and a tag saying why, as Vault Radar does, so
a reviewer can still see them.
"""

from __future__ import annotations

import math
import posixpath
from collections import Counter

import regex

from radar.scan import compiled

TEST_FIXTURE = "test-fixture"
LOCK_FILE = "lock-file"
MINIFIED = "minified"
PLACEHOLDER_LIKE = "placeholder-like"
WEAK_VALUE = "weak-value"
VALIDATION_FAILED = "validation-failed"
VALIDATED = "validated"

# Keys that AWS and others print in their documentation; they must never raise an alarm.
DOCUMENTED_EXAMPLES = frozenset({
    "AKIAIOSFODNN7EXAMPLE",
    "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "AKIAI44QH8DHBEXAMPLE",
    "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY",
    "ASIAIOSFODNN7EXAMPLE",
})

_PLACEHOLDER_WORDS = compiled.pattern(
    r"""(?ix)
    example | placeholder | redacted | changeme | change[_-]me | changeit
    | your[_\-\s]?(?:own[_\-\s]?)?(?:api[_\-\s]?)?(?:key|token|secret|password|pass)
    | (?:key|token|secret|password)[_\-\s]?here | insert[_\-\s]?(?:your|key|token|secret)
    | replace[_\-\s]?(?:me|this|with) | enter[_\-\s]?your | \bdummy\b | not[_\-\s]?a[_\-\s]?real | goes[_\-\s]?here
    | x{4,} | \*{3,} | \.{3,} | _{4,} | \#{4,} | -{6,}
    | 1234567890 | abcdefgh | qwerty | abc123(?:def|$)
    """
)
_REFERENCE = compiled.pattern(
    r"""(?x)
    \$\{ | \$\( | \{\{ | \}\} | %\( | \#\{ | <% | ^\$[A-Za-z_]
    | ^%[A-Za-z_][A-Za-z0-9_]*%$ | ^<[^<>]+>$ | ^\[[^\[\]]+\]$ | process\.env | os\.environ | getenv
    | ENV\[ | \bsecrets\. | ^vault: | ^ref\+ | ^!vault | @Value\( | ^\{[A-Za-z_][A-Za-z0-9_]*\}$
    """
)
# Values too common to be anyone's secret: defaults and stand-ins people type in examples.
TRIVIAL_VALUES = frozenset({
    "password", "passw0rd", "pass", "secret", "guest", "admin", "root", "test", "user", "default",
    "postgres", "mysql", "redis", "token", "changeit", "letmein", "welcome", "example", "demo",
    "username", "sa", "123456", "12345678", "foo", "bar", "baz", "qwerty",
})
_RUN = compiled.pattern(r"([A-Za-z0-9])\1{7,}")
_SAMPLE_WORDS = compiled.pattern(r"(?i)sample|fake|mock|dummy|lorem|foobar")

_TEST_DIRS = frozenset({
    "test", "tests", "__tests__", "spec", "specs", "fixture", "fixtures", "testdata", "test_data",
    "test-data", "mocks", "__mocks__", "testing", "e2e",
})
_TEST_FILE = compiled.pattern(
    r"(?i)^(?:test_.*\.py|.*_test\.(?:py|go|rb|exs?)|.*\.(?:test|spec)\.[jt]sx?|.*Tests?\.(?:java|kt|cs|scala)|conftest\.py)$"
)
LOCK_FILES = frozenset({
    "package-lock.json", "npm-shrinkwrap.json", "yarn.lock", "pnpm-lock.yaml", "poetry.lock",
    "pipfile.lock", "cargo.lock", "go.sum", "composer.lock", "gemfile.lock", "podfile.lock",
    "pubspec.lock", "mix.lock", "packages.lock.json", "uv.lock", "pdm.lock", "bun.lock",
    "flake.lock", "gradle.lockfile", "conda-lock.yml",
})
_MINIFIABLE = (".js", ".mjs", ".cjs", ".css", ".json", ".map", ".html")


def entropy(value: str) -> float:
    """Shannon entropy in bits per character."""
    if not value:
        return 0.0
    n = len(value)
    return -sum(c / n * math.log2(c / n) for c in Counter(value).values())


# A digest written with its algorithm (`sha256:<hex>`, an OCI image digest or a pinned checksum;
# `sha384-<base64>`, a subresource-integrity value): what a file hashes to, never a credential.
_ALGORITHM_DIGEST = compiled.pattern(
    r"(?i)^(?:sha(?:1|224|256|384|512)|sha3-(?:256|512)|md5|blake2[bs]?|blake3)[:=-]"
    r"(?:[0-9a-f]{32,128}|[A-Za-z0-9+/]{43,88}={0,2})$"
)


def is_digest(value: str) -> bool:
    return _ALGORITHM_DIGEST.match(value) is not None


# A value stored encrypted or hashed, by the tool that wrote it: what it protects is elsewhere (the
# key, the vault password), so the value itself is safe in a repository. Ansible Vault, Spring Cloud
# Config's `{cipher}`, Jasypt's `ENC(...)`, SOPS's `ENC[AES256_GCM,...]`, `openssl enc` output
# (base64 of `Salted__`), Vault transit ciphertext, crypt(3) and PHC hashes (`$2b$`, `$6$`,
# `$argon2id$`), and PostgreSQL's SCRAM and md5 verifiers.
_ENCRYPTED = compiled.pattern(
    r"^(?:\$ANSIBLE_VAULT;|\{cipher\}|ENC\(.*\)$|ENC\[[A-Z0-9_]+,|U2FsdGVkX1|vault:v\d+:"
    r"|\$(?:1|2[abxy]?|5|6|y|gy|7|argon2(?:id|i|d)|scrypt|pbkdf2(?:-sha\d+)?|bcrypt(?:-sha256)?)\$"
    r"|SCRAM-SHA-(?:1|256|512)\$|md5[0-9a-f]{32}$)"
)


def is_encrypted(value: str) -> bool:
    return _ENCRYPTED.match(value) is not None


# Names of ciphers, modes, paddings, MACs and JOSE algorithms: what a setting called `password` or
# `secret` sometimes holds (`encryption_password_algorithm` cut short, a JCE transformation), never
# a credential. A value is such a name when every piece of it, split at `-_/+` and at case changes,
# is one of these words or a number, and one of them names a cipher or a hash.
_ALGORITHM_WORDS = (
    r"aes|des|ede3?|3des|tripledes|rsa|dsa|ecdsa|ecdh|ecdhe|ecies|ed25519|ed448|x25519|dh|dhe|rc[245]|idea"
    r"|cast5?|blowfish|twofish|serpent|camellia|aria|seed|sm[234]|chacha(?:20)?|x?salsa(?:20)?|xchacha(?:20)?"
    r"|poly(?:1305)?|sha(?:3)?|md[45]|ripemd|blake2[bs]?|blake3|hmac|cmac|gmac|pbe|pbes2?|pbkdf2?|hkdf|kdf"
    r"|scrypt|bcrypt|argon2(?:id|i|d)?|gcm|cbc|ecb|cfb\d*|ofb|ctr|ccm|xts|ocb|siv|kw|wrap|oaep|pss|mgf1?"
    r"|pkcs\d*|padding|nopadding|with|and|hs|rs|es|ps|a|dir|aead|cipher|tls|ssl|v\d+"
)
_ALGORITHM_PIECE = compiled.pattern(rf"(?i:{_ALGORITHM_WORDS}|\d+)+")
_CIPHER_WORD = compiled.pattern(
    r"(?i)aes|des|rsa|ecdsa|ecdh|ed25519|rc[245]|blowfish|twofish|camellia|aria|sm4|chacha|salsa|sha|md5"
    r"|hmac|pbe|pbkdf|argon2|scrypt|bcrypt|hs256|hs384|hs512|a\d{3}(?:kw|gcm)"
)
_PIECES = compiled.pattern(r"[A-Z]{2,}(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+\d*|\d+")


def is_algorithm_name(value: str) -> bool:
    """`AES-256-GCM`, `RSA/ECB/OAEPWithSHA-256AndMGF1Padding`, `PBES2-HS256+A128KW`."""
    if len(value) > 64 or _CIPHER_WORD.search(value) is None:
        return False
    for part in regex.split(r"[-_/+. ]+", value):
        if part and any(_ALGORITHM_PIECE.fullmatch(piece) is None for piece in _PIECES.findall(part)):
            return False
        if part and "".join(_PIECES.findall(part)) != part:
            return False
    return True


# Hosts reserved for documentation (RFC 2606): `example.com`, `example.net`, `example.org` and
# their subdomains, and the `.example` top-level domain.
_DOCUMENTATION_HOST = compiled.pattern(r"(?i)(?:^|\.)(?:example\.(?:com|net|org)|example)\.?$")


def is_documentation_host(hosts: str) -> bool:
    """Every host of a URL's authority (`a.example.com:5432,b.example.net`) is a documentation one."""
    names = [h.rsplit(":", 1)[0] if h.count(":") == 1 else h for h in hosts.split(",")]
    return all(_DOCUMENTATION_HOST.search(n) for n in names if n) and any(names)


def is_placeholder(value: str) -> bool:
    """The value is a template reference, a documented example or a stand-in, never a secret."""
    return (
        value in DOCUMENTED_EXAMPLES
        or value.lower() in TRIVIAL_VALUES
        or _PLACEHOLDER_WORDS.search(value) is not None
        or _REFERENCE.search(value) is not None
        or _mostly_one_character(value)
        or _made_up(value)
    )


# An identifier's shape: names of letters, digits, `_` and `$` (not starting with a digit), joined
# by dots.
_IDENTIFIER_SHAPE = compiled.pattern(r"[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*", regex.ASCII)
_ONE_CASE = compiled.pattern(r"[a-z_]+|[A-Z_]+")
# Words as names are made of: capitalised (`Basic`), lower case (`get`), and an acronym of 2-5
# capitals before them (`HTTPBasicAuth`, `JSONDecoder`) or alone.
_CAPITALISED_WORDS = compiled.pattern(r"(?:[A-Z]{1,5}(?=[A-Z][a-z])|[A-Z][a-z]|[a-z]{2,})?(?:[A-Z][a-z]{2,})+")
_LOWER_WORD = compiled.pattern(r"[A-Z]?[a-z]+")
_VOWEL = compiled.pattern(r"(?i)[aeiouy]")
_CONSONANT_RUN = compiled.pattern(r"(?i)[b-df-hj-np-tv-xz]{5}")
# Words without a vowel that names are made of: abbreviations programmers write.
VOWELLESS_WORDS = frozenset({
    "mgr", "svc", "ctx", "cfg", "msg", "src", "dst", "pwd", "btn", "str", "cls", "cmd", "crt", "csr",
    "ptr", "tbl", "lst", "txt", "http", "sql", "xml", "rpc", "dns", "tcp", "ssl", "tls", "jwt", "html",
    "ftp", "smtp", "xhr", "rgb", "pkcs", "hmac", "ssh", "sftp", "cdn", "crl", "nfs", "kms", "cnt",
})
_DIGIT_RUN = compiled.pattern(r"\d+")
# A called name may hold a version or a size (`OAuth2Session(`, `S3Client(`); generated secrets
# scatter digits through the letters (`Xk9qL2mPz8RtVw3N`: four runs).
MAX_CALLED_DIGIT_RUNS = 2


def is_identifier(value: str, called: bool = False) -> bool:
    """The value is code that names something (a variable, attribute, class or function), not a
    literal; `called` says a `(` follows it (`HTTPBasicAuth(`, `getpass(`).

    Where the line is drawn. Only values with an identifier's shape qualify, and then one of:
    - dots join names (`settings.SECRET_KEY`, `os.environ.get`): no generator writes them;
    - one case of letters and `_` (`getpass`, `SECRET_KEY`);
    - a call with at most MAX_CALLED_DIGIT_RUNS runs of digits (`HTTPDigestAuth(`, `S3Client(`):
      the `(` says code, the digits rule out `Xk9qL2mPz8RtVw3N(`;
    - capitalised words of 3+ letters, after an acronym or a lower-case word (`HTTPBasicAuth`,
      `MyClass`, `getPassword`), no digits, every word with a vowel (or a known abbreviation,
      `Http`, `Mgr`) and no five consonants in a row. Random mixed case breaks this at once: a
      capital followed by fewer than two lower-case letters, or a word like `Xqzt`.
    Entropy and length draw no line: `HTTPDigestAuth` is as varied as a 14-character password.
    Provider formats never ask: their prefixes and lengths already say what the value is.
    """
    if _IDENTIFIER_SHAPE.fullmatch(value) is None:
        return False
    if "." in value or _ONE_CASE.fullmatch(value):
        return True
    if called:
        return len(_DIGIT_RUN.findall(value)) <= MAX_CALLED_DIGIT_RUNS
    if _CAPITALISED_WORDS.fullmatch(value) is None:
        return False
    return all((_VOWEL.search(w) and not _CONSONANT_RUN.search(w)) or w.lower() in VOWELLESS_WORDS
               for w in _LOWER_WORD.findall(value))


# Values a person typed to fill a format: `aaaaaaaaaa1111111111bbbbbbbbbb2222222222`,
# `GR1348941123123123123123123`, `sk-lf-00000000-0000-0000-0000-000000000000`, and stand-ins that
# end in `_short` (`AstraCS:short`). A generated key holds a periodic run of 12 characters (`123`
# four times) by chance about once in 10^9, and is not mostly runs of one character. Only values up to MADE_UP_REACH are asked: keys and
# certificates in PEM or OpenSSH form are longer and hold runs of `A` from their zero bytes.
MADE_UP_REACH = 100
_PERIODIC = compiled.pattern(r"(.{1,4}?)\1+")
_STAND_IN_END = compiled.pattern(r"(?i)[_:!.-](?:short|invalid|fake)$")


def _made_up(value: str) -> bool:
    if len(value) > MADE_UP_REACH:
        return False
    if _STAND_IN_END.search(value):
        return True
    # Runs of one character count when together they make most of the value; a pattern of 2-4
    # characters counts once it repeats to 12.
    runs = [m.group(0) for m in _PERIODIC.finditer(value)]
    single = sum(len(r) for r in runs if len(r) >= 4 and len(set(r)) == 1)
    return single >= 0.6 * len(value) or any(len(r) >= 12 and len(set(r)) > 1 for r in runs)


def _mostly_one_character(value: str) -> bool:
    """`glpat-xxxxxxxxxxxxxxxxxxxx`, `AKIA0000000000000000`: a run of 8+ covering 30 % of the value."""
    return any(len(m.group(0)) >= 0.3 * len(value) for m in _RUN.finditer(value))


def looks_like_sample(value: str) -> bool:
    return _SAMPLE_WORDS.search(value) is not None


def path_tags(path: str) -> tuple[str, ...]:
    """Tags that a file's path alone gives its findings."""
    parts = path.replace("\\", "/").split("/")
    name = parts[-1]
    tags = []
    if any(p.lower() in _TEST_DIRS for p in parts[:-1]) or _TEST_FILE.match(name):
        tags.append(TEST_FIXTURE)
    if name.lower() in LOCK_FILES:
        tags.append(LOCK_FILE)
    if ".min." in name.lower():
        tags.append(MINIFIED)
    return tuple(tags)


def is_minified(path: str, text: str) -> bool:
    """Bundled or minified code: a JS/CSS-like file whose lines average over 300 characters."""
    if not posixpath.basename(path).lower().endswith(_MINIFIABLE) or len(text) < 1000:
        return False
    return len(text) / (text.count("\n") + 1) > 300
