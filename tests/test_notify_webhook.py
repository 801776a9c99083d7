"""`--notify webhook=URL` against real listeners on 127.0.0.1: one POST of a JSON summary with a
Slack-compatible text, bounded, no value in it; any failure (an error status, silence past the
deadline, a redirect elsewhere, an untrusted certificate) a warning that shows the webhook's
origin only, since its path is often its token."""

from __future__ import annotations

import json
import time

import pytest

from notify_helpers import assert_no_value, planted_findings
from radar.notify.events import Event, events_from
from radar.notify.send import send
from radar.notify.targets import NotifySettings, Target, parse_target
from radar.notify.text import TEXT_EVENTS, WEBHOOK_EVENTS
from vault_fakes import ScriptedServer, answer, never_answer, tls_certificate

TOKEN_PATH = "/services/T000/B000/not-a-real-webhook-token"


def hook(server: ScriptedServer, path: str = TOKEN_PATH) -> Target:
    return parse_target(f"webhook={server.url}{path}")


@pytest.fixture
def events(tmp_path) -> tuple[Event, ...]:
    new = events_from(planted_findings(tmp_path), [])
    return new + events_from([], [(new[0].rule_id, "0" * 64, new[0].secret_type, "old/.env")])


def test_the_summary_is_one_json_post_with_a_slack_text_and_no_value(serve, events):
    server = serve(answer(200, b"ok"))
    outcome = send([hook(server, TOKEN_PATH + "?thread=1")], events, NotifySettings(subject="acme/app"))
    assert (outcome.posted, outcome.warnings, outcome.undelivered) == (1, (), 0)
    [request] = server.requests
    assert (request.method, request.target) == ("POST", TOKEN_PATH + "?thread=1")
    assert request.headers["content-type"] == "application/json"
    assert_no_value(request.body, "the webhook's body")
    body = json.loads(request.body)
    assert body["text"] == ("radar: 2 new, 1 resolved in acme/app\n"
                            "• new: GitLab access token at app/.env:1 (critical)\n"
                            "• new: GitHub token at app/.env:2 (critical)\n"
                            "• resolved: GitLab access token at old/.env (critical)")
    assert [e["place"] for e in body["new"]] == ["app/.env:1", "app/.env:2"]
    assert body["resolved"] == [events[2].as_dict()]
    assert body["omitted"] == {"new": 0, "resolved": 0}
    assert set(body["new"][0]) == {"kind", "rule_id", "fingerprint", "secret_type", "severity", "place",
                                   "remediation", "source"}


def test_a_run_without_events_posts_nothing(serve):
    server = serve(answer(200))
    assert send([hook(server)], (), NotifySettings()).posted == 0
    assert server.requests == []


def test_long_lists_are_cut_and_counted_and_the_text_names_a_few(serve, events):
    many = tuple(Event(**{**events[0].as_dict(), "fingerprint": f"{n:064x}", "place": f"f{n}:1"})  # type: ignore[arg-type]
                 for n in range(WEBHOOK_EVENTS + 50))
    server = serve(answer(204, b""))
    assert send([hook(server)], many, NotifySettings()).posted == 1
    body = json.loads(server.requests[0].body)
    assert (len(body["new"]), body["omitted"]) == (WEBHOOK_EVENTS, {"new": 50, "resolved": 0})
    lines = body["text"].split("\n")
    assert len(lines) == 1 + TEXT_EVENTS + 1 and lines[-1] == f"• … and {WEBHOOK_EVENTS + 50 - TEXT_EVENTS} more new"


def test_a_long_place_is_clipped_so_the_body_stays_bounded(serve, events):
    huge = Event(**{**events[0].as_dict(), "place": "d/" * 50_000})  # type: ignore[arg-type]
    server = serve(answer(200))
    send([hook(server)], (huge,) * 300, NotifySettings())
    assert len(server.requests[0].body) < 300_000


