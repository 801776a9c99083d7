"""Named cases for the stream masker: masking.md's examples first, then our own.

Every case runs on both engines, whole, split as given, and one byte per read.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from urllib.parse import quote, quote_plus

import pytest

from mask_helpers import byte_by_byte, mask_reads, secret_set, split_at
from radar.mask.engine import ENGINES
from radar.mask.model import Secret
from radar.mask.stream import StreamMasker

PEM = (
    b"-----BEGIN RSA PRIVATE KEY-----\n"
    b"MIIEowIBAAKCAQEAv3xJ0lWq7u1bq9y4hQ6m0y0m3rQ2tq8WQk9sFv7e6tLk1oZf\n"
    b"p0nq2v8W9c3Xy7k5Jm1u0rA4d2hY6tN8qP3wL5sZ0bC1vD2eF3gH4iJ5kK6lM7nN\n"
    b"8oO9pP0qQ1rR2sS3tT4uU5vV6wW7xX8yY9zZ==\n"
    b"-----END RSA PRIVATE KEY-----"
)
PEM_LINE = b"p0nq2v8W9c3Xy7k5Jm1u0rA4d2hY6tN8qP3wL5sZ0bC1vD2eF3gH4iJ5kK6lM7nN"

SERVICE_ACCOUNT = json.dumps(
    {
        "type": "service_account",
        "project_id": "radar-demo",
        "private_key_id": "4f1c2d9a7b6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a",
        "private_key": PEM.decode() + "\n",
        "client_email": "ci@radar-demo.iam.gserviceaccount.com",
    },
    indent=2,
).encode()


@dataclass(frozen=True)
class Case:
    name: str
    secrets: tuple[bytes, ...]
    reads: tuple[bytes, ...]
    expected: bytes
    options: dict = field(default_factory=dict)


CASES = [
    # masking.md, "Examples"
    Case("secret split before its last byte", (b"secrets",), (b"secret", b"s"), b"[MASKED]", {"min_length": 4}),
    Case("false start then the secret", (b"secrets",), (b"s", b"secrets"), b"s[MASKED]", {"min_length": 4}),
    Case("prefix recurring inside the secret", (b"aab",), (b"xaa", b"ab"), b"xa[MASKED]", {"min_length": 1}),
    Case(
        "overlapping secrets merge",
        (b"ipsum dolor", b"dolor sit"),
        (b"Lorem ipsum dolor sit amet",),
        b"Lorem [MASKED] amet",
        {"min_length": 4},
    ),
    Case("overlap keeps order", (b"abcd", b"cdef"), (b"abcdef",), b"[MASKED]", {"min_length": 4}),
    Case("base64", (b"Password123!",), (b"UGFzc3dvcmQxMjMh",), b"[MASKED]"),
    Case("percent-encoding with %20", (b"Pass word 123!",), (b"123Pass%20word%20123%21123",), b"123[MASKED]123"),
    Case("binary passes through", (b"secret-bin-1",), (b"a\xffsecret-bin-1\xfe",), b"a\xff[MASKED]\xfe"),
    Case("secret with a NUL byte", (b"abcd\x00efghij",), (b"abcd xyz abcd\x00efghij!",),
         b"abcd xyz [MASKED]!"),
    Case("secret starting with NUL bytes", (b"\x00" * 8,), (b"a" + b"\x00" * 9 + b"b",), b"a[MASKED]b"),
    Case("unregistered GitLab token", (), (b"see glpat-abcdef1234567890 now",), b"see glpat-[MASKED] now"),
    # Our own.
    Case("overlap split between reads", (b"abcd", b"cdef"), (b"ab", b"cd", b"ef"), b"[MASKED]", {"min_length": 4}),
    Case("adjacent secrets merge into one marker", (b"alpha-123", b"omega-456"), (b"[alpha-123omega-456]",), b"[[MASKED]]"),
    Case("a secret inside a longer one", (b"inner-secret", b"xx-inner-secret-yy"), (b"<xx-inner-secret-yy>",), b"<[MASKED]>"),
    Case("repeated secret", (b"hunter22",), (b"hunter22 hunter22hunter22",), b"[MASKED] [MASKED]"),
    Case("secret at end of input", (b"hunter22",), (b"value=hunter22",), b"value=[MASKED]"),
    Case("prefix of a secret at end of input is released", (b"hunter22",), (b"value=hunt",), b"value=hunt"),
    Case("carriage return is an ordinary byte", (b"hunter22",), (b"10%\r20%\rhunter22\r",), b"10%\r20%\r[MASKED]\r"),
    Case(
        "multi-byte UTF-8 secret split inside a character",
        ("пароль-секрет".encode(),),
        ("x пароль-секрет y".encode()[:5], "x пароль-секрет y".encode()[5:]),
        b"x [MASKED] y",
    ),
    Case("lower-case hex", (b"hunter22",), (b"h=68756e7465723232;",), b"h=[MASKED];"),
    Case("upper-case hex", (b"hunter22",), (b"H=68756E7465723232;",), b"H=[MASKED];"),
    Case("JSON escaping", (b'pa"ss\\word/1',), (b'{"p": "pa\\"ss\\\\word/1"}',), b'{"p": "[MASKED]"}'),
    Case("JSON escaped solidus", (b"a/b/c/d/e/f",), (b'"a\\/b\\/c\\/d\\/e\\/f"',), b'"[MASKED]"'),
    Case("JSON unicode escape", ("pässwörd-1".encode(),), (b'"p\\u00e4ssw\\u00f6rd-1"',), b'"[MASKED]"'),
    Case("percent-encoding lower-case hex", (b"Pass word 123!",), (b"u=Pass%20word%20123%21",), b"u=[MASKED]"),
    Case("percent-encoding plus for space", (b"Pass word 123!",), (b"u=Pass+word+123%21&",), b"u=[MASKED]&"),
    Case("encodeURIComponent keeps !", (b"Pass word 123!",), (b"u=Pass%20word%20123!&",), b"u=[MASKED]&"),
    Case(
        "base64 after user: in a Basic auth header",
        (b"hunter2-hunter2",),
        (b"Authorization: Basic " + base64.b64encode(b"admin:hunter2-hunter2") + b"\n",),
        b"Authorization: Basic YWRtaW46[MASKED]\n",
    ),
    Case(
        "base64 of echo output with its newline",
        (b"hunter2-hunter2",),
        (base64.b64encode(b"hunter2-hunter2\n") + b"\n",),
        b"[MASKED]\n",
    ),
    Case(
        "URL-safe base64",
        (b"\xfb\xff\xfe-binary-key",),
        (b"k=" + base64.urlsafe_b64encode(b"\xfb\xff\xfe-binary-key") + b";",),
        b"k=[MASKED];",
    ),
    Case("token body ends at other bytes", (), (b"glrt-abc_DEF.1=2-x'y",), b"glrt-[MASKED]'y"),
    Case("token open at end of input is masked", (), (b"token: glpat-abcdef",), b"token: glpat-[MASKED]"),
    Case("token prefix alone is left alone", (), (b"glpat- is a prefix",), b"glpat- is a prefix"),
    Case("token split across reads", (), (b"x glp", b"at-abc", b"def y"), b"x glpat-[MASKED] y"),
    Case("session cookie", (), (b"Cookie: _gitlab_session=abc123def456; x",), b"Cookie: _gitlab_session=[MASKED]; x"),
    Case("user-added token prefix", (), (b"use acme_live_1234abcd now",), b"use acme_live_[MASKED] now",
         {"token_prefixes": (b"acme_live_",)}),
    Case(
        "sensitive query values, any case",
        (),
        (b"GET /api?private_token=abc123&X-Amz-Signature=f00d#frag RSS_TOKEN",),
        b"GET /api?private_token=[MASKED]&X-Amz-Signature=[MASKED]#frag RSS_TOKEN",
    ),
    Case("query value ends at quote", (), (b"'https://h/x?x-amz-credential=AKIA/2024' ok",),
         b"'https://h/x?x-amz-credential=[MASKED]' ok"),
    Case("query key split across reads", (), (b"h/x?PRIVATE_TO", b"KEN=abc def"), b"h/x?PRIVATE_TOKEN=[MASKED] def"),
    Case("query value open at end", (), (b"h/x?private_token=abc",), b"h/x?private_token=[MASKED]"),
    Case("key without ? or & is text", (), (b"private_token=abc",), b"private_token=abc"),
    Case("URL password", (), (b"git clone https://user:s3cr3t@gitlab.example.com/g/p.git\n",),
         b"git clone https://user:[MASKED]@gitlab.example.com/g/p.git\n"),
    Case("URL password with an unescaped @", (), (b"postgres://app:p@ss@db:5432/x",), b"postgres://app:[MASKED]@db:5432/x"),
    Case("URL password split across reads", (), (b"redis://:pa", b"ss@cache/0",), b"redis://:[MASKED]@cache/0"),
    Case("URL without password", (), (b"https://user@host:8080/p https://host:8080/p",),
         b"https://user@host:8080/p https://host:8080/p"),
    Case(
        "PEM key with CRLF line endings",
        (PEM,),
        (b"key:\r\n" + PEM.replace(b"\n", b"\r\n") + b"\r\ndone",),
        b"key:\r\n[MASKED]\r\ndone",
    ),
    Case("PEM key printed on one line", (PEM,), (b"echo " + PEM.replace(b"\n", b" ") + b";",), b"echo [MASKED];"),
    Case("a PEM line printed alone", (PEM,), (b"line: " + PEM_LINE + b"\n",), b"line: [MASKED]\n"),
    Case("a PEM line in base64", (PEM,), (b"b64: " + base64.b64encode(PEM_LINE) + b"\n",), b"b64: [MASKED]\n"),
    Case(
        "PEM armour lines are not secrets",
        (PEM,),
        (b"-----BEGIN RSA PRIVATE KEY-----\n-----END RSA PRIVATE KEY-----\n",),
        b"-----BEGIN RSA PRIVATE KEY-----\n-----END RSA PRIVATE KEY-----\n",
    ),
    Case("whole PEM JSON-escaped", (PEM,), (b'{"k": "' + PEM.replace(b"\n", b"\\n") + b'"}',), b'{"k": "[MASKED]"}'),
    Case(
        "JSON file re-indented and masked whole",
        (SERVICE_ACCOUNT,),
        (b"cfg=" + SERVICE_ACCOUNT.replace(b"\n  ", b"\n\t") + b"\n",),
        b"cfg=[MASKED]\n",
    ),
    Case("jq -r .private_key of a service-account file", (SERVICE_ACCOUNT,), (b"$ jq\n" + PEM + b"\n$",),
         b"$ jq\n[MASKED]\n$"),
    Case("a JSON secret's secret-named value alone", (SERVICE_ACCOUNT,),
         (b"id 4f1c2d9a7b6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a\n",), b"id [MASKED]\n"),
    Case("a key's line from inside a JSON file", (SERVICE_ACCOUNT,), (b"> " + PEM_LINE + b"\n",), b"> [MASKED]\n"),
    Case("a JSON secret's ordinary values are not masked", (SERVICE_ACCOUNT,),
         (b"type service_account in radar-demo\n",), b"type service_account in radar-demo\n"),
    Case("braces of a JSON secret are never masked alone", (SERVICE_ACCOUNT,), (b"{\n}\n[1, 2]\n",), b"{\n}\n[1, 2]\n"),
    Case("bash set -x quotes a quote as '\\''", (b"it's-a-secret",), (b"+ login 'it'\\''s-a-secret'\n",),
         b"+ login '[MASKED]'\n"),
    Case("backslashes of a double-quoted shell string", (b'pa$s"w`d\\1',), (b'export P="pa\\$s\\"w\\`d\\\\1"\n',),
         b'export P="[MASKED]"\n'),
    Case("printf %q", (b"pa ss!w(rd)",), (b"run pa\\ ss\\!w\\(rd\\) now",), b"run [MASKED] now"),
    Case("printf %q backslashes a leading #", (b"#start~x-1",), (b"k=\\#start~x-1;",), b"k=[MASKED];"),
    Case("HTML, Python's html.escape", (b"p<a>ss&\"w'rd",), (b"<td>p&lt;a&gt;ss&amp;&quot;w&#x27;rd</td>",),
         b"<td>[MASKED]</td>"),
    Case("HTML, decimal quote entities", (b"p<a>ss&\"w'rd",), (b"<td>p&lt;a&gt;ss&amp;&#34;w&#39;rd</td>",),
         b"<td>[MASKED]</td>"),
    Case("HTML, PHP's &#039;", (b"it's-a-secret",), (b"<b>it&#039;s-a-secret</b>",), b"<b>[MASKED]</b>"),
    Case("XML attribute, &apos;", (b"it's-a-secret",), (b"<k v='it&apos;s-a-secret'/>",), b"<k v='[MASKED]'/>"),
    Case("XML text leaves quotes", (b"a&b<c>'d\"",), (b"<v>a&amp;b&lt;c&gt;'d\"</v>",), b"<v>[MASKED]</v>"),
    Case("space in a secret matches only a space", (b"correct horse battery",),
         (b"correct\thorse battery",), b"correct\thorse battery"),
    Case("custom marker", (b"hunter22",), (b"x hunter22 y",), b"x *** y", {"marker": b"***"}),
]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_case_as_read(case: Case, engine: str) -> None:
    secrets = secret_set(case.secrets, engine, **case.options)
    assert mask_reads(secrets, case.reads) == case.expected


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_case_one_byte_per_read(case: Case, engine: str) -> None:
    secrets = secret_set(case.secrets, engine, **case.options)
    assert mask_reads(secrets, byte_by_byte(b"".join(case.reads))) == case.expected


# Longer than Hyperscan takes a literal (16 KiB in hex), or an escaped one (a NUL byte inside).
LONG_SECRET = bytes(range(33, 127)) * 100
LONG_NUL_SECRET = (bytes(range(14, 127)) + b"\0") * 40  # one line: no CR or LF


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("secret", [LONG_SECRET, LONG_NUL_SECRET], ids=["printable", "with-NUL"])
@pytest.mark.parametrize("form", [lambda v: v, lambda v: v.hex().encode()], ids=["raw", "hex"])
def test_forms_longer_than_hyperscan_takes_are_masked(secret, form, engine) -> None:
    secrets = secret_set([secret], engine)
    data = b"x " + form(secret) + b" y " + form(secret)[:-1] + b" z"
    expected = b"x [MASKED] y " + form(secret)[:-1] + b" z"
    assert mask_reads(secrets, [data]) == expected
    assert mask_reads(secrets, split_at(data, range(997, len(data), 997))) == expected


def test_bytes_that_cannot_start_a_secret_are_written_at_once() -> None:
    masker = StreamMasker(secret_set([b"secret-value-1"]))
    assert masker.feed(b"hello wor") == b"hello wor"


def test_only_the_possible_start_of_a_secret_is_held() -> None:
    masker = StreamMasker(secret_set([b"secret-value-1"]))
    assert masker.feed(b"hello secret-val") == b"hello "
    assert masker.feed(b"ue-2") == b"secret-value-2"


def test_open_token_body_is_masked_without_holding_it() -> None:
    masker = StreamMasker(secret_set([]))
    assert masker.feed(b"t=glpat-abc") == b"t=glpat-[MASKED]"
    assert masker.feed(b"def") == b""
    assert masker.feed(b"ghi end") == b" end"


def test_url_password_waits_only_for_a_bounded_number_of_bytes() -> None:
    masker = StreamMasker(secret_set([]))
    first = masker.feed(b"https://user:" + b"p" * 600)
    assert first.startswith(b"https://user:")
    assert len(first) > 500  # not everything was held waiting for an @


@pytest.mark.parametrize("encoder", [quote, quote_plus])
def test_percent_forms_of_every_reserved_character(encoder) -> None:
    value = "a b!#$&'()*+,/:;=?@[]%~"
    secrets = secret_set([value.encode()])
    assert mask_reads(secrets, [b"<" + encoder(value, safe="").encode() + b">"]) == b"<[MASKED]>"


def test_add_mask_line_registers_and_disappears() -> None:
    secrets = secret_set([])
    out = mask_reads(secrets, [b"start\n::add-mask::late-secret-1\r\n", b"now late-secret-1 here\n"], allow_add_mask=True)
    assert out == b"start\nnow [MASKED] here\n"


def test_add_mask_split_across_reads() -> None:
    secrets = secret_set([])
    out = mask_reads(secrets, byte_by_byte(b"::add-mask::late-secret-1\nlate-secret-1\n"), allow_add_mask=True)
    assert out == b"[MASKED]\n"


def test_add_mask_only_at_line_start_and_only_when_allowed() -> None:
    line = b"x ::add-mask::late-secret-1\n::add-mask::other-secret-2\n"
    assert mask_reads(secret_set([]), [line]) == line
    # Only the second line registers (and vanishes); the first is ordinary text.
    assert mask_reads(secret_set([]), [line], allow_add_mask=True) == b"x ::add-mask::late-secret-1\n"


def test_add_mask_short_value_is_refused_by_source_not_value() -> None:
    secrets = secret_set([])
    out = mask_reads(secrets, [b"::add-mask::tiny-1\ntiny-1\n"], allow_add_mask=True)
    assert out == b"tiny-1\n"
    assert [r.source for r in secrets.refused] == ["::add-mask:: line 1 of the stream"]
    assert all("tiny-1" not in r.reason for r in secrets.refused)


def test_secret_added_while_streaming_is_masked_from_then_on() -> None:
    secrets = secret_set([])
    masker = StreamMasker(secrets)
    assert masker.feed(b"a late-secret-9 ") == b"a late-secret-9 "
    secrets.add(Secret(b"late-secret-9", "vault"))
    assert masker.feed(b"b late-secret-9\n") + masker.finish() == b"b [MASKED]\n"


@pytest.mark.parametrize("width", [76, 64])
def test_wrapped_base64_of_a_key_is_masked_line_by_line(width: int) -> None:
    encoded = base64.b64encode(PEM + b"\n")
    wrapped = b"\n".join(encoded[i : i + width] for i in range(0, len(encoded), width)) + b"\n"
    out = mask_reads(secret_set([PEM]), [wrapped])
    # Every line is masked, the last one too however short (the END armour's tail).
    assert [line for line in out.split(b"\n") if line and line != b"[MASKED]"] == []
