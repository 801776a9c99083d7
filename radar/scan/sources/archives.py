"""Archives read in memory: zip (jar, war, ear, apk, ...), tar, and gzip, bzip2 or xz streams
(a compressed tar, or one compressed file), nested to a bounded depth.

Any unit whose bytes are an archive (a directory's file, a history or staged blob) is opened here,
whatever its name says: the kind comes from magic bytes (`PK\\3\\4`, `\\x1f\\x8b`, `BZh`, `\\xfd7zXZ`,
`ustar` at offset 257), so a `.jar` is a zip and a `.gz` holding a tar is a tar.gz. Members are
read into memory one at a time and handed back as `Member(path, data)`; nothing is ever written
to disk, so a member's name is only a label: `dist/app.tgz!config/creds.env`, and nested,
`a.zip!lib/b.jar!META-INF/x.properties`. A gzip, bzip2 or xz stream that is not a tar is one
member, named after the outer file without its suffix (`logs/app.log.gz!app.log`).

Every archive is hostile until read. `ArchiveLimits` bounds what one top-level unit may cost, over
all its levels: how deep archives nest, how many members are looked at, how many uncompressed bytes
are read in all and per member, and how far a member may expand (more than `ratio` times its
compressed size once past `ratio_floor` is a bomb: reading stops there). Decompression is done
in small steps with a cap on each step's output, so a bomb costs at most the bytes read before
it is caught, never its expanded size. Tar headers that would make the standard library read a
long name or pax record of any size are refused the same way.

What is not opened is said in a warning that names the archive and the member, and reading goes
on: encrypted members, unsupported compression methods, corrupt or truncated archives, links and
devices in a tar (no content of their own), members over a limit, nesting past the depth limit.
Names that are absolute or climb out with `..` (zip slip) and names given twice are warned about
and still scanned: their content is what matters, and the name is never used as a path. An
archive that cannot be opened at all is also scanned as a plain file, as before, so that a text
file which merely starts with a magic number is not lost.
"""

from __future__ import annotations

import bz2
import io
import lzma
import posixpath
import stat
import tarfile
import zipfile
import zlib
from dataclasses import dataclass, field
from typing import Iterator

from radar.sizes import human_size

MiB = 1 << 20
_STEP = 1 << 16  # bytes of output asked of a decompressor at a time: what a bomb can cost before the check
_FEED = 1 << 14  # bytes of compressed input given at a time: the ratio is judged on what was given
_TAR_MAGIC_OFFSET = 257
_MAX_TAR_HEADER = MiB  # a long name or pax record is a few hundred bytes; more is not a header
_SUFFIXES = {"gzip": (".gz", ".gzip", ".z"), "bzip2": (".bz2", ".bz", ".bzip2"), "xz": (".xz", ".lzma")}


@dataclass(frozen=True)
class ArchiveLimits:
    """What opening one top-level unit may cost, over all its nested archives (`depth` 0: archives
    are not opened, and are skipped as binary files are)."""

    depth: int = 3  # archives inside archives: `a.zip!b.jar!c.tgz!x` is 3 deep
    total_bytes: int = 256 * MiB  # uncompressed bytes read, in all
    member_bytes: int = 10_000_000  # one member's uncompressed size (as --max-file-size for files)
    members: int = 10_000  # members looked at, in all
    ratio: int = 100  # a member expanding more than this many times its compressed size ...
    ratio_floor: int = MiB  # ... once past this many bytes is a bomb


@dataclass(frozen=True)
class Member:
    path: str  # `outer!inner`, a label only
    data: bytes = field(repr=False)


class _Unreadable(Exception):
    """This archive, or this member, cannot be read on; the message says why."""


class _Stop(Exception):
    """A limit for the whole top-level unit is reached: nothing more is read from it."""


def archive_kind(data: bytes) -> str | None:
    """`zip`, `tar`, `gzip`, `bzip2`, `xz`, or None: what the magic bytes say `data` is."""
    head = data[:8]
    if head[:4] in (b"PK\x03\x04", b"PK\x05\x06"):  # a local file header, or an empty archive's end record
        return "zip"
    if head[:2] == b"\x1f\x8b":
        return "gzip"
    # bzip2: "BZh", the block size, then a block's or the end's 48-bit magic (so text is not taken for it).
    if head[:3] == b"BZh" and head[3:4] in b"123456789" and data[4:10] in (b"1AY&SY", b"\x17rE8P\x90"):
        return "bzip2"
    if head[:6] == b"\xfd7zXZ\x00":
        return "xz"
    if data[_TAR_MAGIC_OFFSET:_TAR_MAGIC_OFFSET + 5] == b"ustar":
        return "tar"
    return None


