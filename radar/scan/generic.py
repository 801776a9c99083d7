"""Generic detection: a secret-like name assigned a value that looks random.

`assignment_pattern(names)` builds the expression for a generic rule from its names. It covers
`NAME=value` (.env, shell, properties, INI, Dockerfile `ENV`/`ARG`), `NAME: value` (YAML),
`"NAME": "value"` (JSON), `NAME = "value"` (Python, Terraform, TOML), `NAME := "value"` (Go),
`'NAME' => 'value'` (PHP, Ruby), `ENV NAME value` and `<NAME>value</NAME>` (XML). The key may
carry more words (`DB_PASSWORD`, `stripeApiKey`). A command line's `--NAME value` is not one of
them: `-` is a key character, so a key never starts right after `--` (command lines are the
rules of commands.toml).

`judge(key, value, rule)` then decides, without the expression's help, whether the name really
names a secret (`password_file`, `token_url` and `author` do not) and whether the value could be
one: not a reference or placeholder, not code, not a path, a UUID or a number, and random enough
(entropy and character classes).
"""

from __future__ import annotations

import math
from bisect import bisect_left

import regex

from radar.scan import compiled, filters
from radar.scan.prefilter import literal

_KEY_CHARS = r"[\w.-]"
# Secret words, as whole segments of a snake_/kebab-/camelCase name.
SECRET_SEGMENTS = frozenset({
    "password", "passwd", "pwd", "pass", "passphrase", "passcode", "secret", "token", "apikey",
    "accesskey", "secretkey", "privatekey", "authtoken", "accesstoken", "refreshtoken", "auth",
    "credential", "credentials", "creds", "clientsecret", "apitoken", "authkey", "apisecret",
    "secretid", "pat", "bearer", "sas", "pw", "psw", "passwort", "contrasena", "senha", "motdepasse",
})
# The segments that name a password: what a person types, so a weak value is still one.
PASSWORD_SEGMENTS = frozenset({
    "password", "passwd", "pwd", "pass", "passphrase", "passcode", "pw", "psw", "passwort", "contrasena",
    "senha", "motdepasse",
})
# Two consecutive segments that name a key (`api_key`, `private-key`, `signingKey`).
SECRET_PAIRS = frozenset({
    ("api", "key"), ("access", "key"), ("secret", "key"), ("private", "key"), ("auth", "key"),
    ("signing", "key"), ("encryption", "key"), ("master", "key"), ("account", "key"),
    ("shared", "key"), ("app", "key"), ("license", "key"), ("client", "key"), ("service", "key"),
    ("admin", "key"), ("subscription", "key"), ("sas", "key"), ("storage", "key"), ("api", "secret"),
    ("routing", "key"), ("integration", "key"), ("ingest", "key"), ("write", "key"),
})
# Keys that providers publish on purpose (client-side code): a value with one of these prefixes is
# not a leak, whatever its name says.
PUBLISHABLE_PREFIXES = ("pk_live_", "pk_test_", "phc_", "pk.eyJ", "sb_publishable_", "rzp_live_", "rzp_test_")
# A name ending in one of these describes a secret without holding it (password_file, token_url).
NON_SECRET_TAILS = frozenset({
    "url", "uri", "urls", "endpoint", "host", "hostname", "port", "path", "file", "filename", "dir",
    "directory", "name", "names", "type", "types", "length", "len", "size", "count", "policy",
    "mode", "format", "header", "headers", "field", "prefix", "suffix", "id", "ids", "ttl",
    "expiry", "expires", "expiration", "timeout", "enabled", "required", "regex", "pattern",
    "label", "description", "hint", "version", "env", "var", "variable", "provider", "method",
    "scheme", "strategy", "store", "manager", "service", "class", "factory", "handler", "validator",
    "param", "parameter", "min", "max", "limit", "rule", "rules", "reset", "changed", "updated",
    "at", "date", "time", "source", "location", "ref", "arn", "placeholder", "arg", "option",
    "key", "index", "style", "char", "chars", "input", "form", "field", "column", "table", "mask",
    "generator", "encoder", "decoder", "algorithm", "alg", "cost", "rounds", "iterations", "salt",
    "storage", "backend", "config", "settings", "path", "level", "kind", "usage", "box", "dialog",
    "prompt", "label", "text", "message", "error", "errors", "callback", "response", "request",
    "list", "map", "lifetime", "duration", "interval", "seconds", "minutes", "hours", "days",
    "ms", "schema", "spec", "template", "command", "cmd", "script",
})
# A name with one of these anywhere holds a digest, not a secret (password_hash, token_sha256).
HASH_SEGMENTS = frozenset({
    "hash", "hashed", "sha", "sha1", "sha256", "sha512", "md5", "digest", "checksum", "integrity",
    "fingerprint", "crc", "hmac", "nonce", "salt", "encrypted", "enc", "cipher", "ciphertext",
})

