"""GitLab as a source of text: CI/CD variables and CI configuration files, read through python-gitlab.

For the scope asked for (instance variables, groups with their projects, and with
`include_subgroups` their descendant groups' variables; or listed projects),
every variable with a value becomes a `MemoryUnit` whose text is `KEY=value` (so provider rules
see the value and generic rules see the name with it), with the owner, key and environment scope
in its `Origin`; each project's CI file on the default branch (`ci_config_path`, else
`.gitlab-ci.yml`) becomes a unit too. What the variable checks need later (flags, fingerprint,
redacted preview) is kept as a `VariableRecord`, never the value.

An address where nothing answers is one error before anything starts (`connect`). The token goes
to the origin of that address only: a redirect or a next-page link that leads elsewhere stops the
scan (`_Session.send`); a next-page link that differs only in the base URL (GitLab's external_url
set to another name) is read from the address given. Every answer is checked against the shape the
API documents (`gitlab_answers`) and a malformed one is met as an unreadable one. Listings use
`iterator=True`, so one page is in memory at a time; python-gitlab follows the
`Link` header and retries 429 after `Retry-After`. Projects are read `connections` at a time
(`_read_ahead`); what they answer is used in the listing's order, so the scan is the same for any
number. A project that answers 401/403/404 becomes one
warning and the scan goes on, incomplete (so are a group's variables, or a CI file, that cannot be
read): its variables may hold credentials, so the scan cannot call it clean. A token refused for
the whole scope is a `GitLabError`.

With a `Shard` (`--shard I/N`, see `radar.scan.shard`), only the projects that shard owns are
read (the listing is still walked whole: it is how a shard learns the ids); the variables of
groups, subgroups and the instance are read by shard 1 alone.
"""

from __future__ import annotations

import os
from collections import Counter, deque
from dataclasses import dataclass
from functools import partial
from typing import Any, Callable, Iterable, Iterator, TypeVar
from urllib.parse import urlsplit

import gitlab
import requests
from gitlab import exceptions as gl_errors
from gitlab.utils import EncodedId
from requests.utils import get_environ_proxies

from radar.errors import RadarError
from radar.report.printable import printable
from radar.scan.findings import FingerprintKey, Origin, preview
from radar.scan.generic import names_a_secret
from radar.scan.shard import Shard
from radar.scan.sources import gitlab_answers as answers
from radar.scan.sources.gitlab_answers import Listed
from radar.scan.sources.interface import MemoryUnit, Source, TextUnit
from radar.scan.warnings import Warnings
from radar.threads import DaemonThreads

INSTANCE = "instance"
# Projects read at once, each over a kept-alive connection of its own: against a GitLab 20 ms
# away, one at a time is 50 requests a second whatever the machine. requests keeps 10 per host.
DEFAULT_CONNECTIONS = 4
MAX_CONNECTIONS = 10

CiFileHook = Callable[[str, str, str], None]  # (project, path, text)


class GitLabError(RadarError):
    pass


@dataclass(frozen=True)
class Scope:
    groups: tuple[str, ...] = ()
    projects: tuple[str, ...] = ()
    instance: bool = False
    include_subgroups: bool = False
    skip_archived: bool = False


@dataclass(frozen=True)
class VariableRecord:
    """A CI/CD variable without its value: where it is, its flags, and what identifies the value."""

    owner_kind: str  # "project", "group" or "instance"
    owner: str
    key: str
    environment_scope: str
    variable_type: str
    protected: bool
    masked: bool
    hidden: bool | None  # None where GitLab has no such flag (instance variables)
    fingerprint: str | None  # None when GitLab does not return the value (hidden variables)
    preview: str
    path: str
    owner_id: int | None = None  # the project's or group's numeric id (Vault roles bind to it)

    @property
    def origin(self) -> Origin:
        return variable_origin(self.owner_kind, self.owner, self.key, self.environment_scope, self.owner_id)

    @property
    def names_a_secret(self) -> bool:
        return names_a_secret(self.key)