class ArchiveReader:
    """Opens the archive `data` found at `path`; `members()` yields what can be scanned, and
    `warnings` says what was not. `opened` is False when no member's content could be read."""

    def __init__(self, data: bytes, path: str, limits: ArchiveLimits = ArchiveLimits()) -> None:
        self.data = data
        self.path = path
        self.limits = limits
        self.warnings: list[str] = []
        self.opened = False
        self._bytes_left = limits.total_bytes
        self._members_left = limits.members

    def members(self) -> Iterator[Member]:
        kind = archive_kind(self.data)
        if kind is None or self.limits.depth < 1:
            return
        try:
            yield from self._open(kind, self.data, self.path, 1)
        except _Stop as e:
            self.warnings.append(f"{self.path}: {e}; the rest of the archive is not scanned")

    # -- one archive, at one level --------------------------------------------------------------

    def _open(self, kind: str, data: bytes, path: str, depth: int) -> Iterator[Member]:
        try:
            if kind == "zip":
                yield from self._zip(data, path, depth)
            elif kind == "tar":
                yield from self._tar(io.BytesIO(data), path, depth)
            else:
                yield from self._stream(kind, data, path, depth)
        except _Unreadable as e:
            self.warnings.append(f"{path}: {e}")

    def _member(self, data: bytes, path: str, depth: int) -> Iterator[Member]:
        """A member's content: scanned, or opened when it is an archive itself."""
        self.opened = True
        kind = archive_kind(data)
        if kind is None:
            yield Member(path, data)
        elif depth >= self.limits.depth:
            self.warnings.append(f"{path}: an archive nested more than {self.limits.depth} deep; not opened")
        else:
            yield from self._open(kind, data, path, depth + 1)

    def _count_member(self) -> None:
        if self._members_left <= 0:
            raise _Stop(f"over the limit of {self.limits.members:,} members")
        self._members_left -= 1

    def _take(self, n: int) -> None:
        self._bytes_left -= n
        if self._bytes_left < 0:
            raise _Stop(f"over the limit of {human_size(self.limits.total_bytes)} uncompressed")

    def _bomb(self, produced: int, consumed: int) -> bool:
        return produced > self.limits.ratio_floor and produced > self.limits.ratio * max(consumed, 1)

    def _name_warnings(self, archive: str, name: str, seen: set[str]) -> None:
        parts = name.replace("\\", "/").split("/")
        if name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":") or ".." in parts:
            self.warnings.append(f"{archive}!{name}: member name is absolute or climbs out with '..' "
                                 "(radar only reads it, never writes it)")
        if name in seen:
            self.warnings.append(f"{archive}!{name}: member name appears more than once; each is scanned")
        seen.add(name)

    # -- zip --------------------------------------------------------------------------------------

    def _zip(self, data: bytes, path: str, depth: int) -> Iterator[Member]:
        try:
            archive = zipfile.ZipFile(io.BytesIO(data))
            infos = archive.infolist()
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError, NotImplementedError) as e:
            raise _Unreadable(f"not a readable zip archive ({_why(e)}); not opened") from None
        seen: set[str] = set()
        for info in infos:
            if info.is_dir():
                continue
            self._count_member()
            name = info.filename
            label = f"{path}!{name}"
            self._name_warnings(path, name, seen)
            if stat.S_ISLNK(info.external_attr >> 16):
                self.warnings.append(f"{label}: a symbolic link; not followed")
                continue
            if info.flag_bits & 0x1:
                self.warnings.append(f"{label}: encrypted; not opened")
                continue
            if self._bomb(info.file_size, info.compress_size):
                self.warnings.append(f"{label}: expands {human_size(info.compress_size)} to "
                                     f"{human_size(info.file_size)}, a compression bomb; not opened")
                continue
            if info.file_size > self.limits.member_bytes:
                self.warnings.append(f"{label}: {human_size(info.file_size)} is over the "
                                     f"{human_size(self.limits.member_bytes)} limit for a member; not scanned")
                continue
            try:
                content = self._read_zip_member(archive, info)
            except _Unreadable as e:
                self.warnings.append(f"{label}: {e}")
                continue
            yield from self._member(content, label, depth)

    def _read_zip_member(self, archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
        # zipfile stops at the declared size and checks the CRC at the end: the size was checked above.
        parts = []
        try:
            with archive.open(info) as f:
                while chunk := f.read(_STEP):
                    self._take(len(chunk))
                    parts.append(chunk)
        except NotImplementedError as e:
            raise _Unreadable(f"{_why(e)}; not opened") from None
        except (zipfile.BadZipFile, OSError, ValueError, EOFError, RuntimeError, zlib.error, lzma.LZMAError) as e:
            raise _Unreadable(f"corrupt ({_why(e)}); not scanned") from None
        return b"".join(parts)

    # -- tar ----------------------------------------------------------------------------------------

    def _tar(self, stream: io.BytesIO | _Inflating, path: str, depth: int) -> Iterator[Member]:
        problems: list[str] = []
        try:
            archive = tarfile.open(fileobj=stream, mode="r|", tarinfo=_checked_tarinfo(problems))
        except (tarfile.TarError, OSError, EOFError, ValueError, zlib.error, lzma.LZMAError) as e:
            raise _Unreadable(f"not a readable tar archive ({_why(e)}); not opened") from None
        seen: set[str] = set()
        try:
            for info in archive:
                self._count_member()  # directories too: tarfile keeps every header it has read
                if info.isdir():
                    continue
                label = f"{path}!{info.name}"
                self._name_warnings(path, info.name, seen)
                if info.issym() or info.islnk():
                    kind = "a symbolic link" if info.issym() else "a hard link"
                    self.warnings.append(f"{label}: {kind}; not followed")
                    continue
                if not info.isreg():
                    self.warnings.append(f"{label}: a device, FIFO or other special member; no content to scan")
                    continue
                if info.size > self.limits.member_bytes:
                    self.warnings.append(f"{label}: {human_size(info.size)} is over the "
                                         f"{human_size(self.limits.member_bytes)} limit for a member; not scanned")
                    continue
                content = archive.extractfile(info).read()  # type: ignore[union-attr]
                self._take(len(content))
                yield from self._member(content, label, depth)
        except (tarfile.TarError, OSError, EOFError, ValueError, zlib.error, lzma.LZMAError) as e:
            raise _Unreadable(f"corrupt tar archive ({_why(e)}); the rest is not scanned") from None
        if problems:
            raise _Unreadable(f"corrupt tar archive ({problems[0]}); the rest is not scanned")

    # -- gzip, bzip2, xz ----------------------------------------------------------------------------

    def _stream(self, kind: str, data: bytes, path: str, depth: int) -> Iterator[Member]:
        stream = _Inflating(kind, data, self)
        try:
            head = stream.read(_TAR_MAGIC_OFFSET + 5)
        except (OSError, EOFError, zlib.error, lzma.LZMAError, ValueError) as e:
            raise _Unreadable(f"corrupt {kind} data ({_why(e)}); not opened") from None
        if archive_kind(head) == "tar":
            stream.unread(head)
            yield from self._tar(stream, path, depth)
            # tarfile stops at the end-of-archive blocks: reading on to the stream's end is what
            # checks its CRC, so that a member changed in transit is not scanned without a word.
            try:
                while stream.read(_STEP):
                    pass
            except (OSError, EOFError, zlib.error, lzma.LZMAError, ValueError) as e:
                raise _Unreadable(f"corrupt {kind} data ({_why(e)}); its members may be damaged") from None
            return
        self._count_member()
        label = f"{path}!{_inner_name(path, kind)}"
        try:
            rest = stream.read(self.limits.member_bytes + 1 - len(head))
        except (OSError, EOFError, zlib.error, lzma.LZMAError, ValueError) as e:
            raise _Unreadable(f"corrupt {kind} data ({_why(e)}); not scanned") from None
        content = head + rest
        if len(content) > self.limits.member_bytes:
            self.warnings.append(f"{label}: over the {human_size(self.limits.member_bytes)} limit "
                                 "for a member; not scanned")
            return
        yield from self._member(content, label, depth)


class _Inflating:
    """The decompressed bytes of a gzip, bzip2 or xz stream (several streams one after another, as
    the tools write them), read in bounded steps: each step's output is counted against the
    reader's budget and the ratio to the compressed input given so far, so a bomb stops early."""

    def __init__(self, kind: str, data: bytes, reader: ArchiveReader) -> None:
        self.kind = kind
        self.data = memoryview(data)
        self.fed = 0  # compressed bytes given to the decompressor(s)
        self.produced = 0
        self.reader = reader
        self.pending = b""  # bytes read ahead and given back (`unread`)
        self.tail = b""  # zlib's input not yet consumed
        self.finished = False
        self.decompressor = self._new()

    def _new(self):  # type: ignore[no-untyped-def]
        if self.kind == "gzip":
            return zlib.decompressobj(wbits=31)
        if self.kind == "bzip2":
            return bz2.BZ2Decompressor()
        return lzma.LZMADecompressor(format=lzma.FORMAT_XZ)

    def unread(self, data: bytes) -> None:
        self.pending = data + self.pending

    def read(self, n: int = -1) -> bytes:
        wanted = n if n is not None and n >= 0 else self.reader.limits.total_bytes + 1
        out = bytearray(self.pending[:wanted])
        self.pending = self.pending[wanted:]
        while len(out) < wanted:
            chunk = self._step(min(_STEP, wanted - len(out)))
            if not chunk:
                break
            out += chunk
        return bytes(out)

    def _feed(self) -> bytes:
        chunk = bytes(self.data[self.fed:self.fed + _FEED])
        self.fed += len(chunk)
        return chunk

    def _step(self, n: int) -> bytes:
        while not self.finished:
            d = self.decompressor
            if self.kind == "gzip":
                if not self.tail:
                    self.tail = self._feed()
                    if not self.tail:
                        raise EOFError("compressed data ends before the end of its stream")
                out = d.decompress(self.tail, n)
                self.tail = d.unconsumed_tail
            else:
                given = b""
                if d.needs_input:
                    given = self._feed()
                    if not given:
                        raise EOFError("compressed data ends before the end of its stream")
                out = d.decompress(given, n)
            if d.eof:
                self._next_stream(len(d.unused_data) + len(self.tail))
            if out:
                self.produced += len(out)
                self.reader._take(len(out))
                if self.reader._bomb(self.produced, self.fed):  # this stream is given up, its siblings read on
                    raise _Unreadable(f"expands {human_size(self.fed)} to over {human_size(self.produced)}, "
                                      "a compression bomb; the rest of it is not read")
                return out
        return b""

    def _next_stream(self, unused: int) -> None:
        start = self.fed - unused  # where the input the finished stream did not use begins
        rest = bytes(self.data[start:])
        self.tail = b""
        if not rest.strip(b"\0"):  # the end, or the zero padding tape tools add
            self.finished = True
            return
        if archive_kind(rest[:16]) != self.kind:
            raise ValueError("unexpected data after the end of the compressed stream")
        self.fed = start
        self.decompressor = self._new()


def _checked_tarinfo(problems: list[str]) -> type[tarfile.TarInfo]:
    """A TarInfo that notes a bad header (tarfile ends the iteration there without a word) and
    refuses long-name and pax records too large to be one (tarfile would read any size into memory)."""

    class Checked(tarfile.TarInfo):
        @classmethod
        def frombuf(cls, buf, encoding, errors):  # type: ignore[no-untyped-def]
            try:
                return super().frombuf(buf, encoding, errors)
            except (tarfile.EOFHeaderError, tarfile.EmptyHeaderError):
                raise
            except tarfile.HeaderError as e:
                problems.append(str(e))
                raise

        def _proc_member(self, tarfile_):  # type: ignore[no-untyped-def]
            if self.type in _HEADER_TYPES and self.size > _MAX_TAR_HEADER:
                raise tarfile.ReadError(f"a {human_size(self.size)} header record")
            return super()._proc_member(tarfile_)

    return Checked


_HEADER_TYPES = (tarfile.GNUTYPE_LONGNAME, tarfile.GNUTYPE_LONGLINK, tarfile.XHDTYPE, tarfile.XGLTYPE,
                 tarfile.SOLARIS_XHDTYPE)


def _inner_name(path: str, kind: str) -> str:
    base = posixpath.basename(path.rsplit("!", 1)[-1]) or "-"
    for suffix in _SUFFIXES[kind]:
        if base.lower().endswith(suffix) and len(base) > len(suffix):
            return base[: -len(suffix)]
    return base


def _why(e: BaseException) -> str:
    text = str(e).strip() or type(e).__name__
    return text[:200]
