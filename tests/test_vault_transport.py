"""radar's HTTP layer against Vaults that misbehave: redirects, stalls, floods, deep answers.

Each test runs `radar exec` as users do against a real listener on 127.0.0.1 (TLS with a
certificate made in the test where the case is about TLS), or a real OpenBao behind one, and
checks the guarantee: credentials go only to VAULT_SERVER_URL's origin and never in clear,
`--vault-timeout` ends the run however the server paces its bytes, and an answer too large
or too deep is one `radar: error:` line, not a flood of memory or a traceback.

Deadline tests bound radar's run generously against the deadline under test (several times
longer) and never time it closely: the bound is one a radar without a deadline for the whole
run could not meet (it waited 10 s per attempt, or for ever for a server trickling bytes).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from hypothesis import given, settings, strategies as st

from radar.vault.transport import MAX_JSON_DEPTH, AnswerTooDeep, RedirectRefused, Response, Transport
from radar_cli import WAIT
from test_vault_exec import Job, Run, assert_nothing_leaked, deploy_job, error_line
from vault_fakes import answer, forward_to, never_answer, response, stream, tls_certificate, trickle
from vault_fixtures import mint_id_token, sha256

ONE_SECRET = "DB: {vault: production/db/password@ops}\n"


@pytest.fixture
def jwt(id_token_key) -> str:
    return mint_id_token(id_token_key)


@pytest.fixture
def certificate(tmp_path):
    return tls_certificate(tmp_path / "tls")


def run_within(job: Job, bound: float, *args: str | Path, names: tuple[str, ...] = ("DB",)) -> Run:
    """Run radar, failing the test if it is still running after `bound` seconds."""
    try:
        done = subprocess.run(job.argv(*args, names=names), capture_output=True, timeout=bound,
                              env=job.env, cwd=job.tmp_path)
    except subprocess.TimeoutExpired:
        pytest.fail(f"radar was still running after {bound} s")
    return Run(done.args, done.returncode, done.stdout, done.stderr)


# --- redirects -----------------------------------------------------------------------------------

def _login_through(relay, read_answer: bytes):
    """A behaviour: the login goes on to OpenBao through `relay`; every read gets `read_answer`."""
    def behaviour(server, conn, request):
        conn.sendall(relay(request, request.target) if request.method == "POST" else read_answer)
        return True
    return behaviour


@pytest.mark.parametrize("phase", ["login", "read"])
def test_a_redirect_from_https_to_http_is_refused_and_nothing_reaches_the_http_server(
        tmp_path, bao_server, jwt, serve, certificate, phase):
    plain = serve(answer(200, b'{"auth": {"client_token": "from-the-wrong-server"}, "data": {}}'))
    location = {"Location": f"http://127.0.0.1:{plain.port}/v1/ops/data/production/db"}
    if phase == "login":
        behaviour = answer(307, b"", location)
    else:  # log in for real, then have the read redirected: the Vault token is what is at stake
        behaviour = _login_through(forward_to(bao_server.url), response(307, b"", location))
    vault = serve(behaviour, tls=certificate)
    job = Job(tmp_path, bao_server, jwt, VAULT_SERVER_URL=vault.url, VAULT_CACERT=str(certificate.ca_file))
    result = job.run("exec", "--job", "deploy", "--ci-file", deploy_job(tmp_path, ONE_SECRET), names=("DB",))
    assert result.returncode == 1
    line = error_line(result)
    assert f"to http://127.0.0.1:{plain.port}: refused" in line and "unencrypted (https to http)" in line
    assert plain.connections == 0, "radar connected to the http:// server it was redirected to"
    # after a login, radar revokes the token it got (relayed to OpenBao like the login)
    assert [(r.method, r.target) for r in vault.requests] == ([("POST", "/v1/auth/jwt/login")] if phase == "login" else [
        ("POST", "/v1/auth/jwt/login"), ("GET", "/v1/ops/data/production/db"), ("POST", "/v1/auth/token/revoke-self")])
    assert not job.report_path.exists()
    assert_nothing_leaked(result, jwt)


@pytest.mark.parametrize("elsewhere", ["another port", "another host name"])
def test_a_redirect_to_another_origin_is_refused(tmp_path, bao_server, jwt, serve, certificate, elsewhere):
    other = serve(answer(200, b'{"auth": {"client_token": "from-the-wrong-server"}}'), tls=certificate)
    vault = serve(answer(307, b"", {}), tls=certificate)  # the Location is set below, once the port is known
    target = f"https://127.0.0.1:{other.port}" if elsewhere == "another port" else f"https://localhost:{vault.port}"
    vault.behaviour = answer(307, b"", {"Location": f"{target}/v1/auth/jwt/login"})
    job = Job(tmp_path, bao_server, jwt, VAULT_SERVER_URL=vault.url, VAULT_CACERT=str(certificate.ca_file))
    result = job.run("exec", "--job", "deploy", "--ci-file", deploy_job(tmp_path, ONE_SECRET), names=("DB",))
    assert result.returncode == 1
    line = error_line(result)
    assert f"redirected POST auth/jwt/login to {target}: refused, radar sends credentials only to" in line
    # localhost is this very server: a followed redirect would have been a second request here
    assert len(vault.requests) == 1 and other.connections == 0
    assert_nothing_leaked(result, jwt)


def test_307_and_308_to_the_same_origin_are_followed_with_method_body_and_token(
        tmp_path, bao_server, jwt, serve, certificate):
    """A standby behind a load balancer: the active node's api_addr is the same origin."""
    relay = forward_to(bao_server.url)

    def standby_then_active(server, conn, request):
        path = request.target
        if path.startswith("/standby/"):
            if request.method == "POST":  # a relative Location, 307
                conn.sendall(response(307, b"", {"Location": "/active" + path.removeprefix("/standby")}))
            else:  # an absolute one, 308
                conn.sendall(response(308, b"", {"Location": f"{server.url}/active{path.removeprefix('/standby')}"}))
        else:
            conn.sendall(relay(request, path.removeprefix("/active")))
        return True

    vault = serve(standby_then_active, tls=certificate)
    job = Job(tmp_path, bao_server, jwt, VAULT_SERVER_URL=f"{vault.url}/standby", VAULT_CACERT=str(certificate.ca_file))
    result = job.run("exec", "--job", "deploy", "--ci-file", deploy_job(tmp_path, ONE_SECRET), names=("DB",))
    assert result.returncode == 0, job.explain(result)
    assert job.report()["DB"]["sha256"] == sha256(bao_server.value("ops/production/db", "password"))
    assert [(r.method, r.target) for r in vault.requests] == [
        ("POST", "/standby/v1/auth/jwt/login"), ("POST", "/active/v1/auth/jwt/login"),
        ("GET", "/standby/v1/ops/data/production/db"), ("GET", "/active/v1/ops/data/production/db"),
        ("POST", "/standby/v1/auth/token/revoke-self"), ("POST", "/active/v1/auth/token/revoke-self"),
    ]
    assert vault.requests[1].body == vault.requests[0].body  # the login's body went along


