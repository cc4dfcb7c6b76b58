"""Where a dataset's files come from: a folder or an archive of the course's PNG tree, walked and read with care --
only the files that can be data (a PNG in a class folder) are read, each bounded in size; names, links, pipes and
damaged archives are refused in one sentence -- and the fingerprint of a source's content (`source_fingerprint`)."""

from __future__ import annotations

import hashlib
import os
import re
import stat
import tarfile
import zipfile
import zlib
from pathlib import Path
from typing import Iterator

from .artefacts import file_sha256


class DataError(ValueError):
    """The course data is missing or malformed; the message names the file and the fix."""


_MEMBER = re.compile(r"(?:^|/)(training|testing)/([^/]+)/([^/]+)$")


def source_fingerprint(path: Path) -> str:
    """sha256 of a source's content: an archive's bytes, or in a folder the relative path and bytes of every file
    that can be data (`is_data_member`: a PNG in a class folder), so that a file replaced by another of the same size
    and date is noticed (about 2 s for the 70,000 PNGs of a warm folder) and a large file beside the data (a lecture's
    video) is neither read nor hashed."""
    if path.is_file():
        return file_sha256(path)
    digest = hashlib.sha256()
    for rel, file in _folder_files(path):
        if file is not None and is_data_member(rel):
            digest.update(rel.encode() + b"\0")
            digest.update(hashlib.sha256(_read_file(file)).digest())
    return digest.hexdigest()


def folder_signature(path: Path) -> tuple[str, int]:
    """How a folder's data files look to the file system, without opening one: the sha256 of the folder's real path
    and of each data file's relative path, size, inode, modification and change times; and the newest of those times
    (ns). A file rewritten or replaced gets a new change time, which no user can set back, so an equal signature means
    the same files -- unless one was rewritten within a tick of the clock of the signature being taken, which
    `load_mnist` rules out by trusting only a signature whose newest time is some seconds old (as git trusts its index).
    About 0.5 s for 70,000 PNGs, against several seconds to read and hash them (`source_fingerprint`)."""
    digest, newest = hashlib.sha256(os.path.realpath(path).encode() + b"\0"), 0
    for rel, file, is_dir in _folder_entries(path):
        if not is_dir and is_data_member(rel):
            try:
                info = os.stat(file)
            except OSError as err:
                raise DataError(f"{file} cannot be read ({err.strerror}); restore it from the course data.") from None
            digest.update(f"{rel}\0{info.st_size}\0{info.st_ino}\0{info.st_mtime_ns}\0{info.st_ctime_ns}\0".encode())
            newest = max(newest, info.st_mtime_ns, info.st_ctime_ns)
    return digest.hexdigest(), newest


def is_data_member(name: str) -> bool:
    """Whether a file of a source can be one of its images: a ``.png`` in a class folder of ``training/`` or
    ``testing/``. Nothing else is read (a README, a video beside the data, a 2 GiB member of an archive)."""
    return name.lower().endswith(".png") and _MEMBER.search(name) is not None


def _folder_files(root: Path) -> Iterator[tuple[str, Path | None]]:
    """``(relative path, file)`` of every file under ``root`` and ``(relative path, None)`` of every folder, sorted
    (`_folder_entries`)."""
    for rel, full, is_dir in _folder_entries(root):
        yield rel, (None if is_dir else Path(full))


def _folder_entries(root: Path) -> list[tuple[str, str, bool]]:
    """``(relative path, path, is a folder)`` of every file and folder under ``root``, sorted part by part (as paths
    sort). A class folder that is a link to a folder outside the tree (a class folder kept elsewhere) is followed; any
    other linked folder is listed but not entered, and a link to the tree itself or to a folder above it is refused (it
    would list the tree again, or the whole disk). A name that is not valid UTF-8 is refused in one sentence that shows
    it safely. Paths are handled as strings: 70,000 path objects would cost more than the walk."""
    top, entries = os.path.normpath(os.fspath(root)), []
    real_top = os.path.realpath(top)
    for folder, dirs, files in os.walk(top, followlinks=True):
        dirs.sort()
        for d in list(dirs):
            link = os.path.join(folder, d)
            if not os.path.islink(link):
                continue
            real = os.path.realpath(link)
            if Path(real_top).is_relative_to(real) or Path(real).is_relative_to(real_top):
                raise DataError(f"{ascii(link)} is a link to {ascii(real)}, the data folder itself or a folder above "
                                "or inside it: remove the link.")
            if os.path.basename(folder) not in ("training", "testing"):  # only a class folder is followed
                dirs.remove(d)
                entries.append((link, True))
        entries += [(os.path.join(folder, d), True) for d in dirs] + [(os.path.join(folder, f), False) for f in files]
    cut, listed = len(top) + 1, []
    for item, is_dir in sorted(entries, key=lambda entry: entry[0].split(os.sep)):
        rel = item[cut:].replace(os.sep, "/")
        try:
            rel.encode("utf-8")
        except UnicodeEncodeError:
            raise DataError(f"{ascii(item)} has a name that is not valid UTF-8: rename it (the course's files are "
                            "named <number>.png).") from None
        listed.append((rel, item, is_dir))
    return listed


