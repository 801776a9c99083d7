"""GitLab's answers, checked against the shapes its REST API documents before the scan uses them.

Whatever answers at the address given (or sits between) chooses what radar reads: a listing that
is an object, a string or a nesting of arrays, a variable without a key, a value that is a number,
a project whose id is a string. Each check here turns such an answer into a `MalformedAnswer`,
which is python-gitlab's `GitlabParsingError` (its error for "an incorrect or malformed server
response"), so the scan meets it where it meets any answer it cannot read: a project or group
skipped with a warning and the scan incomplete, or one error line when the scope itself cannot be
read; never an exception of radar's own.

A listing stops at `limit` items, so an answer whose pages link on without end costs bounded time
and memory: a project's variables are kept whole until its CI file is read, and GitLab's own
limits are 8,000 variables a project and 30,000 a group, so a listing far past them is not
GitLab's; the projects and subgroups listings are bounded far above any organisation's size.
"""

from __future__ import annotations

from typing import Any, Iterable, Iterator, NamedTuple

from gitlab import exceptions as gl_errors

DEFAULT_CI_FILE = ".gitlab-ci.yml"
# Variables kept from one listing: ten times GitLab's largest limit (30,000 a group).
MAX_VARIABLES = 300_000
MAX_PROJECTS = 1_000_000  # in one group's listing (with its subgroups')
MAX_GROUPS = 100_000  # subgroups of one group


class MalformedAnswer(gl_errors.GitlabParsingError):
    """An answer that is not what GitLab's API documents (see the module's docstring)."""


class Listed(NamedTuple):
    """A project as a listing (or a look-up) gives it."""

    path: str
    id: int
    default_branch: str | None
    ci_config_path: str | None

    @property
    def ci_file(self) -> str:
        return self.ci_config_path or DEFAULT_CI_FILE

    @property
    def ci_file_to_read(self) -> str | None:
        """The CI file to ask for: none in an empty repository, nor one in another project or at a URL."""
        path = self.ci_file
        return None if not self.default_branch or "@" in path or "://" in path else path


class Group(NamedTuple):
    full_path: str
    id: int


class Variable(NamedTuple):
    """A CI/CD variable as GitLab lists it; `hidden` is None where GitLab has no such flag."""

    key: str
    value: str | None
    environment_scope: str
    variable_type: str
    protected: bool
    masked: bool
    hidden: bool | None


def listing(items: Iterable[Any], what: str, limit: int | None = None) -> Iterator[dict]:
    """The objects of a listing as python-gitlab pages through it, each checked to be an object,
    at most `limit` of them. `what` names the items in messages ("variables")."""
    pages = iter(items)
    count = 0
    while True:
        try:
            item = next(pages)
        except StopIteration:
            return
        # python-gitlab indexes a page's JSON as a list: an object answers KeyError, null or a
        # number TypeError; it asks for the next page from inside next() itself, so a GitLab
        # answering empty pages that each link to another one ends in RecursionError.
        except (KeyError, TypeError):
            raise MalformedAnswer(f"GitLab's answer is not a list of {what}") from None
        except RecursionError:
            raise MalformedAnswer(f"GitLab's listing of {what} runs on through empty pages") from None
        if not isinstance(item, dict):  # a string's characters, or an array of arrays
            raise MalformedAnswer(f"GitLab's answer is not a list of {what}")
        count += 1
        if limit is not None and count > limit:
            raise MalformedAnswer(f"GitLab's listing of {what} holds more than {limit:,} of them")
        yield item


def variables(items: Iterable[Any]) -> Iterator[Variable]:
    """The variables of a listing of CI/CD variables, checked, at most MAX_VARIABLES."""
    return map(variable, listing(items, "variables", MAX_VARIABLES))


def projects(items: Iterable[Any]) -> Iterator[Listed]:
    """The projects of a listing of projects, checked, at most MAX_PROJECTS."""
    return map(project, listing(items, "projects", MAX_PROJECTS))


def groups(items: Iterable[Any]) -> Iterator[Group]:
    """The groups of a listing of groups, checked, at most MAX_GROUPS."""
    return map(group, listing(items, "groups", MAX_GROUPS))


def project(attrs: Any) -> Listed:
    """A project object (GET /projects/:id, or an item of a listing of projects)."""
    attrs = _object(attrs, "a project")
    return Listed(_text(attrs, "path_with_namespace", "a project"), _id(attrs, "a project"),
                  _optional_text(attrs, "default_branch", "a project"),
                  _optional_text(attrs, "ci_config_path", "a project"))


def group(attrs: Any) -> Group:
    """A group object (GET /groups/:id, or an item of a listing of groups)."""
    attrs = _object(attrs, "a group")
    return Group(_text(attrs, "full_path", "a group"), _id(attrs, "a group"))


def variable(attrs: Any) -> Variable:
    """A CI/CD variable object (project, group or instance); a null value is a hidden variable's."""
    attrs = _object(attrs, "a variable")
    return Variable(
        key=_text(attrs, "key", "a variable"),
        value=_optional_text(attrs, "value", "a variable"),
        environment_scope=_optional_text(attrs, "environment_scope", "a variable") or "*",
        variable_type=_optional_text(attrs, "variable_type", "a variable") or "env_var",
        protected=bool(_flag(attrs, "protected")), masked=bool(_flag(attrs, "masked")),
        hidden=_flag(attrs, "hidden"),
    )


def _object(value: Any, what: str) -> dict:
    if not isinstance(value, dict):
        raise MalformedAnswer(f"GitLab's answer is not {what}")
    return value


def _id(attrs: dict, what: str) -> int:
    value = attrs.get("id")
    if type(value) is not int or value <= 0:  # bool is an int; a string id would go into API paths
        raise MalformedAnswer(f"GitLab's answer is not {what}: its id is not a positive number")
    return value


def _text(attrs: dict, name: str, what: str) -> str:
    value = attrs.get(name)
    if not isinstance(value, str) or not value:
        raise MalformedAnswer(f"GitLab's answer is not {what}: its {name} is not a text")
    return value


def _optional_text(attrs: dict, name: str, what: str) -> str | None:
    value = attrs.get(name)
    if value is None or isinstance(value, str):
        return value
    raise MalformedAnswer(f"GitLab's answer is not {what}: its {name} is not a text")


def _flag(attrs: dict, name: str) -> bool | None:
    value = attrs.get(name)
    if value is None or isinstance(value, bool):
        return value
    raise MalformedAnswer(f"GitLab's answer is not a variable: its {name} is not true or false")
