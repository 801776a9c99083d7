"""Archives scanned inside: zip (jar, war), tar, tar.gz/tgz, tar.bz2, tar.xz and .gz, found by their
magic bytes, nested to a bounded depth, with limits against bombs; members reported as
`outer!inner`, and everything not opened named in a warning. Archives are built here with the
standard library; history and `--staged` run on real git repositories."""

from __future__ import annotations

import bz2
import gzip
import io
import json
import lzma
import subprocess
import tarfile
import zipfile
from pathlib import Path

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from git_repo import Repo
from radar.report.json import SCHEMA_PATH
from radar.scan.config import load_config
from radar.scan.examples import expand
from radar.scan.findings import FingerprintKey
from radar.scan.scanner import ScanOptions, ScanReport, scan_units
from radar.scan.sources.archives import ArchiveLimits, ArchiveReader, archive_kind
from radar.scan.sources.interface import MemoryUnit
from radar_cli import RADAR, WAIT, assert_absent, clean_env, radar
from test_report_formats import ACCEPTED_NOTES, gitlab_schema_validator, sarif_validator_results

ENV = clean_env(RADAR_FINGERPRINT_KEY="test-key")
KEY = FingerprintKey(b"test-key")
TOKENS = tuple("glpat-" + expand("{b64url:20}", f"archive-{n}") for n in range(8))
GITHUB = "ghp_" + expand("{ghcrc:30}", "archive-github")
PLANTED = TOKENS + (GITHUB,)


def line(n: int) -> bytes:
    return f"GITLAB_TOKEN={TOKENS[n]}\n".encode()


def zip_of(members: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", method) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


def tar_of(members: dict[str, bytes], mode: str = "w") -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode=mode) as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return out.getvalue()


def scan_bytes(data: bytes, path: str, config: str = "") -> ScanReport:
    options = ScanOptions(jobs=1, config=load_config(config, ".radar.toml")) if config else ScanOptions(jobs=1)
    return scan_units([MemoryUnit(path, data)], options, KEY)


def places(report: ScanReport) -> list[tuple[str, int]]:
    return sorted((f.path, f.line) for f in report.findings)


def cli(*args: str | Path) -> subprocess.CompletedProcess[bytes]:
    result = radar("scan", *args, env=ENV)
    assert_absent(PLANTED, result.stdout, result.stderr, message="planted token #{n} leaked into radar's output")
    return result


# ---- what is opened, and the path it is reported at ------------------------------------------

def test_a_zip_and_a_tgz_holding_six_tokens_give_six_findings_with_member_paths(tmp_path):
    (tmp_path / "dist").mkdir()
    (tmp_path / "dist" / "app.zip").write_bytes(zip_of({"config/a.env": line(0), "b.yml": line(1),
                                                        "c/d.sh": line(2)}))
    (tmp_path / "dist" / "app.tgz").write_bytes(tar_of({"config/creds.env": line(3), "x.properties": line(4),
                                                        "deep/y.json": line(5)}, "w:gz"))
    result = cli(tmp_path, "--format", "json")
    assert result.returncode == 1, result.stderr.decode()
    document = json.loads(result.stdout)
    jsonschema.Draft202012Validator(json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))).validate(document)
    assert sorted(f["path"] for f in document["findings"]) == [
        "dist/app.tgz!config/creds.env", "dist/app.tgz!deep/y.json", "dist/app.tgz!x.properties",
        "dist/app.zip!b.yml", "dist/app.zip!c/d.sh", "dist/app.zip!config/a.env"]
    assert result.stderr == b""  # everything was opened: nothing to warn about
    text = cli(tmp_path)
    assert "dist/app.tgz!config/creds.env:1:14\tgitlab-personal-access-token" in text.stdout.decode()


