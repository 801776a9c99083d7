"""What a report says about the scan itself: what was scanned, how, when, and the totals."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Mapping

from radar import __version__

if TYPE_CHECKING:
    from radar.scan.rules import Rule
    from radar.scan.shard import ShardReport

# Where people learn about radar (SARIF's tool.driver.informationUri, GitLab's analyzer url).
PROJECT_URL = "https://pypi.org/project/radar-ci/"


@dataclass(frozen=True)
class ReportContext:
    kind: str  # "directory", "history", "gitlab" or "vault" (radar audit vault)
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
    targets: tuple[str, ...] = ()  # the PATHs as given, when a scan was given several (target is then ".")
    # Names the key the fingerprints were made with (FingerprintKey.key_id): reports whose ids
    # differ cannot be compared by fingerprint.
    fingerprint_key_id: str | None = None
    # radar monitor's comparison with its last run (counts, resolved entries), None for scans.
    monitor: Mapping | None = None
    # The scan configuration (.radar.toml) in effect, as the user named it, None without one; the
    # rules it added (reports describe them as they describe shipped ones) and the ids it disabled.
    config: str | None = None
    added_rules: tuple[Rule, ...] = ()
    disabled_rules: tuple[str, ...] = ()
    shard: ShardReport | None = None  # a sharded GitLab scan's part (`--shard I/N`): JSON only

    def as_dict(self) -> dict:
        data = {"kind": self.kind, "target": self.target, "root": self.root,
                "started": _iso(self.started), "finished": _iso(self.finished),
                "radar_version": self.tool_version, "complete": self.incomplete is None,
                **({"targets": list(self.targets)} if self.targets else {})}
        if self.fingerprint_key_id:
            data["fingerprint_key_id"] = self.fingerprint_key_id
        if self.config is not None:
            data["config"] = {"path": self.config, "added_rules": [r.id for r in self.added_rules],
                              "disabled_rules": sorted(self.disabled_rules)}
        return data


def now() -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0)


def _iso(moment: datetime) -> str:
    return _utc(moment) + "Z"


def _utc(moment: datetime) -> str:
    # The year by hand: strftime's %Y gives "3", not "0003", for years before 1000 on glibc, and a
    # merged report takes its times from reports radar did not write.
    moment = moment.astimezone(timezone.utc)
    return f"{moment.year:04d}-{moment:%m-%dT%H:%M:%S}"


def sarif_time(moment: datetime) -> str:
    """SARIF's dateTime: ISO 8601 in UTC with a Z."""
    return _iso(moment)


def gitlab_time(moment: datetime) -> str:
    """GitLab security reports' `yyyy-mm-ddThh:mm:ss`: UTC, no zone designator."""
    return _utc(moment)
