"""What a report says about the scan itself: what was scanned, how, when, and the totals."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Mapping

from radar import __version__

if TYPE_CHECKING:
    from radar.scan.shard import ShardReport

# Where people learn about radar (SARIF's tool.driver.informationUri, GitLab's analyzer url).
PROJECT_URL = "https://pypi.org/project/radar/"


@dataclass(frozen=True)
class ReportContext:
    kind: str  # "directory", "history" or "gitlab"
    target: str  # the scanned PATH as given, or GitLab's URL
    root: str  # the absolute directory findings' paths are relative to (a URL for GitLab scans)
    started: datetime  # aware, UTC
    finished: datetime
    summary: Mapping[str, int] = field(default_factory=dict)  # findings, files, bytes, ...
    warnings: tuple[str, ...] = ()
    tool_version: str = __version__
    # What the scan could not read (`2 files could not be read`), None when it read everything:
    # the report then describes part of what was asked for, and its format must say so.
    incomplete: str | None = None
    fingerprint_key_id: str | None = None  # FingerprintKey.key_id: which key made the fingerprints
    shard: ShardReport | None = None  # a sharded GitLab scan's part (`--shard I/N`): JSON only

    def as_dict(self) -> dict:
        scan = {"kind": self.kind, "target": self.target, "root": self.root,
                "started": _iso(self.started), "finished": _iso(self.finished),
                "radar_version": self.tool_version, "complete": self.incomplete is None}
        if self.fingerprint_key_id is not None:
            scan["fingerprint_key_id"] = self.fingerprint_key_id
        return scan


def now() -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0)


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def sarif_time(moment: datetime) -> str:
    """SARIF's dateTime: ISO 8601 in UTC with a Z."""
    return _iso(moment)


def gitlab_time(moment: datetime) -> str:
    """GitLab security reports' `yyyy-mm-ddThh:mm:ss`: UTC, no zone designator."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