@pytest.mark.parametrize("name, build, member", [
    ("lib/app.jar", lambda: zip_of({"META-INF/app.properties": line(0)}), "META-INF/app.properties"),
    ("deploy/site.war", lambda: zip_of({"WEB-INF/web.env": line(0)}), "WEB-INF/web.env"),
    ("stored.zip", lambda: zip_of({"a.env": line(0)}, zipfile.ZIP_STORED), "a.env"),
    ("bz.zip", lambda: zip_of({"a.env": line(0)}, zipfile.ZIP_BZIP2), "a.env"),
    ("xz.zip", lambda: zip_of({"a.env": line(0)}, zipfile.ZIP_LZMA), "a.env"),
    ("plain.tar", lambda: tar_of({"etc/a.env": line(0)}), "etc/a.env"),
    ("b.tar.gz", lambda: tar_of({"a.env": line(0)}, "w:gz"), "a.env"),
    ("b.tar.bz2", lambda: tar_of({"a.env": line(0)}, "w:bz2"), "a.env"),
    ("b.tar.xz", lambda: tar_of({"a.env": line(0)}, "w:xz"), "a.env"),
    ("logs/app.log.gz", lambda: gzip.compress(b"starting\n" + line(0)), "app.log"),
    ("notes.txt.bz2", lambda: bz2.compress(line(0)), "notes.txt"),
    ("notes.txt.xz", lambda: lzma.compress(line(0)), "notes.txt"),
    # By magic bytes, not by name: a zip called .txt, a tar.gz called .gz, a gzip with no suffix.
    ("readme.txt", lambda: zip_of({"in.env": line(0)}), "in.env"),
    ("bundle.gz", lambda: tar_of({"x/in.env": line(0)}, "w:gz"), "x/in.env"),
    ("blob", lambda: gzip.compress(line(0)), "blob"),
    # Two gzip streams one after the other are one file, as gunzip reads them.
    ("two.gz", lambda: gzip.compress(b"first part\n") + gzip.compress(line(0)), "two"),
])
def test_each_format_is_opened_and_its_member_reported_as_outer_bang_inner(name, build, member):
    report = scan_bytes(build(), name)
    assert places(report) == [(f"{name}!{member}", 2 if name.endswith("app.log.gz") or name == "two.gz" else 1)]
    assert report.warnings == []
    assert report.findings[0].rule_id == "gitlab-personal-access-token"


def test_magic_bytes_decide_and_text_that_merely_starts_like_one_is_still_text():
    assert archive_kind(zip_of({"a": b"x"})) == "zip"
    assert archive_kind(tar_of({"a": b"x"})) == "tar"
    assert archive_kind(tar_of({"a": b"x"}, "w:bz2")) == "bzip2"
    assert archive_kind(b"BZh9 is what I called my band\n") is None
    # A text file that starts with PK\3\4 by accident is warned about and scanned as text.
    report = scan_bytes(b"PK\x03\x04 looks like a zip\n" + line(0), "odd.txt")
    assert places(report) == [("odd.txt", 2)]
    assert report.warnings == ["odd.txt: not a readable zip archive (File is not a zip file); not opened"]


def test_binary_members_are_skipped_as_binary_files_are():
    report = scan_bytes(zip_of({"logo.png": b"\x89PNG\r\n\x1a\n\0\0" + line(0), "a.env": line(1)}), "a.zip")
    assert places(report) == [("a.zip!a.env", 1)]
    assert report.stats.binary == 1 and report.stats.files == 1


def test_a_member_not_in_utf8_is_read_as_latin1_with_a_warning_naming_it():
    report = scan_bytes(zip_of({"win.ini": b"caf\xe9\n" + line(0)}), "a.zip")
    assert places(report) == [("a.zip!win.ini", 2)]
    assert report.warnings == ["a.zip!win.ini: not valid UTF-8; scanned as Latin-1"]


# ---- nesting -----------------------------------------------------------------------------------

def nested(levels: int) -> bytes:
    """A zip holding a zip ... `levels` archives deep, the innermost holding a token."""
    data = zip_of({"x.env": line(0)})
    for n in range(levels - 1, 0, -1):
        data = zip_of({f"l{n}.zip": data}) if n % 2 else tar_of({f"l{n}.tgz": data}, "w:gz")
    return data


