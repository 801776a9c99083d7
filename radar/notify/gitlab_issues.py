"""GitLab issues for findings: one issue per finding (rule id + fingerprint), kept in step with the
monitoring runs, through GitLab's documented REST API (https://docs.gitlab.com/api/issues/,
https://docs.gitlab.com/api/notes/).

- A new finding: its issue is looked up by its marker label (`radar::` and 16 hex digits of the
  fingerprint, `GET /projects/:id/issues?labels=..&state=all`) and the hidden marker line of its
  description (the exact rule and fingerprint). None: one is created (`POST /projects/:id/issues`)
  with the user's label and the marker label, which GitLab creates on first use. Open: a note
  says radar still finds it. Closed: it is reopened (`PUT .. state_event=reopen`) with a note.
- A resolved finding: its open issue gets a note and is closed (`PUT .. state_event=close`).

Requests go through radar's python-gitlab client (`radar.scan.sources.gitlab.connect`: its
timeout, TLS and proxy settings from the environment, 429 and 5xx retried after Retry-After),
with fewer retries than a scan uses: a notification must not hold the job up for minutes.
GitLab's answers are untrusted: each is read up to MAX_ANSWER_BYTES, parsed with
`radar.json_input.loads`, and only fields of the expected types are used; a lookup reads at
most MAX_PAGES pages. At most `settings.max_issues` findings are written a run (most severe
first); the rest are counted in one warning. A failure is a warning, never an exception: the
findings are already reported, and notifying is the last thing a run does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence
from urllib.parse import quote

from gitlab import exceptions as gl_errors

from radar import json_input
from radar.notify import text
from radar.notify.events import Event
from radar.notify.targets import NotifySettings
from radar.report.printable import printable
from radar.scan.rules import SEVERITIES
from radar.scan.sources.gitlab import GitLabError, connect

MAX_ANSWER_BYTES = 4 * 1024 * 1024  # a page of 20 issues with long descriptions fits with room to spare
MAX_PAGES = 5  # a marker label is on one issue; five pages of twenty are already a broken project
PER_PAGE = 20
RETRIES = 3  # python-gitlab's default of 10 doubling waits would stall a job for minutes
_SEVERITY_RANK = {s: n for n, s in enumerate(SEVERITIES)}


@dataclass(frozen=True)
class IssuesOutcome:
    created: int = 0
    updated: int = 0  # noted as still found, or reopened
    closed: int = 0
    undelivered: int = 0  # events that could not be told (failures and the cap)
    warnings: tuple[str, ...] = ()


class _Stop(Exception):
    """A failure that every further request would meet too (token, project, network)."""


class _Skip(Exception):
    """A failure of this event only (GitLab refused this issue, or answered nonsense)."""


class _Issues:
    def __init__(self, settings: NotifySettings) -> None:
        self.settings = settings
        self.project = printable(settings.project or "")
        self.client = connect(settings.gitlab_url or "", private_token=settings.token, timeout=settings.timeout)
        self.base = f"/projects/{quote(settings.project or '', safe='')}/issues"

    def find(self, event: Event) -> dict | None:
        """The finding's issue: an open one if there is one, else the latest closed one."""
        marker = text.marker(event)
        found: list[dict] = []
        for page in range(1, MAX_PAGES + 1):
            items, next_page = self.call("get", self.base, query={
                "labels": text.marker_label(event), "state": "all", "per_page": PER_PAGE, "page": page})
            if not isinstance(items, list):
                raise _Skip("GitLab's issue list is not a list")
            found += [i for i in items if _issue(i) and marker in (i["description"] or "")]
            if not next_page:
                break
        opened = [i for i in found if i["state"] == "opened"]
        return min(opened, key=lambda i: i["iid"]) if opened else max(found, key=lambda i: i["iid"], default=None)

    def create(self, event: Event) -> None:
        labels = f"{self.settings.label},{text.marker_label(event)}"
        answer, _ = self.call("post", self.base, data={
            "title": text.title(event), "description": text.description(event), "labels": labels})
        if not _issue(answer):
            raise _Skip("GitLab's answer to the new issue is not an issue")

    def note(self, iid: int, body: str) -> None:
        self.call("post", f"{self.base}/{iid}/notes", data={"body": body})

    def set_state(self, iid: int, state_event: str) -> None:
        self.call("put", f"{self.base}/{iid}", data={"state_event": state_event})

    def call(self, verb: str, path: str, *, query: dict | None = None, data: dict | None = None) -> tuple[Any, str]:
        """GitLab's decoded answer, and its X-Next-Page header."""
        try:
            response = self.client.http_request(verb, path, query_data=query, post_data=data, streamed=True,
                                                max_retries=RETRIES, timeout=self.settings.timeout)
        except gl_errors.GitlabAuthenticationError:
            raise _Stop("the token was refused (401 Unauthorized)") from None
        except gl_errors.GitlabHttpError as e:
            if e.response_code == 403:
                raise _Stop("access denied (403 Forbidden; issues need a token with the api scope and at least "
                            f"the Reporter role on {self.project})") from None
            if e.response_code == 404 and path != self.base:  # the issue was deleted since it was looked up
                raise _Skip("the issue is gone (404)") from None
            if e.response_code == 404:
                raise _Stop(f"project {self.project} not found, not visible to this token, or its issues are "
                            "turned off (404)") from None
            if e.response_code is not None and e.response_code >= 500:
                raise _Stop(f"GitLab answered {e.response_code}") from None
            raise _Skip(f"GitLab refused the request ({e.response_code})") from None
        except gl_errors.GitlabError as e:  # a redirect python-gitlab will not follow, and the like
            raise _Stop(f"GitLab's answer could not be used ({type(e).__name__})") from None
        except GitLabError as e:  # an answer that would have had the token sent to another origin
            raise _Stop(str(e)) from None
        except OSError as e:  # requests' ConnectionError, Timeout, SSLError after the retries
            raise _Stop(f"cannot reach GitLab ({type(e).__name__})") from None
        try:
            body = bytearray()
            for chunk in response.iter_content(65536):
                body += chunk
                if len(body) > MAX_ANSWER_BYTES:
                    raise _Skip(f"GitLab's answer is larger than {MAX_ANSWER_BYTES // 2**20} MiB")
            next_page = response.headers.get("X-Next-Page", "")
        except OSError as e:
            raise _Stop(f"GitLab's answer broke off ({type(e).__name__})") from None
        finally:
            response.close()
        try:
            return (json_input.loads(body) if body else None), next_page.strip()
        except ValueError:
            raise _Skip("GitLab's answer is not JSON") from None