@pytest.mark.parametrize("status", [301, 302, 303])
def test_redirects_vault_never_sends_are_refused_even_to_the_same_origin(tmp_path, bao_server, jwt, serve, status):
    vault = serve(answer(status, b"", {"Location": "/v1/auth/jwt/login-moved"}))
    job = Job(tmp_path, bao_server, jwt, VAULT_SERVER_URL=vault.url)
    result = job.run("exec", "--job", "deploy", "--ci-file", deploy_job(tmp_path, ONE_SECRET), names=("DB",))
    assert result.returncode == 1
    assert f"answered POST auth/jwt/login with HTTP {status}, a redirect to {vault.url}: refused" in error_line(result)
    assert len(vault.requests) == 1


def test_redirects_in_circles_stop_after_three(tmp_path, bao_server, jwt, serve):
    vault = serve(answer(307, b"", {"Location": "/v1/auth/jwt/login"}))
    job = Job(tmp_path, bao_server, jwt, VAULT_SERVER_URL=vault.url)
    result = job.run("exec", "--job", "deploy", "--ci-file", deploy_job(tmp_path, ONE_SECRET), names=("DB",))
    assert result.returncode == 1
    assert "redirected POST auth/jwt/login more than 3 times in a row: refused" in error_line(result)
    assert len(vault.requests) == 4