def test_nested_archives_are_opened_down_to_the_depth_limit():
    report = scan_bytes(nested(3), "a.zip")
    assert places(report) == [("a.zip!l1.zip!l2.tgz!x.env", 1)]
    assert report.warnings == []


def test_an_archive_nested_past_the_depth_limit_is_a_warning_not_silence():
    report = scan_bytes(nested(4), "a.zip")
    assert report.findings == []
    assert report.warnings == ["a.zip!l1.zip!l2.tgz!l3.zip: an archive nested more than 3 deep; not opened"]


def test_the_depth_is_configurable_and_zero_turns_archives_off():
    report = scan_bytes(nested(2), "a.zip", "[archives]\ndepth = 1\n")
    assert report.warnings == ["a.zip!l1.zip: an archive nested more than 1 deep; not opened"]
    off = scan_bytes(nested(1), "a.zip", "[archives]\ndepth = 0\n")
    assert (off.findings, off.warnings, off.stats.binary) == ([], [], 1)


# ---- bombs and limits --------------------------------------------------------------------------

def test_a_highly_compressible_member_is_a_bomb_stopped_before_it_is_expanded():
    bomb = zip_of({"zeros.txt": b"0" * (50 << 20), "a.env": line(0)})
    report = scan_bytes(bomb, "bomb.zip")
    assert places(report) == [("bomb.zip!a.env", 1)]  # the rest is still scanned
    [warning] = report.warnings
    assert warning.startswith("bomb.zip!zeros.txt: expands ") and warning.endswith("a compression bomb; not opened")
    assert report.stats.bytes < 1000  # the bomb's content was never read


def test_a_bomb_whose_headers_lie_is_stopped_by_what_it_expands_to():
    # A gzip stream has no size to check first: the ratio is judged as it is read.
    report = scan_bytes(tar_of({"big.txt": b"0" * (9 << 20), "a.env": line(0)}, "w:gz"), "bomb.tgz")
    assert report.findings == []
    [warning] = report.warnings
    assert warning.startswith("bomb.tgz: expands ") and warning.endswith("a compression bomb; the rest of it is not read")


def test_a_bomb_inside_an_archive_stops_only_that_member():
    bomb = gzip.compress(b"0" * (9 << 20))
    report = scan_bytes(zip_of({"a/bomb.gz": bomb, "b.env": line(0)}, zipfile.ZIP_STORED), "outer.zip")
    assert places(report) == [("outer.zip!b.env", 1)]
    [warning] = report.warnings
    assert warning.startswith("outer.zip!a/bomb.gz: expands ") and warning.endswith("the rest of it is not read")


def test_a_42_zip_shaped_nest_of_bombs_is_bounded_by_depth_ratio_and_member_limits():
    layer = zip_of({"0.txt": b"\0" * (16 << 20)})
    for _ in range(4):  # 16 copies at each level, as 42.zip has: 16^4 * 16 MiB if it were expanded
        layer = zip_of({f"{n}.zip": layer for n in range(16)})
    reader = ArchiveReader(layer, "42.zip")
    members = list(reader.members())
    assert members == []
    assert reader.warnings[:2] == ["42.zip!0.zip!0.zip!0.zip: an archive nested more than 3 deep; not opened",
                                   "42.zip!0.zip!0.zip!1.zip: an archive nested more than 3 deep; not opened"]
    assert len(reader.warnings) == 16 ** 3
    assert reader.limits.total_bytes - reader._bytes_left < 64 << 20  # what was inflated, in all