def _issue(item: Any) -> bool:
    """Whether `item` has the fields radar uses, of the types GitLab documents."""
    if not isinstance(item, dict):
        return False
    iid, description = item.get("iid"), item.get("description")
    return (type(iid) is int and iid > 0 and item.get("state") in ("opened", "closed")
            and (description is None or isinstance(description, str)))


def sync(events: Sequence[Event], settings: NotifySettings) -> IssuesOutcome:
    """Create, note, reopen and close the events' issues in `settings.project`."""
    ordered = sorted(events, key=lambda e: (e.kind != "new", _SEVERITY_RANK.get(e.severity, len(SEVERITIES))))
    try:
        issues = _Issues(settings)
    except GitLabError as e:
        return IssuesOutcome(undelivered=len(ordered), warnings=(f"gitlab-issues: {e}; no issue was updated",))
    try:
        return _sync(issues, ordered, settings)
    finally:
        issues.client.session.close()  # its keep-alive connections: a monitor run may go on to other work


def _sync(issues: _Issues, ordered: Sequence[Event], settings: NotifySettings) -> IssuesOutcome:
    created = updated = closed = undelivered = 0
    warnings: list[str] = []
    for n, event in enumerate(ordered):
        if created + updated + closed >= settings.max_issues:
            left = len(ordered) - n
            undelivered += left
            warnings.append(f"gitlab-issues: {left} more finding(s) not told: at most {settings.max_issues} issues "
                            "are written a run (--notify-max-issues)")
            break
        try:
            issue = issues.find(event)
            if event.kind == "new":
                if issue is None:
                    issues.create(event)
                    created += 1
                elif issue["state"] == "opened":
                    issues.note(issue["iid"], text.still_found_note(event))
                    updated += 1
                else:
                    issues.set_state(issue["iid"], "reopen")
                    issues.note(issue["iid"], text.reopened_note(event))
                    updated += 1
            elif issue is not None and issue["state"] == "opened":
                issues.note(issue["iid"], text.resolved_note(event))
                issues.set_state(issue["iid"], "close")
                closed += 1
        except _Stop as e:
            left = len(ordered) - n
            undelivered += left
            warnings.append(f"gitlab-issues: {e}; {left} finding(s) not told")
            break
        except _Skip as e:
            undelivered += 1
            warnings.append(f"gitlab-issues: {e}; the issue for {event.place} was not updated")
    return IssuesOutcome(created, updated, closed, undelivered, tuple(warnings))