@settings(max_examples=300, deadline=None)
@given(status=st.sampled_from([301, 302, 303, 307, 308]), location=st.one_of(
    st.text(max_size=80),
    st.builds(lambda scheme, host, port, path: f"{scheme}://{host}:{port}{path}",
              st.sampled_from(["http", "https", "HTTPS", "ftp", ""]),
              st.sampled_from(["vault.example.com", "VAULT.example.com", "localhost", "[::1]", "vault.example.com.",
                               "user:pw@vault.example.com", "x\u202e", "\x1b[31m"]),
              st.sampled_from(["8200", "443", "99999", "-1", "x", ""]), st.text(max_size=20)),
))
def test_a_redirect_is_followed_only_to_the_same_origin_whatever_its_location(status, location):
    transport = Transport("https://vault.example.com:8200")
    try:
        target = transport._redirect_target(status, "https://vault.example.com:8200/v1/auth/jwt/login", location)
    except RedirectRefused as refused:
        assert refused.kind in ("downgrade", "origin", "status", "location")
        assert refused.target.isprintable() and refused.target.isascii() and len(refused.target) <= 200
        return
    assert status in (307, 308)
    followed = urlsplit(target)
    assert (followed.scheme, followed.hostname, followed.port) == ("https", "vault.example.com", 8200)


# --- one deadline for everything -----------------------------------------------------------------

@pytest.mark.parametrize("where", ["http, after the request", "https, before the handshake"])
def test_a_server_that_accepts_and_never_answers_is_given_up_at_the_deadline(
        tmp_path, bao_server, jwt, serve, certificate, where):
    if where.startswith("https"):
        vault = serve(never_answer, tls=certificate, handshake=False)
        job = Job(tmp_path, bao_server, jwt, VAULT_SERVER_URL=vault.url, VAULT_CACERT=str(certificate.ca_file))
        reason = "unreachable (timed out connecting)"
    else:
        vault = serve(never_answer)
        job = Job(tmp_path, bao_server, jwt, VAULT_SERVER_URL=vault.url)
        reason = "no answer (timed out waiting for the answer)"
    result = run_within(job, 9, "exec", "--job", "deploy", "--ci-file", deploy_job(tmp_path, ONE_SECRET),
                        "--vault-timeout", "1")
    assert result.returncode == 1
    line = error_line(result)
    assert f"is unavailable: {reason}" in line and "within --vault-timeout (1 s)" in line
    assert vault.connections >= 1 and not job.report_path.exists()


@pytest.mark.parametrize("part", ["status line and headers", "body"])
def test_a_server_that_trickles_its_answer_is_given_up_at_the_deadline(tmp_path, bao_server, jwt, serve, part):
    whole = response(200, b'{"auth": {"client_token": "' + b"t" * 10_000 + b'"}}')
    head, body = whole.split(b"\r\n\r\n", 1)
    if part == "body":
        vault = serve(trickle(body, every=0.2, head=head + b"\r\n\r\n"))
    else:
        vault = serve(trickle(whole, every=0.2))
    job = Job(tmp_path, bao_server, jwt, VAULT_SERVER_URL=vault.url)
    result = run_within(job, 12, "exec", "--job", "deploy", "--ci-file", deploy_job(tmp_path, ONE_SECRET),
                        "--vault-timeout", "2")
    assert result.returncode == 1
    line = error_line(result)
    assert "is unavailable: no answer (timed out waiting for the answer)" in line and "--vault-timeout (2 s)" in line


