"""A local stand-in for GitLab's REST API v4, for the endpoints `radar scan gitlab` calls.

A real GitLab cannot run on these machines, so this server answers like the documented API
(https://docs.gitlab.com/api/rest/): `PRIVATE-TOKEN` (or `JOB-TOKEN`) authentication with
`401 {"message":"401 Unauthorized"}`; offset pagination with `page`/`per_page` (default 20,
capped at `max_per_page`, 100 on GitLab) and the `X-Page`, `X-Per-Page`, `X-Next-Page`,
`X-Prev-Page`, `X-Total`, `X-Total-Pages` and `Link` headers; ids that are numbers or URL-encoded
full paths; variables shaped as documented, hidden ones with a null value; raw repository files;
per-project 401/403/404 and a one-time 429 with `Retry-After`, as a test configures them. It
answers requests side by side, as GitLab does; `latency` holds each answer back that long (a
GitLab some way off), and `most_in_flight` counts the most GET requests it was answering at once.

Endpoints: GET /groups/:id, /groups/:id/projects (include_subgroups, with_shared, archived),
/groups/:id/descendant_groups, /groups/:id/variables, /projects/:id, /projects/:id/variables,
/projects/:id/repository/files/:file_path/raw?ref=, /admin/ci/variables.

Issues and notes (https://docs.gitlab.com/api/issues/, https://docs.gitlab.com/api/notes/), for
radar's notifications: GET /projects/:id/issues (`labels` comma-separated, all required;
`state` opened, closed or all; `search` in title and description; newest first), POST
/projects/:id/issues (`title` required, `description`, `labels` as a comma-separated string or
an array; unknown labels are created, as GitLab does), GET and PUT /projects/:id/issues/:iid
(`state_event` close or reopen, `title`, `description`, `labels`), GET and POST
/projects/:id/issues/:iid/notes (`body` required). Bodies are JSON or form-encoded, as GitLab
takes both; writes answer 201 (create) or 200 (update). A project's `issues_error` answers every
issue request with that status (403: a Guest's token; 404: issues turned off).

Job artifacts (https://docs.gitlab.com/api/job_artifacts/), for the scheduled monitoring job's
state: GET /projects/:id/jobs/artifacts/:ref_name/raw/*artifact_path?job=NAME answers the file
from the latest successful pipeline of that ref (`Project.artifacts`, keyed by ref, job and
path), 404 when there is none, 400 without `job`; `artifacts_error` answers with that status.

What GitLab, or what sits before it, may answer that points elsewhere: `external_url` is the
base of the `Link` headers' URLs, as GitLab builds them from its external_url setting (a GitLab
reached under another name than the one it was set up with gives links to that one); `redirect`
answers every request but GET /version with `302 Found` to that base URL plus the request's path
and query, as a reverse proxy moving the API would; `next_link`, when set, is the URL of a
`rel="next"` link on every page, the last too, as a hostile or broken answer could give; `answers`
replaces the answer to a path (without its query) with the bytes given, as JSON.
"""

from __future__ import annotations

import datetime
import http.client
import json
import threading
import time
import urllib.parse
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Iterator

import pytest

TOKEN = "fake-admin-token"


def variable(key: str, value: str | None, *, variable_type: str = "env_var", protected: bool = False,
             masked: bool = False, hidden: bool = False, raw: bool = False, environment_scope: str = "*",
             description: str | None = None) -> dict:
    """A project or group variable as GitLab returns it (a hidden variable's value is null)."""
    return {
        "variable_type": variable_type, "key": key, "value": None if hidden else value,
        "protected": protected, "masked": masked or hidden, "hidden": hidden, "raw": raw,
        "environment_scope": environment_scope, "description": description,
    }


def instance_variable(key: str, value: str, *, protected: bool = False, masked: bool = False) -> dict:
    """Instance variables have no environment scope and cannot be hidden."""
    return {"variable_type": "env_var", "key": key, "value": value, "protected": protected,
            "masked": masked, "raw": False, "description": None}


@dataclass
class Group:
    id: int
    full_path: str
    variables: list[dict] = field(default_factory=list)
    variables_error: int | None = None  # 403: the token's user is not allowed to read them