#: the largest file accepted as one image: the course's PNGs are under 1 KB; anything far larger is not one of its
#: images, and is refused before it is read or decoded (a decompression bomb, say)
MAX_PNG_BYTES = 1 << 20
_ARCHIVE_ERRORS = (EOFError, OSError, zipfile.BadZipFile, tarfile.TarError, zlib.error)


def _read_file(file: Path) -> bytes:
    """A regular file's bytes; a FIFO, socket or device (which could block or never end) or an oversized file is
    refused with a sentence, before it is read."""
    try:
        info = file.stat()
    except OSError as err:
        raise DataError(f"{file} cannot be read ({err.strerror}); restore it from the course data.") from None
    if not stat.S_ISREG(info.st_mode):
        raise DataError(f"{file} is not a regular file (a pipe, socket or device); remove it from the data folder.")
    if info.st_size > MAX_PNG_BYTES and file.suffix.lower() == ".png":
        raise DataError(f"{file} is {info.st_size:,} bytes, far more than one of the course's PNGs (under 1 KB); "
                        "replace it with the course's original file.")
    try:
        return file.read_bytes()
    except OSError as err:
        raise DataError(f"{file} cannot be read ({err.strerror}); restore it from the course data.") from None


def _without_reprs(text: str) -> str:
    """An error's text without object reprs (``<_io.BytesIO object at 0x7f...>``), which mean nothing to a reader."""
    return re.sub(r"\s*<[^<>]* at 0x[0-9a-fA-F]+>", "", text).strip()


def _check_member_name(name: str, source: Path) -> str:
    """Normalise an archive member's name, refusing one that would leave the archive's folder."""
    clean = name.replace("\\", "/")
    parts = clean.split("/")
    if clean.startswith("/") or re.match(r"^[A-Za-z]:", clean) or ".." in parts:
        raise DataError(
            f"Archive {source} holds the member {name!r}, whose path leaves the archive's folder; refusing to read "
            "it. Re-pack the course files as <name>_png/{training,testing}/<class>/*.png."
        )
    return "/".join(p for p in parts if p not in ("", "."))


def iter_source(path: Path) -> Iterator[tuple[str, bytes | None]]:
    """Yield ``(relative path, bytes)`` of each file in a folder or archive, and ``(path, None)`` for folders.

    A damaged or truncated archive (a bad checksum, a cut-off download) is refused in one sentence naming it, as is a
    member that is not a plain file or is far larger than one of the course's PNGs (refused before it is read)."""
    if path.is_dir():
        for rel, file in _folder_files(path):
            yield (rel, None) if file is None else (rel, _read_file(file) if is_data_member(rel) else b"")
        return
    name = path.name.lower()
    kind = ("zip" if name.endswith(".zip") else "tar" if name.endswith((".tar", ".tar.gz", ".tgz", ".tar.bz2",
                                                                          ".tar.xz")) else None)
    try:
        kind = kind or ("zip" if zipfile.is_zipfile(path) else "tar" if tarfile.is_tarfile(path) else None)
        if kind == "zip":
            yield from _zip_members(path)
        elif kind == "tar":
            yield from _tar_members(path)
    except _ARCHIVE_ERRORS as err:
        reason = (_without_reprs(str(err)).splitlines() or [type(err).__name__])[0].rstrip(":")
        if "could not be opened successfully" in reason:  # tarfile tried every compression and none fitted
            reason = "it is no tar archive, compressed or not"
        raise DataError(f"The archive {path} is damaged or truncated ({reason}); copy or download the course's "
                        "archive again.") from None
    if kind is None:
        raise DataError(f"{path} is neither a folder nor a .tar(.gz) or .zip archive: point the dataset's variable "
                        "at the course's folder or archive (data/README.md).")


def _zip_members(path: Path) -> Iterator[tuple[str, bytes | None]]:
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            name = _check_member_name(info.filename, path)
            if info.is_dir():
                yield name, None
                continue
            _check_member_size(path, name, info.file_size)
            yield name, archive.read(info) if is_data_member(name) else b""  # (never decompressed: not data)


def _tar_members(path: Path) -> Iterator[tuple[str, bytes | None]]:
    sizes: dict[str, int] = {}  # the regular members read so far: what a hard link may name
    with tarfile.open(path) as archive:
        for member in archive:
            name = _check_member_name(member.name, path)
            if member.isdir():
                yield name, None
            elif member.isfile() or member.islnk():  # a hard link (``cp -al``, then tar): the file it names
                size = member.size
                if member.islnk():  # its own header says 0 bytes: the size is its target's
                    target = _check_member_name(member.linkname, path)
                    if target not in sizes:
                        raise DataError(f"Archive {path} holds {member.name!r}, a hard link to {member.linkname!r}, "
                                        "which comes nowhere before it: re-pack the course's files (tar "
                                        "--hard-dereference).")
                    size = sizes[target]
                else:
                    sizes[name] = size
                _check_member_size(path, name, size)
                yield name, archive.extractfile(member).read() if is_data_member(name) else b""
            else:
                raise DataError(f"Archive {path} holds {member.name!r}, which is a symbolic link or a device, not a "
                                "file: re-pack the course's files with their contents (tar --dereference).")


def _check_member_size(path: Path, name: str, size: int) -> None:
    if size > MAX_PNG_BYTES and name.lower().endswith(".png"):
        raise DataError(f"{path}::{name} is {size:,} bytes, far more than one of the course's PNGs (under 1 KB); "
                        "re-pack the archive from the course's original files.")