def test_member_count_member_size_and_total_size_limits_are_warnings():
    many = zip_of({f"{n}.env": line(n) for n in range(5)})
    report = scan_bytes(many, "many.zip", "[archives]\nmembers = 2\n")
    assert places(report) == [("many.zip!0.env", 1), ("many.zip!1.env", 1)]
    assert report.warnings == ["many.zip: over the limit of 2 members; the rest of the archive is not scanned"]
    report = scan_bytes(zip_of({"big.env": b"#" * 5000 + b"\n" + line(0), "a.env": line(1)}), "s.zip",
                        "[archives]\nmember_bytes = 4000\n")
    assert places(report) == [("s.zip!a.env", 1)]
    assert report.warnings == ["s.zip!big.env: 5 kB is over the 4 kB limit for a member; not scanned"]
    report = scan_bytes(tar_of({"a.env": line(0), "b.txt": b"#" * 20000, "c.env": line(1)}), "t.tar",
                        "[archives]\ntotal_bytes = 10000\n")
    assert places(report) == [("t.tar!a.env", 1)]
    assert report.warnings == ["t.tar: over the limit of 10 kB uncompressed; the rest of the archive is not scanned"]


# ---- hostile and broken archives -------------------------------------------------------------

def test_absolute_and_climbing_member_names_are_labels_never_paths(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    data = tar_of({"../../escape.env": line(0), "/etc/cron.d/x.env": line(1), "ok/../../z.env": line(2)})
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "slip.tar").write_bytes(data)
    before = sorted(p for p in tmp_path.parent.rglob("*") if "escape" in p.name or p.name in ("x.env", "z.env"))
    result = cli("in", "--format", "json")
    assert sorted(f["path"] for f in json.loads(result.stdout)["findings"]) == [
        "slip.tar!../../escape.env", "slip.tar!/etc/cron.d/x.env", "slip.tar!ok/../../z.env"]
    warnings = result.stderr.decode().splitlines()
    assert warnings == [f"radar: warning: slip.tar!{name}: member name is absolute or climbs out with '..' "
                        "(radar only reads it, never writes it)"
                        for name in ("../../escape.env", "/etc/cron.d/x.env", "ok/../../z.env")]
    after = sorted(p for p in tmp_path.parent.rglob("*") if "escape" in p.name or p.name in ("x.env", "z.env"))
    assert after == before  # nothing was written anywhere


def test_zip_slip_names_with_backslashes_are_warned_about_too():
    report = scan_bytes(zip_of({"..\\..\\evil.env": line(0)}), "w.zip")
    assert places(report) == [("w.zip!..\\..\\evil.env", 1)]
    assert report.warnings == ["w.zip!..\\..\\evil.env: member name is absolute or climbs out with '..' "
                               "(radar only reads it, never writes it)"]


def test_links_and_devices_in_a_tar_are_not_followed():
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as archive:
        for name, kind, target in (("passwd", tarfile.SYMTYPE, "/etc/passwd"), ("again", tarfile.LNKTYPE, "a.env"),
                                   ("tty", tarfile.CHRTYPE, "")):
            info = tarfile.TarInfo(name)
            info.type, info.linkname = kind, target
            archive.addfile(info)
        info = tarfile.TarInfo("a.env")
        info.size = len(line(0))
        archive.addfile(info, io.BytesIO(line(0)))
    report = scan_bytes(out.getvalue(), "l.tar")
    assert places(report) == [("l.tar!a.env", 1)]
    assert report.warnings == ["l.tar!again: a hard link; not followed", "l.tar!passwd: a symbolic link; not followed",
                               "l.tar!tty: a device, FIFO or other special member; no content to scan"]


def test_a_symlink_in_a_zip_is_not_followed():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        info = zipfile.ZipInfo("link")
        info.external_attr = (0o120777 << 16)
        archive.writestr(info, "/etc/passwd")
        archive.writestr("a.env", line(0))
    report = scan_bytes(out.getvalue(), "s.zip")
    assert places(report) == [("s.zip!a.env", 1)]
    assert report.warnings == ["s.zip!link: a symbolic link; not followed"]