@dataclass
class Project:
    id: int
    path_with_namespace: str
    archived: bool = False
    default_branch: str | None = "main"
    ci_config_path: str | None = None
    files: dict[str, str] = field(default_factory=dict)  # path -> content on the default branch
    variables: list[dict] = field(default_factory=list)
    shared_with: tuple[str, ...] = ()  # full paths of groups the project is shared with
    error: int | None = None  # 401, 403 or 404 on every request about this project
    issues: list[dict] = field(default_factory=list)  # as GitLab returns them, oldest first
    notes: dict[int, list[dict]] = field(default_factory=dict)  # issue iid -> its notes
    labels: set[str] = field(default_factory=set)  # the project's labels, made on first use
    issues_error: int | None = None  # the status of every issue request (403, 404)
    # (ref, job name, path) -> the file as the latest successful pipeline of that ref kept it
    artifacts: dict[tuple[str, str, str], bytes] = field(default_factory=dict)
    artifacts_error: int | None = None  # the status of every artifact request (500, say)

    @property
    def namespace(self) -> str:
        return self.path_with_namespace.rsplit("/", 1)[0]


@dataclass
class FakeGitLab:
    url: str = ""
    token: str = TOKEN
    admin: bool = True
    max_per_page: int = 100
    groups: list[Group] = field(default_factory=list)
    projects: list[Project] = field(default_factory=list)
    instance_variables: list[dict] = field(default_factory=list)
    rate_limited_once: set[str] = field(default_factory=set)  # request paths answered 429 once
    requests: list[str] = field(default_factory=list)
    writes: list[tuple[str, str]] = field(default_factory=list)  # (method, path) of each POST and PUT
    latency: float = 0.0  # seconds each GET waits before it is answered
    external_url: str = ""  # the base of Link headers' URLs; `url` when empty
    redirect: str = ""  # when set, requests but GET /version are answered 302 to this base + path
    next_link: str = ""  # when set, every page links here as its next one
    answers: dict[str, bytes] = field(default_factory=dict)  # a path's answer replaced by this JSON
    in_flight: int = 0  # GET requests being answered now
    most_in_flight: int = 0  # the most at once so far
    _flight_lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def group(self, ident: str) -> Group | None:
        return next((g for g in self.groups if str(g.id) == ident or g.full_path == ident), None)

    def project(self, ident: str) -> Project | None:
        return next((p for p in self.projects if str(p.id) == ident or p.path_with_namespace == ident), None)


class IndexedGitLab(FakeGitLab):
    """The fake for organisations of thousands of projects: project look-ups through a dict, so the
    server's cost per request does not grow with their number (the answers are the same). The index
    is rebuilt when `projects` is another list or its length changes: assign a new list or append,
    do not replace projects in place."""

    def project(self, ident: str) -> Project | None:
        indexed, index = self.__dict__.get("_index", (None, {}))
        # The list itself, not only its length: a new organisation of as many projects as the last
        # one must not be answered from the last one's index.
        if indexed is not self.projects or len(index) != 2 * len(self.projects):
            index = {k: p for p in self.projects for k in (str(p.id), p.path_with_namespace)}
            self.__dict__["_index"] = (self.projects, index)
        return index.get(ident)


def _group_json(group: Group, base: str) -> dict:
    name = group.full_path.rsplit("/", 1)[-1]
    parent = group.full_path.rsplit("/", 1)[0] if "/" in group.full_path else None
    return {"id": group.id, "name": name, "path": name, "full_name": group.full_path.replace("/", " / "),
            "full_path": group.full_path, "visibility": "private", "parent_id": None if parent is None else -1,
            "web_url": f"{base}/groups/{group.full_path}"}


def _project_json(project: Project, base: str) -> dict:
    name = project.path_with_namespace.rsplit("/", 1)[-1]
    return {
        "id": project.id, "name": name, "path": name, "path_with_namespace": project.path_with_namespace,
        "name_with_namespace": project.path_with_namespace.replace("/", " / "),
        "namespace": {"full_path": project.namespace, "path": project.namespace.rsplit("/", 1)[-1], "kind": "group"},
        "default_branch": project.default_branch, "archived": project.archived,
        "ci_config_path": project.ci_config_path, "visibility": "private",
        "web_url": f"{base}/{project.path_with_namespace}",
    }


