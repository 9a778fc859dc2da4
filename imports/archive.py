"""ZIP archives of a catalog: checked before anything is read, then read one
member at a time.

A ZIP is refused whole when a member's name could write outside a folder
(absolute paths, ``..``, drive letters, backslashes), when a member is a
symbolic link, or when it holds more members or more uncompressed bytes than
the settings allow (a zip bomb): the central directory says so before any
member is inflated. Each photo is then read alone, capped at the upload limit
whatever its header claims, so a 2 GB archive never sits in memory.
"""

import stat
import zipfile
from dataclasses import dataclass
from pathlib import PurePosixPath

from django.conf import settings

from imports.errors import TOO_LARGE, ImportRefused, RowFailed

# Folders that archivers add and that hold no catalog file.
IGNORED_PREFIXES = ("__MACOSX/",)


@dataclass(frozen=True)
class Archive:
    """A checked archive: its CSV member and its photos by name."""

    zip: zipfile.ZipFile
    csv_name: str
    members: dict[str, zipfile.ZipInfo]

    def photo_read(self, name: str) -> bytes:
        """The bytes of the photo ``name`` (relative to the archive's root or to
        the CSV's folder); RowFailed when it is missing or too large."""
        info = self._find(name)
        max_bytes = settings.VITRINE_UPLOAD_MAX_BYTES
        if info.file_size > max_bytes:
            raise RowFailed(
                "file_too_large",
                f"{name}: {info.file_size / 1048576:.1f} MB; the limit is "
                f"{max_bytes / 1048576:.0f} MB.",
            )
        try:
            with self.zip.open(info) as member:
                data = member.read(max_bytes + 1)
        except (zipfile.BadZipFile, OSError, EOFError) as error:
            raise RowFailed("corrupt_member", f"{name}: {error}") from error
        if len(data) > max_bytes:
            raise RowFailed("file_too_large", f"{name}: over the size limit.")
        return data

    def _find(self, name: str) -> zipfile.ZipInfo:
        wanted = name.strip().removeprefix("./")
        folder = PurePosixPath(self.csv_name).parent
        for candidate in (wanted, str(folder / wanted)):
            if candidate in self.members:
                return self.members[candidate]
        raise RowFailed("not_in_archive", f"{name}: no such file in the ZIP.")


def archive_open(file) -> Archive:
    """Open and check the ZIP in ``file`` (a path or a seekable binary file).

    Raise ImportRefused, with a code naming the reason, for anything but a safe
    archive holding exactly one CSV.
    """
    try:
        archive = zipfile.ZipFile(file)
    except (zipfile.BadZipFile, OSError) as error:
        raise ImportRefused(
            "The file is not a ZIP archive.", code="not_a_zip"
        ) from error
    infos = archive.infolist()
    max_members = settings.VITRINE_IMPORT_MAX_MEMBERS
    if len(infos) > max_members:
        raise ImportRefused(
            f"The ZIP holds {len(infos)} files; the limit is {max_members}.",
            code="too_many_members",
            status=TOO_LARGE,
        )
    total = sum(info.file_size for info in infos)
    max_total = settings.VITRINE_IMPORT_MAX_UNCOMPRESSED_BYTES
    if total > max_total:
        raise ImportRefused(
            f"The ZIP unpacks to {total / 1024**3:.1f} GB; the limit is "
            f"{max_total / 1024**3:.1f} GB.",
            code="archive_too_large",
            status=TOO_LARGE,
        )
    members = {}
    for info in infos:
        _check_member(info)
        if not info.is_dir() and not info.filename.startswith(IGNORED_PREFIXES):
            members[info.filename] = info
    csv_names = [name for name in members if name.lower().endswith(".csv")]
    if len(csv_names) != 1:
        raise ImportRefused(
            f"The ZIP must hold exactly one CSV file; it holds {len(csv_names)}.",
            code="csv_missing" if not csv_names else "several_csv",
        )
    return Archive(zip=archive, csv_name=csv_names[0], members=members)


def _check_member(info: zipfile.ZipInfo) -> None:
    name = info.filename
    path = PurePosixPath(name)
    unsafe = (
        name.startswith("/")
        or "\\" in name
        or "\x00" in name
        or ".." in path.parts
        or (len(name) > 1 and name[1] == ":")  # a drive letter
    )
    if unsafe:
        raise ImportRefused(
            f"The ZIP holds an unsafe file name: {name!r}.", code="unsafe_name"
        )
    mode = info.external_attr >> 16
    if info.create_system == 3 and stat.S_ISLNK(mode):  # made on Unix
        raise ImportRefused(
            f"The ZIP holds a symbolic link: {name!r}.", code="symlink_member"
        )