def variable_origin(owner_kind: str, owner: str, key: str, scope: str, owner_id: int | None = None) -> Origin:
    return Origin(variable_key=key, environment_scope=scope,
                  project=owner if owner_kind == "project" else None,
                  group=owner if owner_kind == "group" else None,
                  project_id=owner_id if owner_kind == "project" else None,
                  namespace_id=owner_id if owner_kind == "group" else None)


def variable_path(owner_kind: str, key: str, scope: str) -> str:
    return f"{'instance/' if owner_kind == 'instance' else ''}variables/{key}[{scope}]"


# The largest answer read, so that a body without end is not read on. GitLab's self-managed
# default caps a file variable's value at 3 MiB (GitLab.com at 1 MiB), so a page of 100 of them is
# ~300 MB before JSON escapes; a CI file over 2 MB is refused by default. At most `connections`
# answers are held at once.
MAX_ANSWER_BYTES = 512 * 2**20
_CHUNK = 2**16

# Retries of the first request only: python-gitlab retries a refused connection 10 times with
# doubling waits (about 100 s) before giving up, which is right in the middle of a long scan but
# not for a mistyped --url. Two quick retries tell "unreachable" from "a blip" before anything starts.
REACH_RETRIES = 2


class _Session(requests.Session):
    """requests as it is, but nothing is sent outside the origin of `url`, and the proxy variables
    are read once per scheme and host.

    python-gitlab follows a redirect's Location, and a listing's Link to its next page, wherever
    they lead, with the PRIVATE-TOKEN or JOB-TOKEN header on (requests takes its own Authorization
    header off when a redirect leaves the origin, not these): whatever answers at `url`, or sits
    between, could have the token sent to an address of its choosing. `send` refuses any request
    for another origin, before connecting; what stays in the origin is requests' own rule for its
    Authorization header (`should_strip_auth`: the same host, scheme and port, or http to https on
    the default ports).

    requests reads the proxy variables from the whole environment on every request
    (`get_environ_proxies`): a tenth of the CPU of a 10,000-project scan against a local GitLab,
    more with a CI job's hundreds of variables. A scan's environment does not change while it runs.
    The rest is requests' own `merge_environment_settings` (the CA bundle variables, then the
    session's settings)."""

    def __init__(self, url: str) -> None:
        super().__init__()
        self._url = url
        self._environ_proxies: dict[tuple[str, str, Any], dict[str, str]] = {}

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        if self.should_strip_auth(self._url, request.url or ""):
            raise GitLabError(f"{_origin(self._url)}: GitLab's answer sent radar to {_origin(request.url or '')} "
                              "(a redirect, or the link to a listing's next page); radar sends the GitLab token "
                              "to the address given only: give --url as the address GitLab serves its API at")
        if kwargs.get("stream"):  # the caller reads the body itself
            return super().send(request, **kwargs)
        # requests would read the whole body, however large, before python-gitlab sees it: read it
        # here, as requests does (`Response.content`), but stop at MAX_ANSWER_BYTES.
        response = super().send(request, **{**kwargs, "stream": True})
        body = bytearray()
        try:
            for chunk in response.iter_content(_CHUNK):
                body += chunk
                if len(body) > MAX_ANSWER_BYTES:
                    raise answers.MalformedAnswer(f"GitLab's answer is larger than {MAX_ANSWER_BYTES // 2**20} MiB")
        finally:
            response.close()
        response._content = bytes(body)  # what `Response.content` holds once read
        return response

    def merge_environment_settings(self, url, proxies, stream, verify, cert):  # type: ignore[no-untyped-def]
        if not self.trust_env:
            return super().merge_environment_settings(url, proxies, stream, verify, cert)
        no_proxy = proxies.get("no_proxy") if proxies is not None else None
        scheme, host = urlsplit(url)[:2]
        found = self._environ_proxies.get((scheme, host, no_proxy))
        if found is None:
            found = self._environ_proxies[(scheme, host, no_proxy)] = get_environ_proxies(url, no_proxy=no_proxy)
        if proxies is not None:
            for name, proxy in found.items():
                proxies.setdefault(name, proxy)
        if verify is True or verify is None:
            verify = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or verify
        return {"proxies": requests.sessions.merge_setting(proxies, self.proxies),
                "stream": requests.sessions.merge_setting(stream, self.stream),
                "verify": requests.sessions.merge_setting(verify, self.verify),
                "cert": requests.sessions.merge_setting(cert, self.cert)}