_CAMEL = compiled.pattern(r"(?<=[a-z0-9])(?=[A-Z])")
_SPLIT = compiled.pattern(r"[_.\-:\s]+")
_UUID = compiled.pattern(r"(?i)^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_WORDS = compiled.pattern(r"^[A-Za-z]+(?:[-_ .][A-Za-z]+)+$|^[a-z]+(?:[A-Z][a-z]+)+$|^(?:[A-Z][a-z]+){2,}$")
# File paths: a drive or UNC prefix, a file name with a key-ish extension, or a rooted path of
# lower-case segments (`/run/secrets/db_password`); base64 secrets may start with `/` but mix cases.
_PATH = compiled.pattern(
    r"^(?:[A-Za-z]:\\|\\\\)|\.(?:pem|key|crt|cer|p12|pfx|json|ya?ml|txt|env|ini|cfg|conf|toml|xml|properties|js|py|sh|log|gpg|asc|jks|keystore)$"
    r"|^(?:~|\.{1,2})?/[a-z0-9_.@-]+(?:/[a-z0-9_.@-]*)*$"
)
_VERSION = compiled.pattern(r"^v?\d+(?:\.\d+){1,3}(?:[-+][\w.]+)?$")


# What may close a key before its operator: a quote, a bracket, or both (`os.environ["X"] = `).
CLOSE = r"(?:[\"'`]\]?|\])?"
# Assignment operators: `=`, `:` (YAML, JSON), `:=` (Go), `=>` (PHP, Ruby, logstash), Makefile's
# `::=`, `:::=`, `?=` and `+=`, PHP's `.=` and `??=`, and the comparisons `==`/`!=` that tests
# and configuration checks write secrets into.
OPERATOR = r"(?:[=!]=|:{1,3}=|[?+.]=|\?\?=|=>|[:=])"
# A lookup and the operator that falls back from it to a literal.
FALLBACK = r"[\w.$]{1,80}(?:\([^()\n]{0,80}\)|\[[^\[\]\n]{1,80}\])?[ \t]*(?:\|\||\?\?|\bor\b)[ \t]*"
# The type between a name and `=` in a typed declaration (Go, Kotlin, Swift, Rust, TypeScript).
TYPED = r"(?:[ \t]*:)?[ \t]+(?:[Ss]tring|str|&str|&'static[ \t]+str)"


def assignment_pattern(names: tuple[str, ...], value: str | None = None) -> str:
    """The expression for a name assigned a value. Without `value` (generic rules) any value of
    6-256 characters is taken and `judge` decides; with it (a provider rule that gives `names` and
    `value`, for a format without a prefix of its own) the value must match `value` whole, in every
    form a generic value can take, and nothing but the format decides."""
    # `api_key` also matches apiKey, api-key, api.key and APIKEY.
    words = "|".join(
        r"[_.-]?".join(regex.escape(part) for part in n.replace("-", "_").split("_")) if n.strip("_-") == n
        else regex.escape(n)
        for n in sorted(names, key=len, reverse=True)
    )
    key = rf"(?<!{_KEY_CHARS})(?P<key>{_KEY_CHARS}{{0,40}}?(?i:{words}){_KEY_CHARS}{{0,40}})"
    if value is None:
        quoted = r"""(?:"(?P<secret>[^"\\\r\n]{6,256})"|'(?P<secret>[^'\\\r\n]{6,256})'|`(?P<secret>[^`\r\n]{6,256})`)"""
        # A bare value ends at an escape (`\n`, `\"`): it sits in a string that holds a file
        # (`{"config.ini": "TOKEN=value\nDEBUG=1"}`).
        bare = r"""(?P<secret>(?:[^\s"'`,;<>(){}\[\]|\\]|\\(?![nrt"'\\])){6,256})"""
        element = r"(?P<secret>[^<>\s]{6,256})"
        either = rf"(?:{quoted}|{bare})"
    else:
        # The format is the whole value: quoted, the same quote closes it; bare, it ends where a
        # bare value would. One copy of the format per form, with a conditional on the quote:
        # a provider rule's expression compiles in a third of the time (it is compiled in every
        # worker process, for each rule a scan wakes).
        quoted = rf"""(?P<q>["'`])(?P<secret>{value})(?P=q)"""
        either = rf"""(?P<q>["'`])?(?P<secret>{value})(?(q)(?P=q)|(?![^\s"'`,;<>(){{}}\[\]|\\]))"""
        element = rf"(?P<secret>{value})"
    return (
        rf"<{key}(?:\s[^<>]*)?>\s*{element}\s*</"
        rf"|(?m:^)[ \t]*(?i:ENV)[ \t]+{key}[ \t]+{either}[ \t]*(?m:$)"
        # The key once, then what may follow it (matching the key is most of the cost: one key
        # per alternative doubled a directory scan's time). In order: a typed declaration
        # (`var apiToken string = "..."`, `val apiToken: String = "..."`), before the plain form,
        # which would take `: String` for a YAML key and its value; a literal as the fallback of a
        # lookup (`process.env.X || "..."`, `ENV["X"] ?? "..."`, `getenv("X") or "..."`), before the
        # plain form, which would take the lookup for the value; the plain form.
        rf"|{key}(?:{TYPED}[ \t]*=[ \t]*{quoted}"
        rf"|{CLOSE}[ \t]*{OPERATOR}[ \t]*(?:{FALLBACK}{quoted}|(?:@|!!str[ \t]+)?{either}))"
        # A name and a value passed to a call (`System.setProperty("X_TOKEN", "...")`,
        # `map.put("password", "...")`, `os.Setenv("X_TOKEN", "...")`): both quoted, the name
        # the call's first argument (a list of quoted words is not a call: `{'A', 'B'}`).
        rf"|(?<=\([ \t]*[\"']){key}[\"'][ \t]*,[ \t]*{quoted}"
    )


# Where a match of `assignment_pattern` can begin, for `assignment_starts`. The key is a whole run
# of key characters: its look-behind rules out a key character before it, and every form goes on
# with one that is not a key character. So a match begins at the start of the run that holds a
# name, if an operator follows the run (`NAME=`, `"NAME": `, `NAME :=`, `NAME =>`); at the `<`
# just before the run (XML); or at the start of an `ENV` line. The name lies within KEY_REACH
# characters of either end of the run.
KEY_REACH = 40
_KEY_RUN_BEFORE = compiled.pattern(rf"{_KEY_CHARS}*", regex.REVERSE)
_KEY_CHAR = compiled.pattern(_KEY_CHARS)
# The rest of the key after a name, then an operator.
_OPERATOR_AFTER_NAME = compiled.pattern(
    rf"{_KEY_CHARS}{{0,{KEY_REACH}}}(?:{CLOSE}[ \t]*(?:[:=]|[!?+.]=|\?\?=)|[\"'`][ \t]*,|{TYPED}[ \t]*=)")
_ENV_LINE = compiled.pattern(r"[ \t]*(?i:ENV)[ \t]")
_KEY_RUN_AFTER = compiled.pattern(rf"{_KEY_CHARS}{{0,{KEY_REACH + 1}}}")
# The non-ASCII characters that the expression's case-insensitive names match to ASCII letters
# (İ to i, ſ to s, the Kelvin sign to k): where they occur, a name can hide from the keyword index.
_FOLDED_TO_ASCII = ("\u0130", "\u017f", "\u212a")


def name_spellings(name: str) -> tuple[str, ...]:
    """Every spelling of `name` that `assignment_pattern` accepts, lower-case (`api_key`: 4)."""
    if name.strip("_-") != name:
        return (name.lower(),)
    spellings = [""]
    for i, part in enumerate(name.replace("-", "_").split("_")):
        joins = ("",) if i == 0 else ("", "_", ".", "-")
        spellings = [s + j + part.lower() for s in spellings for j in joins]
    return tuple(spellings)


def assignment_starts(text: str, name_ends: list[int], longest: int) -> list[int]:
    """The offsets, in order, where `assignment_pattern`'s expression can match, given the last
    character of every occurrence of a name in `text` (names at most `longest` characters).

    Running the expression only there finds exactly what a search of the whole line finds, for a
    fraction of the cost: a search tries the expression's four forms, and the key's 40-character
    reach, at every character of the line. The caller searches whole the non-ASCII lines where
    `starts_suffice` says a name can escape the ASCII keyword index.
    """
    starts: set[int] = set()
    reach = KEY_REACH + longest
    line = 0
    line_end = -1  # names before line_end are on the line starting at `line`
    env: regex.Match[str] | None = None
    for end in name_ends:
        if end >= line_end:
            # Once per line, not per name: a line can hold a million names.
            line = text.rfind("\n", 0, end) + 1
            line_end = text.find("\n", end)
            if line_end < 0:
                line_end = len(text)
            env = _ENV_LINE.match(text, line, line_end)
        # Every search has an end bound: without one the regex module first looks for the
        # expression's literals through the rest of the text. The cheap tests come first: most
        # names are mentioned, not assigned.
        operator = _OPERATOR_AFTER_NAME.match(text, end + 1, line_end) is not None
        low = max(0, end + 1 - reach)
        if operator or text.rfind("<", max(0, low - 1), end) >= 0:
            run = _KEY_RUN_BEFORE.match(text, low, end + 1).start()
            if run == low and low and _KEY_CHAR.match(text, low - 1, low):
                continue  # the run begins too far back for this name to be part of its key
            if operator:
                starts.add(run)
            if run and text[run - 1] == "<":
                starts.add(run - 1)
        if env is not None and env.end() <= end:  # the line's `ENV ` comes before this name
            starts.add(line)
    return sorted(starts)


# The same starts from Hyperscan (`prefilter.KeywordIndex` patterns), for `reported_starts`: one
# expression per form, each matching where that form can, ending on an ASCII character.
START_FORMS = ("operator", "tag", "env")
# Any length of key, not KEY_REACH at most: `reported_starts` bounds the walk back itself and
# passes over a run too long to be a key, so the few more hits change no finding, while the
# ~390 bounded repeats took Hyperscan 0.33 s more to compile (0.73 against 0.40 s for all patterns).
_HS_KEY = r"[\w.\-]*"


def start_patterns(spellings: tuple[str, ...]) -> tuple[str, str, str]:
    """Hyperscan expressions for START_FORMS: a name, the rest of its key and an operator (the
    hit is the operator); `<` and a key up to a name; an `ENV` line's key up to a name."""
    names = "|".join(literal(s) for s in sorted(spellings, key=len, reverse=True))
    return (
        rf"(?i)(?:{names}){_HS_KEY}(?:(?:[\"'`]\]?|\])?[ \t]*(?:[:=]|[!?+.]=|\?\?=)|[\"'`][ \t]*,"
        rf"|(?:[ \t]*:)?[ \t]+(?:string|str|&str|&'static[ \t]+str)[ \t]*=)",
        rf"(?i)<{_HS_KEY}(?:{names})",
        rf"(?i)^[ \t]*ENV[ \t]+{_HS_KEY}(?:{names})",
    )


_CALL_BEFORE = compiled.pattern(r"\([ \t]*[\"']", regex.REVERSE)
_BEFORE_OPERATOR = frozenset(" \t:=!?+.,\"'`]")
# A type right before where the walk back from `=` stopped (`apiToken: String`), read backwards.
_TYPE_BEFORE = compiled.pattern(r"(?:[ \t]*:)?[ \t]+(?:[Ss]tring|str|&str|&'static[ \t]+str)", regex.REVERSE)


def reported_starts(text: str, reports: list[tuple[int, int]], longest: int) -> list[int]:
    """`assignment_starts` (or a few more offsets, where the expression then fails) from the hits
    of `start_patterns`: (offset of the match's last character, index in START_FORMS)."""
    starts: set[int] = set()
    reach = KEY_REACH + longest
    line_start = line_end = 0  # the `ENV` line found last: [line_start, line_end)
    for last, form in reports:
        if form == 0:
            # Back from the operator's last character over the operator, blanks, a closing quote
            # or bracket (or a call's comma) to the end of the key's run; in a typed declaration
            # also over the type. Eating a `.` of the key changes nothing: the run goes on.
            end = last
            while end and text[end - 1] in _BEFORE_OPERATOR:
                end -= 1
            ends = [end]
            typed = _TYPE_BEFORE.match(text, max(0, end - 32), end)
            if typed is not None:
                ends.append(typed.start())
            for end in ends:
                low = max(0, end - reach - KEY_REACH)
                run = _KEY_RUN_BEFORE.match(text, low, end).start()
                if run == low and low and _KEY_CHAR.match(text, low - 1, low):
                    continue  # the run is too long to be a key
                # A comma ends only the call form, which needs `(` and a quote before the name:
                # quoted names in a list (`["token", "secret"]`) are everywhere in code.
                if text[last] == "," and _CALL_BEFORE.match(text, max(0, run - 16), run) is None:
                    continue
                starts.add(run)
        elif form == 1:
            tag = text.rfind("<", max(0, last - reach), last)
            if tag >= 0:
                starts.add(tag)
        elif not line_start <= last < line_end:
            # Every name in an `ENV` line's key reports the line (a 2 MB line of names, 250,000
            # times), so its bounds are looked for once per line: cost stays linear in the text.
            line_start = text.rfind("\n", 0, last) + 1
            line_end = text.find("\n", last)
            line_end = len(text) if line_end < 0 else line_end
            starts.add(line_start)
    return sorted(starts)


def starts_suffice(text: str, start: int, stop: int, name_ends: list[int], longest: int) -> bool:
    """Whether the starts found from ASCII keyword hits (and Hyperscan's ASCII view of words) are
    all the places where the expression can match in `text[start:stop]`, which holds the names
    ending at `name_ends` and some non-ASCII character. They are, unless a character there folds
    to an ASCII letter, or the key around a name holds a non-ASCII (word) character."""
    window = text[start:stop]
    if any(c in window for c in _FOLDED_TO_ASCII):
        return False
    reach = KEY_REACH + longest
    for end in name_ends[bisect_left(name_ends, start):bisect_left(name_ends, stop)]:
        run = _KEY_RUN_BEFORE.match(text, max(start, end + 1 - reach), end + 1).start()
        run_end = _KEY_RUN_AFTER.match(text, end + 1, min(stop, end + KEY_REACH + 2)).end()
        if not text[run:run_end].isascii():
            return False
    return True


def key_segments(key: str) -> list[str]:
    key = key.strip("\"'`-$@:")
    return [s for s in _SPLIT.split(_CAMEL.sub("_", key).lower()) if s]


def names_a_secret(key: str) -> bool:
    segments = key_segments(key)
    if not segments or any(s in HASH_SEGMENTS for s in segments):
        return False
    if segments[-2:] == ["secret", "id"]:  # Vault AppRole's secret_id is the secret half
        return True
    if segments[-1] in NON_SECRET_TAILS and not _ends_with_pair(segments):
        return False
    if any(s in SECRET_SEGMENTS for s in segments):
        return True
    return any(pair in SECRET_PAIRS for pair in zip(segments, segments[1:]))


# For a provider rule that gives names: the key holds the provider's name, so it need not name a
# secret, but a key that says it holds a digest or something else than a credential does not.
NOT_A_CREDENTIAL_TAILS = frozenset({
    "url", "uri", "host", "hostname", "endpoint", "domain", "id", "ids", "name", "user", "username",
    "email", "region", "project", "org", "organization", "path", "file", "dir", "version", "model",
    "channel", "site", "account", "workspace", "team", "env", "environment", "port", "timeout",
})


def key_may_hold_credential(key: str) -> bool:
    segments = key_segments(key)
    if segments[-2:] in (["secret", "id"], ["cert", "id"]):  # Vault's secret_id, eBay's Cert ID: the secret half
        return True
    return not (any(s in HASH_SEGMENTS for s in segments) or (segments and segments[-1] in NOT_A_CREDENTIAL_TAILS))


def _ends_with_pair(segments: list[str]) -> bool:
    return len(segments) >= 2 and (segments[-2], segments[-1]) in SECRET_PAIRS


# Program source, where secrets are string literals; configuration formats (.env, YAML, INI,
# properties, shell, Dockerfile, Terraform) write values bare.
CODE_EXTENSIONS = frozenset({
    ".py", ".pyi", ".js", ".jsx", ".mjs", ".cjs", ".ts", ".tsx", ".java", ".kt", ".kts", ".scala",
    ".go", ".rb", ".php", ".cs", ".c", ".h", ".cc", ".cpp", ".hpp", ".rs", ".swift", ".m", ".lua",
    ".pl", ".pm", ".r", ".dart", ".groovy", ".ex", ".exs", ".erl", ".hs", ".ml", ".fs", ".vb", ".jl",
})


def is_code(path: str) -> bool:
    name = path.rsplit("/", 1)[-1].lower()
    return "." in name and name[name.rindex("."):] in CODE_EXTENSIONS


def looks_random(value: str, floor: float = 3.0) -> bool:
    """High enough entropy for its length, and not words, code, a path, a number or a UUID."""
    if len(value) < 8 or value.isdigit() or _UUID.match(value) or _VERSION.match(value):
        return False
    if any(c.isspace() for c in value):  # prose or a format string, not a generated secret
        return False
    if "://" in value or _PATH.search(value) or filters.is_identifier(value) or _WORDS.match(value):
        return False
    classes = sum((
        any(c.islower() for c in value), any(c.isupper() for c in value),
        any(c.isdigit() for c in value), any(not c.isalnum() for c in value),
    ))
    entropy = filters.entropy(value)
    if classes < 2 and not (len(value) >= 16 and entropy >= 3.5):
        return False
    return entropy >= min(floor, 0.8 * math.log2(len(value)))


def judge(key: str, value: str, floor: float | None, called: bool = False) -> bool:
    """True when `key = value` is worth reporting as a hardcoded secret; `called` says a `(`
    follows the value (`auth = HTTPBasicAuth(`), which makes it code if it is a name."""
    return (names_a_secret(key) and not value.startswith(PUBLISHABLE_PREFIXES)
            and not _not_a_credential(value, called)
            and looks_random(value, floor or 3.0))


def _not_a_credential(value: str, called: bool) -> bool:
    return (filters.is_placeholder(value) or filters.is_identifier(value, called) or filters.is_digest(value)
            or filters.is_encrypted(value) or filters.is_algorithm_name(value))


# A passphrase: four or more lower-case words (`correct horse battery staple`). Capitalised or
# punctuated prose is a label or a message (`Mot de passe`, `Forgot your password?`).
_ENCRYPTED_SEGMENTS = frozenset({"encrypted", "enc"})
MIN_CIPHERTEXT = 16  # base64 of the shortest authenticated ciphertext (a 12-byte nonce and a tag) is longer
_PASSPHRASE = compiled.pattern(r"[a-z]{2,}(?: [a-z]{2,}){3,}")
_LETTER = compiled.pattern(r"[^\W\d_]")
_NOT_LETTER = compiled.pattern(r"[\d\W_]")


def weak_password(key: str, value: str, called: bool = False) -> bool:
    """True when a value `judge` refused is still a password someone wrote down: the key names a
    password, and the value is a passphrase or mixes letters with digits or symbols (`hunter2`,
    `Summer2024!`), yet is none of the things judge drops (placeholders, identifiers, digests,
    ciphertext, algorithm names) nor a number, version, path or URL. People choose weak
    passwords, and a weak password in a repository is still a leak, so these are reported, at
    low confidence: the value alone cannot tell a real one from a sample."""
    segments = key_segments(key)
    if len(value) < MIN_CIPHERTEXT and any(s in _ENCRYPTED_SEGMENTS for s in segments):
        # `encrypted_password: "hunter2"`: too short to be ciphertext, so the name is wrong.
        key = "_".join(s for s in segments if s not in _ENCRYPTED_SEGMENTS)
    if not names_a_secret(key) or not any(s in PASSWORD_SEGMENTS for s in segments):
        return False
    # A value that says `password` (`password1`, `mypassword`) stands in for one.
    if value.startswith(PUBLISHABLE_PREFIXES) or _not_a_credential(value, called) or "passw" in value.lower():
        return False
    if _PASSPHRASE.fullmatch(value):
        return "your" not in value.split()
    if any(c.isspace() for c in value) or "://" in value or _PATH.search(value) or _VERSION.match(value):
        return False
    return _LETTER.search(value) is not None and _NOT_LETTER.search(value) is not None and not _WORDS.match(value)


# The name a value is assigned to, read from the text before it on its line: right before the
# value (`NAME=`, `"name": "`, `NAME := "`, `<name>`, `--name `), else the line's own assignment
# (`DATABASE_URL=postgres://user:` before a URL password). The migration plan names Vault fields
# after it; a finding without one is named after its secret type.
_NAME_BEFORE_VALUE = compiled.pattern(
    r"(?:^|[^\w.\-/@])([A-Za-z_][\w.-]{0,127})[\"']?\]?\s*(?::{1,3}=|=>|[?+.]=|\?\?=|=|:)\s*[\"'`]?(?:(?i:bearer|token|basic)\s+)?$"
    r"|--([A-Za-z][\w-]{0,127})[=\s]\s*[\"']?$"
    r"|<([A-Za-z_][\w.-]{0,127})>$"
    r"|^\s*(?:ENV|ARG)\s+([A-Za-z_]\w{0,127})\s+[\"']?$"
    # a typed declaration (`var apiToken string = "`) and a call's name (`setProperty("X", "`)
    r"|(?:^|[^\w.\-/@])([A-Za-z_][\w.-]{0,127})(?:\s*:)?\s+(?:[Ss]tring|str|&str)\s*=\s*[\"'`]?$"
    r"|\(\s*[\"']([A-Za-z_][\w.-]{0,127})[\"']\s*,\s*[\"'`]?$"
)
# Tried with `match` from a line's start: no `^`, which would not match at a position after 0.
_LINE_ASSIGNMENT = compiled.pattern(
    r"\s*(?:export\s+|set\s+)?[\"']?([A-Za-z_][\w.-]{0,127})[\"']?\s*(?::{1,3}=|=>|[?+.]=|\?\?=|=|:)"
)
NAME_CONTEXT = 256  # characters before a value in which its own assignment is looked for


def assigned_name(before: str) -> str | None:
    """The variable or key the value after `before` (the start of its line) is assigned to."""
    return assigned_name_in(before, 0, len(before), line_assignment(before, 0, len(before)))


def line_assignment(text: str, line_start: int, line_end: int) -> regex.Match[str] | None:
    """The assignment a line opens with (`export NAME=`, `key:`), for `assigned_name_in`: worked
    out once per line, not once per value on it (a line can hold a hundred thousand values)."""
    return _LINE_ASSIGNMENT.match(text, line_start, line_end)


def assigned_name_in(text: str, line_start: int, offset: int, opening: regex.Match[str] | None) -> str | None:
    """`assigned_name(text[line_start:offset])`, reading at most NAME_CONTEXT characters before
    `offset` (plus the line's opening assignment when it ends after `offset`); `opening` is
    `line_assignment` of the whole line."""
    m = _NAME_BEFORE_VALUE.search(text[max(line_start, offset - NAME_CONTEXT):offset])
    if m:
        return next(name for name in m.groups() if name)
    # The expression has no anchor or look-ahead at its end, so cutting the line short can only
    # take matches away: the whole line's match answers for `offset` unless it runs past it.
    if opening is not None and opening.end() > offset:
        opening = _LINE_ASSIGNMENT.match(text, line_start, offset)
    return opening.group(1) if opening else None
