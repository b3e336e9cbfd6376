"""Atomic local writes for everything mmengine saves (checkpoints, `last_checkpoint`, logs' json).

mmengine's LocalBackend opens the destination with 'wb' and writes in place, so a run killed
mid-save leaves a truncated checkpoint. Overriding the backend registered for local paths makes
every `put` write a sibling temp file, fsync it and `os.replace` it over the destination.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Union

from mmengine.fileio.backends import LocalBackend, register_backend


def atomic_write_bytes(data: bytes, path: Union[str, Path]) -> None:
    """Write `data` to `path` so that readers see the old file or the whole new one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


class AtomicLocalBackend(LocalBackend):
    """LocalBackend whose writes are atomic (temp file + rename)."""

    def put(self, obj: bytes, filepath: Union[str, Path]) -> None:
        atomic_write_bytes(obj, filepath)

    def put_text(self, obj: str, filepath: Union[str, Path], encoding: str = "utf-8") -> None:
        atomic_write_bytes(obj.encode(encoding), filepath)


def register_atomic_backend() -> None:
    """Make AtomicLocalBackend the backend for local paths (idempotent)."""
    register_backend("local", AtomicLocalBackend, force=True, prefixes="")
    # get_file_backend caches instances per prefix; drop the plain one if it was made already.
    from mmengine.fileio import io as mm_io

    for key in [k for k, v in mm_io.backend_instances.items() if type(v) is LocalBackend]:
        del mm_io.backend_instances[key]