@pytest.mark.parametrize("length", ["announced", "unannounced"])
def test_an_answer_larger_than_8_mib_is_refused_without_reading_it_all(tmp_path, bao_server, jwt, serve, length):
    total = 128 * 1024 * 1024
    headers = [b"HTTP/1.1 200 OK", b"Content-Type: application/json"]
    headers += [f"Content-Length: {total}".encode()] if length == "announced" else [b"Connection: close"]
    vault = serve(stream(b"\r\n".join(headers) + b"\r\n\r\n", total))
    job = Job(tmp_path, bao_server, jwt, VAULT_SERVER_URL=vault.url)
    result = run_within(job, WAIT, "exec", "--job", "deploy", "--ci-file", deploy_job(tmp_path, ONE_SECRET))
    assert result.returncode == 1
    assert "answered POST with more than 8 MiB" in error_line(result)
    vault.close()  # waits for the streaming thread to count what it got out
    # radar read at most 8 MiB and 1 byte; the rest that left the server sat in socket buffers
    # (about 5 MB on loopback, at most what tcp_wmem and tcp_rmem allow: tens of MB).
    assert vault.bytes_sent < total / 2, f"radar took {vault.bytes_sent} of {total} bytes"


# --- nesting -------------------------------------------------------------------------------------

def test_a_login_answer_nested_100000_deep_is_one_error_line(tmp_path, bao_server, jwt, serve):
    vault = serve(answer(200, b"[" * 100_000 + b"]" * 100_000))
    job = Job(tmp_path, bao_server, jwt, VAULT_SERVER_URL=vault.url)
    result = job.run("exec", "--job", "deploy", "--ci-file", deploy_job(tmp_path, ONE_SECRET), names=("DB",))
    assert result.returncode == 1
    assert f"answered POST with JSON nested more than {MAX_JSON_DEPTH} levels deep" in error_line(result)


def _nested(levels: int) -> object:
    value: object = "leaf"
    for _ in range(levels):
        value = {"a": value}
    return value


def test_a_json_field_as_deep_as_radar_reads_is_delivered_and_one_level_more_is_refused(tmp_path, bao_server, jwt):
    # KV v2 answers {"data": {"data": {FIELD: value}}}: three levels above the field's value.
    deepest = _nested(MAX_JSON_DEPTH - 3)
    bao_server.api("POST", "ops/data/production/deep-enough", {"data": {"doc": deepest}})
    bao_server.api("POST", "ops/data/production/too-deep", {"data": {"doc": _nested(MAX_JSON_DEPTH - 2)}})
    job = Job(tmp_path, bao_server, jwt)
    ok = job.run("exec", "--job", "deploy", "--ci-file",
                 deploy_job(tmp_path, "DOC: {vault: production/deep-enough/doc@ops}\n"), names=("DOC",))
    assert ok.returncode == 0, job.explain(ok)
    compact = json.dumps(deepest, separators=(",", ":")).encode()
    assert job.report()["DOC"]["sha256"] == sha256(compact)

    refused = job.run("exec", "--job", "deploy", "--ci-file",
                      deploy_job(tmp_path, "DOC: {vault: production/too-deep/doc@ops}\n"), names=("DOC",))
    assert refused.returncode == 1
    line = error_line(refused)
    assert f"ops/data/production/too-deep answered GET with JSON nested more than {MAX_JSON_DEPTH} levels" in line


@settings(max_examples=300, deadline=None)
@given(body=st.one_of(
    st.binary(max_size=200),
    st.text(alphabet='[]{}":,0123456789.e-tfnrule \\', max_size=300).map(str.encode),
    st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
                 lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3),
                 max_leaves=30).map(lambda v: json.dumps(v).encode()),
))
def test_any_answer_parses_or_fails_as_not_json_or_too_deep(body):
    try:
        Response(200, body).json()
    except (ValueError, AnswerTooDeep):
        pass


@settings(max_examples=60, deadline=None)
@given(depth=st.integers(min_value=0, max_value=3 * MAX_JSON_DEPTH), kind=st.sampled_from(["list", "dict", "mixed"]))
def test_an_answer_is_accepted_exactly_when_it_nests_at_most_the_limit(depth, kind):
    value: object = 1
    for level in range(depth):
        use_list = kind == "list" or (kind == "mixed" and level % 2)
        value = [0, value] if use_list else {"k": value, "n": 0}
    body = json.dumps(value).encode()
    if depth <= MAX_JSON_DEPTH:
        assert Response(200, body).json() == value
    else:
        with pytest.raises(AnswerTooDeep):
            Response(200, body).json()
