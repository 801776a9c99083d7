"""What people read: GitLab issue titles, descriptions and notes, and the webhook's summary.

Places, names and rule ids come from what radar scanned, so whoever wrote the scanned tree or
the GitLab settings chooses them. In GitLab, Markdown in a title, description or note does more
than format: `@all` notifies every member, `#12` and `~label` link and cross-reference, and a
line starting with `/close` or `/assign` in a description or note is a quick action run with
radar's token. So untrusted text is made inert before it is written:

- events already hold `printable()` text, so nothing untrusted holds a line break: a quick
  action needs the start of a line, and every line radar writes starts with radar's own words;
- places go into code spans (GitLab resolves no reference and no Markdown inside one), fenced
  with more backticks than the text holds, as CommonMark allows;
- other untrusted words get a backslash before each character that Markdown or GitLab's
  references give a meaning to (CommonMark's backslash escapes; GitLab honours them for
  references since 14.0).

In the webhook's `text`, Slack gives meaning to `&`, `<` and `>` only (`<!channel>`,
`<@U123>`, `<url|label>`); they are written as `&amp;`, `&lt;` and `&gt;`, as Slack documents.
"""

from __future__ import annotations

import hashlib
import re
from typing import Sequence

from radar.notify.events import Event

TITLE_LIMIT = 255  # GitLab refuses longer issue titles
PLACE_IN_TITLE = 150
FIELD_LIMIT = 500  # characters of one field in an issue or the webhook JSON: a path can be any length
MARKER_LABEL_PREFIX = "radar::"

# CommonMark inline syntax, GitLab references (@user #1 !1 $1 ~label %milestone &epic [[wiki]]),
# emoji (:name:), inline diffs ({+ +}, [- -]), math ($`..`$), autolinks (<..>) and entities (&..;).
_MARKDOWN = re.compile(r"([\\`*_\[\]{}()<>!#$%&~@:|^+=\"])")
_BACKTICKS = re.compile("`+")
_HEX = re.compile("[0-9a-f]{16,}")


def clip(text: str, limit: int = FIELD_LIMIT) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def escaped(text: str) -> str:
    """`text` with a backslash before each character Markdown or GitLab could act on."""
    return _MARKDOWN.sub(r"\\\1", text)


def code(text: str) -> str:
    """`text` as a CommonMark code span: a fence longer than any backtick run inside it, and a
    space on each side where CommonMark needs one (it strips exactly one from each side when
    both are spaces), so that no text can close the span early or leave it empty."""
    longest = max((len(run) for run in _BACKTICKS.findall(text)), default=0)
    fence = "`" * (longest + 1)
    if not text:
        return "` `"
    if "`" in (text[0], text[-1]) or (text[0] == " " and text[-1] == " "):
        text = f" {text} "
    return f"{fence}{text}{fence}"


def marker_label(event: Event) -> str:
    """The label that finds this finding's issue: the first 16 hex digits of the fingerprint (a
    fingerprint that is not hex, from a hand-edited state, is hashed first: labels are
    comma-separated in the API, so only plain characters may go in)."""
    fingerprint = event.fingerprint if _HEX.fullmatch(event.fingerprint) else _digest(event.fingerprint)
    return MARKER_LABEL_PREFIX + fingerprint[:16]


def marker(event: Event) -> str:
    """A hidden line in the description naming the finding exactly (rule and fingerprint), for the
    rare fingerprint that shares its label's 16 digits or is found by two rules."""
    return f"<!-- radar-finding {_digest(event.rule_id + chr(0) + event.fingerprint)} -->"


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def title(event: Event) -> str:
    place = clip(event.place, PLACE_IN_TITLE)
    # A code span reads best; a place holding backticks would need a fence as long as them, so it
    # is escaped instead. With the clips above a code-span title stays under TITLE_LIMIT, so the
    # last clip can only cut an escaped title, where a cut leaves nothing live.
    shown = escaped(place) if "`" in place else code(place)
    return clip(f"radar: {escaped(clip(event.secret_type, 40))} in {shown}", TITLE_LIMIT)


def description(event: Event) -> str:
    return "\n".join((
        marker(event),
        "radar found a credential. The value is not shown here, nor anywhere radar reports.",
        "",
        f"- **Where:** {code(clip(event.place))}",
        f"- **What:** {escaped(clip(event.secret_type))} (rule {code(clip(event.rule_id))})",
        f"- **Severity:** {escaped(clip(event.severity))}",
        f"- **Found by:** radar's {escaped(event.source)} scan",
        f"- **Fingerprint:** {code(clip(event.fingerprint))} (a keyed hash of the value: the same "
        "value has the same fingerprint in every radar report)",
        "",
        f"**What to do:** {escaped(clip(event.remediation, 2 * FIELD_LIMIT))}",
        "",
        "radar closes this issue when a later run no longer finds the credential, and reopens it if it comes back.",
    ))


def still_found_note(event: Event) -> str:
    return f"radar still finds this credential, at {code(clip(event.place))}."


def reopened_note(event: Event) -> str:
    return (f"radar finds this credential again, at {code(clip(event.place))}: reopened.\n\n"
            f"**What to do:** {escaped(clip(event.remediation, 2 * FIELD_LIMIT))}")


def resolved_note(event: Event) -> str:
    return (f"radar no longer finds this credential at {code(clip(event.place))}: closing.\n\n"
            f"{escaped(clip(event.remediation, 2 * FIELD_LIMIT))}")


# --- the webhook ---------------------------------------------------------------------------------

WEBHOOK_EVENTS = 100  # per list; the rest are counted in "omitted"
TEXT_EVENTS = 5  # named in the text; the text says how many more there are


def slack_escaped(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def webhook_payload(events: Sequence[Event], subject: str) -> dict:
    """The summary JSON: a Slack-compatible `text`, then the events, at most WEBHOOK_EVENTS of each
    kind (the others counted in `omitted`), every field clipped to FIELD_LIMIT characters."""
    new = [e for e in events if e.kind == "new"]
    resolved = [e for e in events if e.kind == "resolved"]
    where = f" in {clip(subject, 200)}" if subject else ""
    lines = [f"radar: {len(new)} new, {len(resolved)} resolved{where}"]
    for kind, group in (("new", new), ("resolved", resolved)):
        for e in group[:TEXT_EVENTS]:
            lines.append(f"• {kind}: {clip(e.secret_type, 60)} at {clip(e.place, 200)} ({clip(e.severity, 20)})")
        if len(group) > TEXT_EVENTS:
            lines.append(f"• … and {len(group) - TEXT_EVENTS} more {kind}")
    return {
        "text": slack_escaped("\n".join(lines)),
        "new": [_clipped(e) for e in new[:WEBHOOK_EVENTS]],
        "resolved": [_clipped(e) for e in resolved[:WEBHOOK_EVENTS]],
        "omitted": {"new": max(0, len(new) - WEBHOOK_EVENTS), "resolved": max(0, len(resolved) - WEBHOOK_EVENTS)},
    }


def _clipped(event: Event) -> dict[str, str]:
    return {name: clip(value) for name, value in event.as_dict().items()}