def test_an_encrypted_member_is_a_warning_and_the_others_are_scanned():
    data = bytearray(zip_of({"secret.env": b"\x13" * 40, "a.env": line(0)}))
    for header, at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):  # the first member's flags, in both headers
        data[data.index(header) + at] |= 0x1  # traditional PKWARE encryption: the data needs the password
    report = scan_bytes(bytes(data), "e.zip")
    assert places(report) == [("e.zip!a.env", 1)]
    assert report.warnings == ["e.zip!secret.env: encrypted; not opened"]


def test_an_unsupported_compression_method_is_a_warning():
    data = bytearray(zip_of({"a.env": line(0)}, zipfile.ZIP_STORED))
    for header in (b"PK\x03\x04", b"PK\x01\x02"):  # the method in the local and the central header
        at = data.index(header) + (8 if header == b"PK\x03\x04" else 10)
        data[at:at + 2] = (9).to_bytes(2, "little")  # Deflate64, which zipfile does not read
    report = scan_bytes(bytes(data), "m.zip")
    assert report.findings == []
    assert report.warnings == ["m.zip!a.env: That compression method is not supported; not opened"]


def test_duplicate_member_names_are_each_scanned_with_a_warning():
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as archive:
        for n in range(2):
            info = tarfile.TarInfo("a.env")
            info.size = len(line(n))
            archive.addfile(info, io.BytesIO(line(n)))
    report = scan_bytes(out.getvalue(), "d.tar")
    assert places(report) == [("d.tar!a.env", 1), ("d.tar!a.env", 1)]
    assert report.warnings == ["d.tar!a.env: member name appears more than once; each is scanned"]


@pytest.mark.parametrize("name, build", [
    ("t.zip", lambda: zip_of({"a.env": line(0), "b.env": line(1)})),
    ("t.tgz", lambda: tar_of({"a.env": line(0), "b.env": line(1)}, "w:gz")),
    ("t.tar.xz", lambda: tar_of({"a.env": line(0), "b.env": line(1)}, "w:xz")),
    ("t.tar", lambda: tar_of({"a.env": line(0), "b.env": b"x" * 2000 + line(1)})),
])
def test_a_truncated_archive_is_a_warning_naming_it(name, build):
    data = build()
    report = scan_bytes(data[: min(len(data), 2600) * 2 // 3], name)  # a plain tar is padded to 10 kB
    assert report.warnings and all(w.startswith(f"{name}") for w in report.warnings), report.warnings


SAMPLES = {
    "z.zip": zip_of({"a.env": line(0)}),
    "z.tgz": tar_of({"a.env": line(0)}, "w:gz"),
    "z.tar.bz2": tar_of({"a.env": line(0)}, "w:bz2"),
    "z.tar.xz": tar_of({"a.env": line(0)}, "w:xz"),
    "z.gz": gzip.compress(line(0)),
}


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.sampled_from(sorted(SAMPLES)), data=st.data())
def test_a_mutated_archive_never_crashes_and_yields_its_token_or_a_warning(name, data):
    original = SAMPLES[name]
    mutated = bytearray(original)
    for _ in range(data.draw(st.integers(1, 4))):
        mutated[data.draw(st.integers(0, len(mutated) - 1))] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(1, len(mutated)))
    report = scan_bytes(bytes(mutated[:cut]), name)
    assert report.findings or report.warnings or archive_kind(bytes(mutated[:cut])) is None


@settings(max_examples=300, deadline=None)
@given(magic=st.sampled_from([b"PK\x03\x04", b"PK\x05\x06", b"\x1f\x8b", b"BZh91AY&SY", b"\xfd7zXZ\x00"]),
       rest=st.binary(max_size=600))
def test_random_bytes_behind_a_magic_number_never_crash_and_are_warned_about(magic, rest):
    reader = ArchiveReader(magic + rest, "r.bin", ArchiveLimits())
    assert list(reader.members()) == [] or reader.opened
    assert reader.warnings or reader.opened


# ---- history, --staged, reports, baselines and allowlists --------------------------------------

