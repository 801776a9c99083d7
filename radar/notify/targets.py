"""Where notifications go: `--notify gitlab-issues` and `--notify webhook=URL`, and their settings.

A webhook URL is a credential in its own right (Slack's and Mattermost's carry their token in
the path), so no message and no repr shows more of it than its scheme, host and port.
"""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass, field
from typing import Literal, Mapping
from urllib.parse import SplitResult, urlsplit

from radar.errors import RadarError

GITLAB_ISSUES = "gitlab-issues"
WEBHOOK = "webhook"
DEFAULT_LABEL = "radar"
DEFAULT_MAX_ISSUES = 100
TIMEOUT = 10.0  # seconds for one webhook post or one GitLab request (radar's other clients wait 60)
TARGET_SYNTAX = "use gitlab-issues or webhook=https://HOST/PATH"


@dataclass(frozen=True)
class Target:
    kind: Literal["gitlab-issues", "webhook"]
    url: str | None = field(default=None, repr=False)  # the webhook's address: may hold its token

    @property
    def shown(self) -> str:
        """The target for messages: the webhook's origin only."""
        if self.url is None:
            return self.kind
        parts = urlsplit(self.url)
        return f"webhook {parts.scheme}://{_netloc(parts)}"


@dataclass(frozen=True)
class NotifySettings:
    """What the targets need besides the events; `subject` names what was scanned (for the webhook)."""

    gitlab_url: str | None = None
    token: str | None = field(default=None, repr=False)
    project: str | None = None  # where issues go: a numeric id or a full path
    label: str = DEFAULT_LABEL
    max_issues: int = DEFAULT_MAX_ISSUES
    subject: str = ""
    timeout: float = TIMEOUT


def parse_target(text: str) -> Target:
    """An argparse type for --notify. Errors never repeat the text: it may be a webhook URL."""
    if text == GITLAB_ISSUES:
        return Target(GITLAB_ISSUES)
    kind, equals, url = text.partition("=")
    if kind != WEBHOOK or not equals:
        raise argparse.ArgumentTypeError(f"not a notification target; {TARGET_SYNTAX}")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (raises ValueError for a port that is not a number in range)
    except ValueError:
        raise argparse.ArgumentTypeError("the webhook URL's host or port is not valid") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise argparse.ArgumentTypeError(f"the webhook URL must start with https:// or http:// and name a host; "
                                         f"{TARGET_SYNTAX}")
    if parts.username is not None or parts.password is not None:
        raise argparse.ArgumentTypeError("the webhook URL must not hold a user name or password (radar sends "
                                         "none); put the webhook's token where its service says, usually the path")
    if any(c.isspace() or ord(c) < 0x20 or ord(c) == 0x7F for c in url) or parts.fragment:
        raise argparse.ArgumentTypeError("the webhook URL holds spaces, control characters or a #fragment; "
                                         "percent-encode them")
    return Target(WEBHOOK, url)


def label_type(text: str) -> str:
    # Imported here: this module is read by every radar command's parser, text by notifying runs only.
    from radar.notify.text import MARKER_LABEL_PREFIX as MARKER_SCOPE

    if not text or "," in text or text.startswith(MARKER_SCOPE) or any(ord(c) < 0x20 for c in text):
        raise argparse.ArgumentTypeError(f"a label must be non-empty, without commas, and not start with "
                                         f"{MARKER_SCOPE} (radar's own marker labels)")
    return text


def add_arguments(parser: argparse.ArgumentParser, *, gitlab_options: bool = True) -> None:
    """--notify TARGET (repeatable), --notify-project, --notify-label, --notify-max-issues; and
    --url and --token-env, unless the parser has them already (`radar scan gitlab`'s)."""
    from radar.cli.common import non_empty, positive_int

    group = parser.add_argument_group("notifications")
    group.add_argument("--notify", type=parse_target, action="append", default=[], metavar="TARGET",
                       help="tell people about new and resolved findings: gitlab-issues (one issue per finding, "
                            "closed when resolved) or webhook=URL (one JSON summary with a Slack-compatible "
                            "text); repeatable")
    group.add_argument("--notify-project", type=non_empty, metavar="ID|PATH",
                       help="the GitLab project that gets the issues (default $CI_PROJECT_ID)")
    group.add_argument("--notify-label", type=label_type, metavar="LABEL",
                       help=f"the label on radar's issues (default {DEFAULT_LABEL})")
    group.add_argument("--notify-max-issues", type=positive_int, metavar="N",
                       help=f"at most N issues created, updated or closed a run (default {DEFAULT_MAX_ISSUES}); "
                            "the rest are counted in one warning")
    if gitlab_options:
        group.add_argument("--url", metavar="URL", help="GitLab's address (default $CI_SERVER_URL)")
        group.add_argument("--token-env", default="GITLAB_TOKEN", metavar="NAME",
                           help="environment variable holding the GitLab access token (default GITLAB_TOKEN)")


def targets_from(args: argparse.Namespace) -> tuple[Target, ...]:
    return tuple(dict.fromkeys(args.notify))  # the same target twice is told once


def settings_from(args: argparse.Namespace, environ: Mapping[str, str] | None = None,
                  subject: str = "") -> NotifySettings:
    """The settings for `args.notify`, checked before a scan that may take minutes, not after it."""
    environ = os.environ if environ is None else environ
    issues = any(t.kind == GITLAB_ISSUES for t in args.notify)
    if not issues:
        given = [name for name, value in (("--notify-project", args.notify_project), ("--notify-label", args.notify_label),
                                          ("--notify-max-issues", args.notify_max_issues)) if value is not None]
        if given:
            raise RadarError(f"{', '.join(given)} appl{'ies' if len(given) == 1 else 'y'} to --notify gitlab-issues only")
        return NotifySettings(subject=subject)
    url = args.url or environ.get("CI_SERVER_URL")
    if not url:
        raise RadarError("--notify gitlab-issues needs GitLab's address: give --url URL (inside a job "
                         "CI_SERVER_URL is used)")
    token = environ.get(args.token_env)
    if not token:
        if environ.get("CI_JOB_TOKEN"):
            raise RadarError(f"--notify gitlab-issues needs an access token in ${args.token_env}: the CI job "
                             "token cannot create, edit or close issues; use a project access token with the "
                             "api scope and at least the Reporter role (a masked CI/CD variable)")
        raise RadarError(f"--notify gitlab-issues needs an access token: set {args.token_env} to a token with "
                         "the api scope and at least the Reporter role on the project")
    project = args.notify_project or environ.get("CI_PROJECT_ID")
    if not project:
        raise RadarError("--notify gitlab-issues needs the project for the issues: give --notify-project ID|PATH "
                         "(inside a job CI_PROJECT_ID is used)")
    return NotifySettings(gitlab_url=url, token=token, project=project, label=args.notify_label or DEFAULT_LABEL,
                          max_issues=args.notify_max_issues or DEFAULT_MAX_ISSUES, subject=subject)


def _netloc(parts: SplitResult) -> str:
    host = parts.hostname or ""
    host = f"[{host}]" if ":" in host else host
    return f"{host}:{parts.port}" if parts.port else host