def connect(url: str, private_token: str | None = None, job_token: str | None = None,
            timeout: float = 60) -> gitlab.Gitlab:
    """A python-gitlab client for `url`, after checking that something answers there.

    Any HTTP answer to `/version` counts (401 or 403 too: job tokens may not read it, and the
    token's rights are judged later, per project); no answer at all is a `GitLabError`."""
    # keep_base_url: a next-page link under another base URL (GitLab's external_url not the address
    # radar was given, behind a proxy) is read from `url`, as python-gitlab offers, not refused.
    client = gitlab.Gitlab(url, private_token=private_token, job_token=job_token, session=_Session(url),
                           retry_transient_errors=True, per_page=100, timeout=timeout, keep_base_url=True)
    try:
        client.http_get("/version", max_retries=REACH_RETRIES)
    except gl_errors.GitlabError:
        pass
    except OSError as e:  # requests' ConnectionError, Timeout, SSLError
        raise GitLabError(f"{url}: cannot reach GitLab ({_network_reason(e)}); check --url "
                          "(or $CI_SERVER_URL) and the network") from None
    return client


def _origin(url: str) -> str:
    """`url`'s scheme, host and port, fit for a one-line message (the path and query left out)."""
    parts = urlsplit(url)
    return printable(f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"[:200])


def _network_reason(error: OSError) -> str:
    text = str(error)
    for needle, reason in (("Connection refused", "connection refused"), ("timed out", "timed out"),
                           ("Name or service not known", "unknown host"), ("CERTIFICATE_VERIFY_FAILED",
                           "TLS certificate not trusted; set REQUESTS_CA_BUNDLE to its CA file")):
        if needle in text:
            return reason
    return error.__class__.__name__


@dataclass(frozen=True)
class _ProjectRead:
    """What one project's requests answered: its variables (checked) or the error that stopped
    their listing; then its CI file, or the error that stopped it (neither when there was none to
    ask for)."""

    variables: tuple[answers.Variable, ...] = ()
    refused: gl_errors.GitlabError | None = None
    ci_file: bytes | None = None
    ci_error: gl_errors.GitlabError | None = None


class GitLabSource(Source):
    def __init__(self, client: gitlab.Gitlab, scope: Scope, key: FingerprintKey,
                 on_ci_file: CiFileHook | None = None, on_project: Callable[[str], None] | None = None,
                 shard: Shard | None = None, connections: int = DEFAULT_CONNECTIONS) -> None:
        self.client = client
        self.scope = scope
        self.shard = shard
        self.connections = connections
        self.key = key
        self.on_ci_file = on_ci_file
        self.on_project = on_project
        self.warnings = Warnings()
        self.unreadable: Counter[str] = Counter()
        self.variables: list[VariableRecord] = []
        self.projects = 0

    def units(self) -> Iterator[TextUnit]:
        try:
            if self.scope.instance and self._reads_shared():
                listed = answers.variables(self._listing("/admin/ci/variables"))
                yield from self._variable_units(INSTANCE, INSTANCE, None, listed)
            for path in self.scope.groups:
                yield from self._group(path)
            refused: list[int] = []
            yield from self._projects(self._listed_projects(refused))
            if self.scope.projects and len(refused) == len(self.scope.projects):
                raise GitLabError(f"{self.client.url}: the token was refused (401 Unauthorized)")
        except gl_errors.GitlabAuthenticationError:
            raise GitLabError(f"{self.client.url}: the token was refused (401 Unauthorized)") from None
        except gl_errors.GitlabError as e:
            raise GitLabError(f"{self.client.url}: {_why(e)}") from None
        except OSError as e:  # requests' errors (connection refused, TLS, timeout) after python-gitlab's retries
            raise GitLabError(f"{self.client.url}: cannot reach GitLab: {e.__class__.__name__}") from None

    def _group(self, path: str) -> Iterator[TextUnit]:
        try:
            group = answers.group(self.client.http_get(f"/groups/{EncodedId(path)}"))
        except gl_errors.GitlabAuthenticationError:
            raise
        except gl_errors.GitlabError as e:
            raise GitLabError(f"group {path}: {_why(e)}") from None
        if self._reads_shared():
            yield from self._group_variables(group.full_path, group.id,
                                             self._read_variables(f"/groups/{group.id}/variables"))
        if self.scope.include_subgroups and self._reads_shared():
            # Subgroups' variables are read `connections` at a time too, like projects.
            subgroups = answers.groups(self._listing(f"/groups/{group.id}/descendant_groups"))
            for subgroup, read in _read_ahead(lambda s: self._read_variables(f"/groups/{s.id}/variables"),
                                              subgroups, self.connections):
                yield from self._group_variables(subgroup.full_path, subgroup.id, read)
        filters: dict = {"include_subgroups": self.scope.include_subgroups, "with_shared": True}
        if self.scope.skip_archived:
            filters["archived"] = False
        listed = answers.projects(self._listing(f"/groups/{group.id}/projects", filters))
        yield from self._projects(p for p in listed if self.shard is None or self.shard.owns(p.id))

    def _listed_projects(self, refused: list[int]) -> Iterator[Listed]:
        """The projects named by `Scope.projects` that this scan reads; each one that cannot be
        looked up is a warning (its status is added to `refused`)."""
        for path in self.scope.projects:
            try:
                project = answers.project(self.client.http_get(f"/projects/{EncodedId(path)}"))
            except gl_errors.GitlabError as e:
                if e.response_code == 401:
                    refused.append(401)
                if self.shard is None or self.shard.owns(path):  # no id: one shard reports it
                    self._warn_project(path, e)
                continue
            if self.shard is None or self.shard.owns(project.id):
                yield project

    def _reads_shared(self) -> bool:
        return self.shard is None or self.shard.reads_shared

    def _projects(self, listed: Iterable[Listed]) -> Iterator[TextUnit]:
        """The units of each project, in the order listed, `connections` of them read at once.

        Only the requests run on the reading threads (`_read_project` touches nothing shared);
        what they answered becomes records, warnings and units here, in the listing's order, so
        the scan is the same however many are read at once."""
        for project, read in _read_ahead(self._read_project, listed, self.connections):
            yield from self._project_units(project, read)

    def _read_project(self, project: Listed) -> _ProjectRead:
        """One project's requests: its variables, then (if they could be read) its CI file."""
        # A project's variables are few; reading them all first lets a 403 skip it cleanly.
        variables, refused = self._read_variables(f"/projects/{project.id}/variables")
        if refused is not None:
            return _ProjectRead(refused=refused)
        ci_file = project.ci_file_to_read
        if ci_file is None:
            return _ProjectRead(variables)
        try:
            # What `projects.get(id, lazy=True).files.raw(...)` asks, without the project object
            # python-gitlab builds with its ~80 managers (1,000 projects: 0.9 of 8.2 s profiled).
            data = self.client.http_get(f"/projects/{project.id}/repository/files/{EncodedId(ci_file)}/raw",
                                        query_data={"ref": project.default_branch}, raw=True).content
        except gl_errors.GitlabError as e:
            return _ProjectRead(variables, ci_error=e)
        return _ProjectRead(variables, ci_file=data)

    def _project_units(self, project: Listed, read: _ProjectRead) -> Iterator[TextUnit]:
        path = project.path
        self.projects += 1
        if self.on_project:
            self.on_project(path)
        if read.refused is not None:
            self._warn_project(path, read.refused)
            return
        yield from self._variable_units("project", path, project.id, read.variables)
        if not project.default_branch:
            return  # an empty repository has no CI file
        if project.ci_file_to_read is None:
            self.warnings.append(f"project {path}: CI file {project.ci_file} is in another project or at a URL; "
                                 "not read")
            return
        if read.ci_error is not None:
            if read.ci_error.response_code != 404:  # 404: the project has no CI file there
                self.could_not_read("CI file", f"project {path}: cannot read {project.ci_file}: {_why(read.ci_error)}")
            return
        data = read.ci_file or b""
        if self.on_ci_file:
            self.on_ci_file(path, project.ci_file, data.decode("utf-8", "replace"))
        yield MemoryUnit(project.ci_file, data, Origin(project=path, project_id=project.id))

    def _read_variables(self, api_path: str) -> tuple[tuple[answers.Variable, ...], gl_errors.GitlabError | None]:
        """The variables listed at `api_path` as far as they could be read, and the error that
        stopped the listing (None when it ended); an answer that is not a variable stops it too."""
        read: list[answers.Variable] = []
        try:
            read.extend(answers.variables(self._listing(api_path)))
        except gl_errors.GitlabError as e:
            return tuple(read), e
        return tuple(read), None

    def _group_variables(self, path: str, group_id: int,
                         read: tuple[tuple[answers.Variable, ...], gl_errors.GitlabError | None]) -> Iterator[TextUnit]:
        variables, error = read
        # Records of the pages read are kept even when a later page failed, as they always were.
        units = list(self._variable_units("group", path, group_id, variables))
        if error is not None:
            self.could_not_read("group", f"group {path}: variables skipped: {_why(error)}")
            return
        yield from units

    def _listing(self, api_path: str, query: dict | None = None) -> Iterable[Any]:
        """What is listed at `api_path`, as the managers' list() asks for it (pages of per_page,
        python-gitlab following the Link header), but read as the JSON it is (an object per item,
        with managers, costs more than reading it); `answers.variables()` and the like check it."""
        return self.client.http_list(api_path, query_data=query or {}, iterator=True,  # type: ignore[return-value]
                                     per_page=self.client.per_page)

    def _variable_units(self, owner_kind: str, owner: str, owner_id: int | None,
                        listed: Iterable[answers.Variable]) -> Iterator[TextUnit]:
        """Units of the variables `listed` (with a value), each one's record kept."""
        for variable in listed:
            key, value, scope = variable.key, variable.value, variable.environment_scope
            path = variable_path(owner_kind, key, scope)
            self.variables.append(VariableRecord(
                owner_kind=owner_kind, owner=owner, key=key, environment_scope=scope,
                variable_type=variable.variable_type, protected=variable.protected, masked=variable.masked,
                hidden=variable.hidden, fingerprint=None if value is None else self.key.fingerprint(value),
                preview=preview(value or ""), path=path, owner_id=owner_id,
            ))
            if value:
                data = f"{key}={value}".encode("utf-8", "surrogatepass")
                yield MemoryUnit(path, data, variable_origin(owner_kind, owner, key, scope, owner_id))

    def _warn_project(self, path: str, error: gl_errors.GitlabError) -> None:
        self.could_not_read("project", f"project {path}: skipped: {_why(error)}")


_T = TypeVar("_T")
_R = TypeVar("_R")


def _read_ahead(read: Callable[[_T], _R], items: Iterable[_T], threads: int) -> Iterator[tuple[_T, _R]]:
    """(item, read(item)) for each of `items`, in their order, `threads` of them read at once and
    at most twice as many asked for ahead of the one given next; an error `read` raised is raised
    here, at its item. Daemon threads (`radar.threads`): an interrupted scan does not wait for
    what GitLab has not answered yet."""
    if threads <= 1:
        for item in items:
            yield item, read(item)
        return
    readers = DaemonThreads(threads, "radar-gitlab")
    ahead: deque[tuple[_T, Callable[[], _R]]] = deque()
    try:
        for item in items:
            ahead.append((item, readers.start(partial(read, item))))
            if len(ahead) > 2 * threads:
                first, answer = ahead.popleft()
                yield first, answer()
        while ahead:
            first, answer = ahead.popleft()
            yield first, answer()
    finally:
        readers.stop()  # a scan stopped half-way asks nothing more


def _why(error: gl_errors.GitlabError) -> str:
    reasons = {401: "the token was refused (401 Unauthorized)",
               403: "access denied (403 Forbidden; reading variables needs the Maintainer or Owner role)",
               404: "not found, or not visible to this token (404)"}
    if error.response_code is None:  # no HTTP error: an answer that could not be used (MalformedAnswer)
        return str(error.error_message)
    return reasons.get(error.response_code, f"{error.response_code}: {error.error_message}")
