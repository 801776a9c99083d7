"""Notifications for scheduled monitoring: what changed since the last run, told to people.

`events` turns new findings and resolved state entries into `Event`s (no value, places already
escaped); `targets` parses `--notify` and builds the settings; `send` delivers the events to
each target: `gitlab_issues` keeps one GitLab issue per finding, `webhook` posts one summary
JSON. `text` writes what people read (issue titles, descriptions, notes, the webhook's text),
inert against Markdown, mentions and quick actions hidden in scanned names.
"""