def test_history_reports_an_archive_blob_at_each_path_it_was_committed_under(tmp_path):
    repo = Repo(tmp_path / "r")
    archive = tar_of({"config/creds.env": line(0)}, "w:gz")
    first = repo.commit("add the bundle", **{"dist__app.tgz": archive})
    repo.git("mv", "dist/app.tgz", "dist/old.tgz")
    moved = repo.commit("rename it")
    result = cli(repo.path, "--history", "--format", "json")
    assert result.returncode == 1, result.stderr.decode()
    [finding] = json.loads(result.stdout)["findings"]
    assert finding["path"] == "dist/app.tgz!config/creds.env"
    assert [(p["path"], p["commit"]) for p in finding["locations"]] == [
        ("dist/app.tgz!config/creds.env", first), ("dist/old.tgz!config/creds.env", moved)]
    assert finding["in_head"] is True
    assert json.loads(result.stdout)["summary"]["files"] == 1  # one blob, one member: read once


def test_staged_scans_an_archive_in_the_index(tmp_path):
    repo = Repo(tmp_path / "r")
    repo.write("lib/x.jar", zip_of({"META-INF/conf.properties": line(0)}))
    repo.git("add", "lib/x.jar")
    result = subprocess.run([*RADAR, "scan", "--staged", "--format", "json"], cwd=repo.path, capture_output=True,
                            env=ENV, timeout=WAIT)
    assert_absent(PLANTED, result.stdout, result.stderr)
    assert result.returncode == 1, result.stderr.decode()
    assert [f["path"] for f in json.loads(result.stdout)["findings"]] == ["lib/x.jar!META-INF/conf.properties"]


@pytest.fixture
def tree(tmp_path) -> Path:
    root = tmp_path / "tree"
    (root / "dist").mkdir(parents=True)
    (root / "dist" / "app.tgz").write_bytes(tar_of({"config/creds.env": line(0)}, "w:gz"))
    (root / "dist" / "a.zip").write_bytes(zip_of({"lib/b.jar": zip_of({"META-INF/x.properties": line(1)})}))
    (root / "plain.env").write_bytes(line(2))
    return root


def test_gitlab_and_sarif_reports_with_member_paths_pass_their_validators(tree, tmp_path):
    gitlab = json.loads(cli(tree, "--format", "gitlab").stdout)
    assert list(gitlab_schema_validator().iter_errors(gitlab)) == []
    assert sorted(v["location"]["file"] for v in gitlab["vulnerabilities"]) == [
        "dist/a.zip!lib/b.jar!META-INF/x.properties", "dist/app.tgz!config/creds.env", "plain.env"]
    sarif_path = tmp_path / "radar.sarif"
    sarif_path.write_bytes(cli(tree, "--format", "sarif").stdout)
    sarif = json.loads(sarif_path.read_text())
    uris = sorted(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in sarif["runs"][0]["results"])
    # A valid relative URI reference that decodes to the path every other format prints.
    assert uris == ["dist/a.zip%21lib/b.jar%21META-INF/x.properties", "dist/app.tgz%21config/creds.env", "plain.env"]
    results = sarif_validator_results(sarif_path, tmp_path / "validation.sarif")
    assert [r for r in results if r.get("level", "warning") != "note"] == []
    assert {r["ruleId"] for r in results} <= ACCEPTED_NOTES


def test_a_baseline_matches_archive_members(tree, tmp_path):
    baseline = tmp_path / "baseline.toml"
    assert radar("baseline", "create", baseline, tree, env=ENV).returncode == 0
    assert_absent(PLANTED, baseline.read_bytes())
    assert "dist/app.tgz!config/creds.env" in baseline.read_text()
    result = cli(tree, "--baseline", baseline)
    assert (result.returncode, result.stdout) == (0, b"")


