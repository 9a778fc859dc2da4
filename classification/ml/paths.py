"""Path confinement for training data: what lies inside the training data folder.

A path is normalised as written and every part of it below the folder is looked
at without following links, so ``../``, absolute paths elsewhere and symlinks (to
files or folders) are refused, never read. Refusals are counted in one
:class:`OutsideDataRoot` that names no path, so an answer never tells which files
exist outside the folder.
"""

import errno
import io
import os
import stat
from pathlib import Path


class DataError(ValueError):
    """A data set cannot be read as asked (missing folder, no labels...)."""


class OutsideDataRoot(DataError):
    """Some of a set's files lie outside the folder training may read, or are
    symlinks; the message counts them and names none."""

    def __init__(self, count: int) -> None:
        self.count = count
        what = "file or folder is" if count == 1 else "files or folders are"
        super().__init__(
            f"{count} {what} outside the training data folder or symlinks; "
            "training reads only regular files inside that folder"
        )


def confine(path: str | Path, *, root: Path, folder: bool = False) -> Path | None:
    """Return ``path`` as an absolute path inside ``root``, or None if it is missing.

    Relative paths are read from ``root``, which must be resolved. The path is
    normalised as written, and every part below ``root`` is looked at with
    ``lstat``: a path outside ``root``, or through a symlink anywhere on the way,
    raises OutsideDataRoot, and nothing beyond a symlink is ever looked at. The last
    part must be a regular file (a folder when ``folder``), or None is returned:
    a FIFO or a device is never opened.
    """
    try:
        candidate = Path(os.path.normpath(root / path))
    except (TypeError, ValueError) as error:
        raise OutsideDataRoot(1) from error
    if not candidate.is_relative_to(root):
        raise OutsideDataRoot(1)
    current = root  # resolved: no link left in it
    for part in ("", *candidate.relative_to(root).parts):
        current = current / part
        try:
            mode = os.lstat(current).st_mode
        except ValueError as error:  # a NUL byte in the name
            raise OutsideDataRoot(1) from error
        except OSError:  # missing, or a folder we may not list
            return None
        if stat.S_ISLNK(mode):
            raise OutsideDataRoot(1)
    wanted = stat.S_ISDIR(mode) if folder else stat.S_ISREG(mode)
    return candidate if wanted else None


def confined_folder(path: str | Path, root: Path) -> Path:
    folder = confine(path, root=root, folder=True)
    if folder is None:
        raise DataError(f"{path} is not a folder")
    return folder


def open_nofollow(path: Path) -> io.BufferedReader:
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise OutsideDataRoot(1) from error
        raise DataError(f"cannot open {path}: {error.strerror}") from error
    return os.fdopen(descriptor, "rb")