def _boolean(text: str | None, default: bool | None) -> bool | None:
    if text is None:
        return default
    return text.lower() in ("1", "true", "t", "yes", "y", "on")


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    # Connections stay open between requests, as GitLab's do (every answer has a Content-Length).
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes: without TCP_NODELAY the second waits for the client's
    # delayed ACK (40 ms a request on Linux) on a kept-alive connection.
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: object) -> None:  # keep test output clean
        pass

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        gl = self.server.gitlab
        with gl._flight_lock:
            gl.in_flight += 1
            gl.most_in_flight = max(gl.most_in_flight, gl.in_flight)
        try:
            if gl.latency:
                time.sleep(gl.latency)
            self._get()
        finally:
            with gl._flight_lock:
                gl.in_flight -= 1

    def _redirected(self) -> bool:
        """Whether the request was answered with the fake's `redirect` (see the module's docstring)."""
        gl = self.server.gitlab
        if not gl.redirect or self.path.startswith("/api/v4/version"):
            return False
        self._send(302, b"", "text/plain", {"Location": gl.redirect + self.path})
        return True

    def _get(self) -> None:
        gl = self.server.gitlab
        parsed = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(parsed.query))
        gl.requests.append(self.path)
        if self._redirected():
            return
        if parsed.path in gl.answers:
            return self._send(200, gl.answers[parsed.path], "application/json", {})
        if parsed.path in gl.rate_limited_once:
            gl.rate_limited_once.discard(parsed.path)
            return self._send(429, b"Retry later\n", "text/plain", {"Retry-After": "1"})
        token = self.headers.get("PRIVATE-TOKEN") or self.headers.get("JOB-TOKEN")
        if token != gl.token:
            return self._json(401, {"message": "401 Unauthorized"})
        raw = parsed.path.split("/")
        if raw[:3] != ["", "api", "v4"]:
            return self._json(404, {"error": "404 Not Found"})
        parts = [urllib.parse.unquote(p) for p in raw[3:]]
        base = gl.url
        if parts[:1] == ["groups"] and len(parts) >= 2:
            group = gl.group(parts[1])
            if group is None:
                return self._json(404, {"message": "404 Group Not Found"})
            if len(parts) == 2:
                return self._json(200, _group_json(group, base))
            if parts[2:] == ["variables"]:
                if group.variables_error == 403:
                    return self._json(403, {"message": "403 Forbidden"})
                return self._page(group.variables, query, parsed.path)
            if parts[2:] == ["descendant_groups"]:
                descendants = [g for g in gl.groups if g.full_path.startswith(group.full_path + "/")]
                return self._page([_group_json(g, base) for g in descendants], query, parsed.path)
            if parts[2:] == ["projects"]:
                return self._page([_project_json(p, base) for p in self._group_projects(group, query)], query, parsed.path)
        if parts[:1] == ["projects"] and len(parts) >= 2:
            project = gl.project(parts[1])
            if project is None or project.error == 404:
                return self._json(404, {"message": "404 Project Not Found"})
            if project.error == 401:
                return self._json(401, {"message": "401 Unauthorized"})
            if project.error == 403:
                return self._json(403, {"message": "403 Forbidden"})
            if len(parts) == 2:
                return self._json(200, _project_json(project, base))
            if parts[2:] == ["variables"]:
                return self._page(project.variables, query, parsed.path)
            if parts[2:3] == ["issues"]:
                return self._issues_get(project, parts[3:], query, parsed.path)
            if parts[2:4] == ["jobs", "artifacts"] and len(parts) >= 7 and parts[5] == "raw":
                if project.artifacts_error:
                    return self._json(project.artifacts_error, {"message": f"{project.artifacts_error} Error"})
                if "job" not in query:
                    return self._json(400, {"error": "job is missing"})
                content = project.artifacts.get((parts[4], query["job"], "/".join(parts[6:])))
                if content is None:
                    return self._json(404, {"message": "404 Not Found"})
                return self._send(200, content, "application/octet-stream", {})
            if parts[2:4] == ["repository", "files"] and len(parts) == 6 and parts[5] == "raw":
                if "ref" not in query:
                    return self._json(400, {"error": "ref is missing"})
                content = project.files.get(parts[4]) if query["ref"] == project.default_branch else None
                if content is None:
                    return self._json(404, {"message": "404 File Not Found"})
                return self._send(200, content.encode(), "text/plain; charset=utf-8", {})
        if parts == ["admin", "ci", "variables"]:
            if not gl.admin:
                return self._json(403, {"message": "403 Forbidden"})
            return self._page(gl.instance_variables, query, parsed.path)
        return self._json(404, {"error": "404 Not Found"})

    def do_POST(self) -> None:  # noqa: N802
        self._write("POST")

    def do_PUT(self) -> None:  # noqa: N802
        self._write("PUT")

    def _write(self, method: str) -> None:
        gl = self.server.gitlab
        parsed = urllib.parse.urlsplit(self.path)
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        gl.writes.append((method, parsed.path))
        if self._redirected():
            return
        token = self.headers.get("PRIVATE-TOKEN") or self.headers.get("JOB-TOKEN")
        if token != gl.token:
            return self._json(401, {"message": "401 Unauthorized"})
        parts = [urllib.parse.unquote(p) for p in parsed.path.split("/")[3:]]
        if parsed.path.split("/")[:3] != ["", "api", "v4"] or parts[:1] != ["projects"] or parts[2:3] != ["issues"]:
            return self._json(404, {"error": "404 Not Found"})
        project = gl.project(parts[1])
        if project is None or project.error == 404:
            return self._json(404, {"message": "404 Project Not Found"})
        if project.error in (401, 403):
            return self._json(project.error, {"message": f"{project.error} {'Unauthorized' if project.error == 401 else 'Forbidden'}"})
        if project.issues_error:
            return self._issues_refused(project.issues_error)
        fields: dict = dict(urllib.parse.parse_qsl(parsed.query))
        if "json" in (self.headers.get("Content-Type") or ""):
            fields.update(json.loads(body or b"{}"))
        else:
            fields.update(urllib.parse.parse_qsl(body.decode()))
        rest = parts[3:]
        if method == "POST" and rest == []:
            return self._issue_create(project, fields)
        issue = _find_issue(project, rest[0]) if rest else None
        if issue is None:
            return self._json(404, {"message": "404 Not found"})
        if method == "PUT" and len(rest) == 1:
            return self._issue_update(project, issue, fields)
        if method == "POST" and rest[1:] == ["notes"]:
            if not fields.get("body"):
                return self._json(400, {"error": "body is missing"})
            notes = project.notes.setdefault(issue["iid"], [])
            note = {"id": 1000 * issue["id"] + len(notes) + 1, "type": None, "body": fields["body"],
                    "author": _AUTHOR, "created_at": _now(), "updated_at": _now(), "system": False,
                    "noteable_id": issue["id"], "noteable_type": "Issue", "noteable_iid": issue["iid"]}
            notes.append(note)
            return self._json(201, note)
        return self._json(405, {"message": "405 Method Not Allowed"})

    def _issues_refused(self, status: int) -> None:
        self._json(status, {"message": f"{status} {http.client.responses.get(status, 'Error')}"})

    def _issue_create(self, project: Project, fields: dict) -> None:
        if not fields.get("title"):
            return self._json(400, {"error": "title is missing"})
        labels = _labels(fields.get("labels"))
        project.labels.update(labels)
        iid = max((i["iid"] for i in project.issues), default=0) + 1
        issue = {
            "id": project.id * 10000 + iid, "iid": iid, "project_id": project.id, "title": fields["title"],
            "description": fields.get("description"), "state": "opened", "created_at": _now(),
            "updated_at": _now(), "closed_at": None, "closed_by": None, "labels": labels, "author": _AUTHOR,
            "user_notes_count": 0, "web_url": f"{self.server.gitlab.url}/{project.path_with_namespace}/-/issues/{iid}",
        }
        project.issues.append(issue)
        self._json(201, issue)

    def _issue_update(self, project: Project, issue: dict, fields: dict) -> None:
        event = fields.get("state_event")
        if event == "close" and issue["state"] == "opened":
            issue.update(state="closed", closed_at=_now(), closed_by=_AUTHOR)
        elif event == "reopen" and issue["state"] == "closed":
            issue.update(state="opened", closed_at=None, closed_by=None)
        for name in ("title", "description"):
            if name in fields:
                issue[name] = fields[name]
        if "labels" in fields:
            issue["labels"] = _labels(fields["labels"])
            project.labels.update(issue["labels"])
        issue["updated_at"] = _now()
        self._json(200, issue)

    def _issues_get(self, project: Project, rest: list[str], query: dict[str, str], path: str) -> None:
        if project.issues_error:
            return self._issues_refused(project.issues_error)
        if not rest:
            wanted = set(_labels(query.get("labels")))
            state = query.get("state", "all")
            search = query.get("search", "")
            found = [i for i in reversed(project.issues)
                     if wanted <= set(i["labels"]) and state in ("all", i["state"])
                     and (not search or search in i["title"] or search in (i["description"] or ""))]
            return self._page(found, query, path)
        issue = _find_issue(project, rest[0])
        if issue is None:
            return self._json(404, {"message": "404 Not found"})
        if len(rest) == 1:
            return self._json(200, issue)
        if rest[1:] == ["notes"]:
            return self._page(project.notes.get(issue["iid"], []), query, path)
        return self._json(404, {"error": "404 Not Found"})

    def _group_projects(self, group: Group, query: dict[str, str]) -> Iterator[Project]:
        # Grape's booleans: python-gitlab sends True/False, curl users true/false; both are accepted.
        subgroups = _boolean(query.get("include_subgroups"), False)
        shared = _boolean(query.get("with_shared"), True)
        archived = _boolean(query.get("archived"), None)
        for p in sorted(self.server.gitlab.projects, key=lambda p: p.id):
            own = p.namespace == group.full_path or (subgroups and p.namespace.startswith(group.full_path + "/"))
            if not (own or (shared and group.full_path in p.shared_with)):
                continue
            if archived is not None and p.archived != archived:
                continue
            yield p

    def _page(self, items: list[dict], query: dict[str, str], path: str) -> None:
        gl = self.server.gitlab
        per_page = max(1, min(int(query.get("per_page", 20)), gl.max_per_page))
        page = max(1, int(query.get("page", 1)))
        total_pages = max(1, -(-len(items) // per_page))
        chunk = items[(page - 1) * per_page : page * per_page]

        def link(n: int) -> str:
            q = urllib.parse.urlencode({**query, "page": n, "per_page": per_page})
            return f"{gl.external_url or gl.url}{path}?{q}"

        links = []
        if page > 1:
            links.append(f'<{link(page - 1)}>; rel="prev"')
        if gl.next_link or page < total_pages:
            links.append(f'<{gl.next_link or link(page + 1)}>; rel="next"')
        links += [f'<{link(1)}>; rel="first"', f'<{link(total_pages)}>; rel="last"']
        headers = {
            "X-Page": str(page), "X-Per-Page": str(per_page), "X-Total": str(len(items)),
            "X-Total-Pages": str(total_pages), "X-Next-Page": str(page + 1) if page < total_pages else "",
            "X-Prev-Page": str(page - 1) if page > 1 else "", "Link": ", ".join(links),
        }
        self._send(200, json.dumps(chunk).encode(), "application/json", headers)

    def _json(self, status: int, body: object) -> None:
        self._send(status, json.dumps(body).encode(), "application/json", {})

    def _send(self, status: int, body: bytes, content_type: str, headers: dict[str, str]) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)


_AUTHOR = {"id": 1, "username": "radar-bot", "name": "radar bot", "state": "active"}


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _labels(value: str | list | None) -> list[str]:
    """GitLab's `labels`: a comma-separated string, or an array."""
    if value is None:
        return []
    names = value if isinstance(value, list) else value.split(",")
    return list(dict.fromkeys(n.strip() for n in names if n.strip()))


def _find_issue(project: Project, iid: str) -> dict | None:
    return next((i for i in project.issues if str(i["iid"]) == iid), None)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    gitlab: FakeGitLab


@contextmanager
def serving(gitlab: FakeGitLab) -> Iterator[FakeGitLab]:
    """`gitlab` answering on a free port of 127.0.0.1 (its `url` set) until the block ends."""
    server = _Server(("127.0.0.1", 0), _Handler)
    gitlab.url = f"http://127.0.0.1:{server.server_address[1]}"
    server.gitlab = gitlab
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield gitlab
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
def gitlab_server() -> Iterator[FakeGitLab]:
    """A fake GitLab on 127.0.0.1 with no data; a test fills in groups, projects and variables."""
    with serving(FakeGitLab()) as gitlab:
        yield gitlab