@pytest.mark.parametrize("pattern, hidden", [
    ("dist/app.tgz", ["dist/app.tgz!config/creds.env"]),  # the archive covers what it holds
    ("*.env", ["dist/app.tgz!config/creds.env", "plain.env"]),  # globs see the member's path
    ("dist/a.zip", ["dist/a.zip!lib/b.jar!META-INF/x.properties"]),  # each level out
    ("**/b.jar", ["dist/a.zip!lib/b.jar!META-INF/x.properties"]),
    ("dist/app.tgz!config/creds.env", ["dist/app.tgz!config/creds.env"]),  # the full path
])
def test_allowlist_paths_match_a_member_by_its_full_path_or_its_archive(tree, pattern, hidden):
    (tree / ".radar.toml").write_text(f"[allowlist]\npaths = ['{pattern}']\n")
    result = cli(tree, "--format", "json", "--show-ignored")
    ignored = sorted(f["path"] for f in json.loads(result.stdout)["findings"] if f["ignored"])
    assert ignored == hidden


def test_a_member_name_with_control_characters_is_printed_escaped_on_one_line(tmp_path):
    name = "evil\x1b[2J\nname.env"
    (tmp_path / "n.zip").write_bytes(zip_of({name: line(0), "../" + name: line(1)}))
    result = cli(tmp_path)
    out, err = result.stdout.decode(), result.stderr.decode()
    assert "\x1b" not in out + err
    assert len(out.splitlines()) == 2 and len(err.splitlines()) == 1
    assert out.splitlines()[1].startswith("n.zip!evil\\x1b[2J\\nname.env:1:14\t")


def test_history_allowlists_an_archive_member_only_when_every_place_is_allowlisted(tmp_path):
    repo = Repo(tmp_path / "r")
    repo.commit("add the bundle", **{"dist__app.tgz": tar_of({"config/creds.env": line(0)}, "w:gz")})
    (repo.path / "build").mkdir()
    repo.git("mv", "dist/app.tgz", "build/app.tgz")
    repo.commit("move it")
    repo.write(".radar.toml", "[allowlist]\npaths = ['dist/app.tgz']\n")
    [finding] = json.loads(cli(repo.path, "--history", "--format", "json", "--show-ignored").stdout)["findings"]
    assert finding["ignored"] is False  # build/app.tgz!config/creds.env is not allowlisted
    repo.write(".radar.toml", "[allowlist]\npaths = ['dist/app.tgz', 'build/']\n")
    [finding] = json.loads(cli(repo.path, "--history", "--format", "json", "--show-ignored").stdout)["findings"]
    assert finding["ignored"] is True


@pytest.mark.parametrize("name", ["z.tgz", "z.zip", "z.gz"])
def test_every_single_bit_flip_and_every_cut_of_a_small_archive_gives_its_token_or_a_warning(name):
    # Exhaustive where the property test samples: a gzip stream's CRC is only checked at its end,
    # which tarfile never reads, so a tgz once lost a changed member without a word.
    original = SAMPLES[name]
    for at in range(len(original)):
        for damaged in (original[:at] + bytes([original[at] ^ 0x01]) + original[at + 1:], original[:at]):
            report = scan_bytes(damaged, name)
            assert report.findings or report.warnings or archive_kind(damaged) is None, (at, len(damaged))


def test_directory_entries_count_towards_the_member_limit_of_a_tar():
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as archive:
        for n in range(5):
            info = tarfile.TarInfo(f"d{n}")
            info.type = tarfile.DIRTYPE
            archive.addfile(info)
        info = tarfile.TarInfo("a.env")
        info.size = len(line(0))
        archive.addfile(info, io.BytesIO(line(0)))
    report = scan_bytes(out.getvalue(), "dirs.tgz", "[archives]\nmembers = 5\n")
    assert report.findings == []
    assert report.warnings == ["dirs.tgz: over the limit of 5 members; the rest of the archive is not scanned"]
    assert places(scan_bytes(out.getvalue(), "dirs.tgz", "[archives]\nmembers = 6\n")) == [("dirs.tgz!a.env", 1)]
