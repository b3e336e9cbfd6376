"""Atomic file writes: a sibling temp file, fsync, then `os.replace` onto the final name.

Readers (and resumed batch jobs) see the old file or the whole new one, never a partial write.
Standard library and numpy only, so data preparation can use it without torch.
"""
from __future__ import annotations

import contextlib
import errno
import io
import json
import os
import tempfile
from pathlib import Path
from typing import Any, BinaryIO, Iterator, Union

try:
    import fcntl
except ImportError:  # not POSIX: no locking
    fcntl = None

PathLike = Union[str, os.PathLike]

_UMASK = os.umask(0o022)
os.umask(_UMASK)


_REASONS = {errno.ENOSPC: "no space left on device", errno.EROFS: "read-only file system",
            errno.EACCES: "permission denied", errno.EPERM: "permission denied",
            errno.EDQUOT: "disk quota exceeded", errno.EFBIG: "file too large"}


class OutputWriteError(OSError):
    """An output could not be written; the message names the file and says why in words."""


def write_error(path: PathLike, err: OSError) -> OutputWriteError:
    """`err` raised while writing `path`, as one line: "<path>: cannot write: no space left on device"."""
    if isinstance(err, OutputWriteError):
        return err
    reason = _REASONS.get(err.errno or -1)
    if reason is None and "requested and" in str(err):  # numpy's short write: "N requested and M written"
        reason = f"short write, the disk is probably full ({err})"
    return OutputWriteError(f"{path}: cannot write: {reason or err.strerror or err}")


@contextlib.contextmanager
def atomic_open(path: PathLike) -> Iterator[BinaryIO]:
    """Binary temp file next to `path`, renamed onto it on a clean exit, removed on an error.
    OS errors (full disk, read-only or forbidden folder) come out as `OutputWriteError` naming `path`."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as err:
        raise write_error(path, err) from None
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600 files
        os.replace(tmp, path)
    except BaseException as err:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        if isinstance(err, OSError):
            raise write_error(path, err) from None
        raise


def staging_dir(parent: PathLike, prefix: str, suffix: str = "") -> Path:
    """``tempfile.mkdtemp`` with the umask-respecting mode of a normal ``mkdir`` (mkdtemp makes 0700
    folders, which other users of a shared disk could not read once renamed into place)."""
    path = Path(tempfile.mkdtemp(prefix=prefix, suffix=suffix, dir=parent))
    os.chmod(path, 0o777 & ~_UMASK)
    return path


def atomic_write_bytes(path: PathLike, data: bytes) -> None:
    with atomic_open(path) as f:
        f.write(data)


def atomic_write_text(path: PathLike, text: str, newline: str = "\n") -> None:
    """UTF-8 text whose '\\n' line ends are written as `newline` (e.g. '\\r\\n')."""
    if newline != "\n":
        text = text.replace("\n", newline)
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_save_json(path: PathLike, obj: Any, indent: int = 1) -> None:
    """Strict JSON only: NaN/inf (which json would write as NaN/Infinity) is an error naming the file."""
    try:
        text = json.dumps(obj, indent=indent, allow_nan=False)
    except ValueError as exc:
        raise ValueError(f"{path}: refusing to write a non-finite number (NaN/inf) into JSON ({exc})") from None
    atomic_write_bytes(path, (text + "\n").encode("utf-8"))


def atomic_save_npy(path: PathLike, array) -> None:
    import numpy as np

    buf = io.BytesIO()
    np.save(buf, array, allow_pickle=False)
    atomic_write_bytes(path, buf.getvalue())


@contextlib.contextmanager
def file_lock(path: PathLike) -> Iterator[None]:
    """Exclusive advisory lock on ``path`` (created if missing) for read-modify-write of shared files
    such as a dataset index written by several workers or array jobs; a no-op where fcntl is missing."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as f:
        if fcntl is not None:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            if fcntl is not None:
                fcntl.flock(f.fileno(), fcntl.LOCK_UN)