def test_slack_control_sequences_in_a_place_are_escaped_in_the_text(serve, events):
    hostile = Event(**{**events[0].as_dict(), "place": "<!channel> & <@U123> <https://evil|click>.env:1"})  # type: ignore[arg-type]
    server = serve(answer(200))
    send([hook(server)], (hostile,), NotifySettings())
    text = json.loads(server.requests[0].body)["text"]
    assert "<" not in text and ">" not in text
    assert "&lt;!channel&gt; &amp; &lt;@U123&gt; &lt;https://evil|click&gt;.env:1" in text


@pytest.mark.parametrize("status", [500, 404, 302])
def test_an_answer_other_than_2xx_is_a_warning_naming_the_origin_only(serve, events, status):
    server = serve(answer(status, b"{}", {"Location": "/elsewhere"} if status == 302 else None))
    outcome = send([hook(server)], events, NotifySettings())
    assert (outcome.posted, outcome.undelivered) == (0, 1)
    said = f"it answered {status}" if status != 302 else "it answered a redirect radar does not follow with a POST: 302"
    assert outcome.warnings == (f"webhook {server.url}: the summary was not posted ({said})",)
    assert outcome.exit_status(0) == 2 and outcome.exit_status(1) == 1
    assert "not-a-real-webhook-token" not in outcome.warnings[0]


def test_a_webhook_that_never_answers_is_given_up_at_the_deadline(serve, events):
    server = serve(never_answer)
    started = time.monotonic()
    outcome = send([hook(server)], events, NotifySettings(timeout=1.0))
    assert outcome.warnings == (f"webhook {server.url}: the summary was not posted (timed out waiting for the answer)",)
    assert time.monotonic() - started < 30  # a bound against hanging, not a speed measurement


def test_a_redirect_to_another_origin_is_refused_and_nothing_is_posted_there(serve, events):
    other = serve(answer(200))
    server = serve(answer(307, b"", {"Location": f"{other.url}/collect"}))
    outcome = send([hook(server)], events, NotifySettings())
    assert outcome.warnings == (f"webhook {server.url}: the summary was not posted (it redirected to {other.url}: "
                                "radar posts to the webhook's own origin only)",)
    assert other.requests == [] and other.connections == 0


def test_a_307_to_the_same_origin_is_followed_with_the_body(serve, events):
    def moved_then_ok(server, conn, request) -> bool:
        from vault_fakes import response

        conn.sendall(response(307, b"", {"Location": "/v2/hook"}) if request.target == TOKEN_PATH else response(200))
        return True

    server = serve(moved_then_ok)
    assert send([hook(server)], events, NotifySettings()).posted == 1
    assert [r.target for r in server.requests] == [TOKEN_PATH, "/v2/hook"]
    assert server.requests[0].body == server.requests[1].body


def test_https_with_a_trusted_ca_posts_and_an_untrusted_one_is_a_warning(serve, events, tmp_path, monkeypatch):
    certificate = tls_certificate(tmp_path / "tls")
    server = serve(answer(200), tls=certificate)
    untrusted = send([hook(server)], events, NotifySettings())
    assert len(untrusted.warnings) == 1 and "SSL_CERT_FILE" in untrusted.warnings[0]
    assert untrusted.warnings[0].startswith(f"webhook {server.url}: the summary was not posted (TLS: ")
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate.ca_file))
    assert send([hook(server)], events, NotifySettings()).posted == 1
    assert_no_value(server.requests[-1].body, "the webhook's body over TLS")


def test_two_webhooks_each_get_the_summary_and_one_failing_does_not_stop_the_other(serve, events):
    good, bad = serve(answer(200)), serve(answer(503))
    outcome = send([hook(bad), hook(good)], events, NotifySettings())
    assert (outcome.posted, outcome.undelivered, len(outcome.warnings)) == (1, 1, 1)
    assert len(good.requests) == 1
