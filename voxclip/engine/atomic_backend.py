"""Atomic local writes for everything mmengine saves (checkpoints, `last_checkpoint`, logs' json).

mmengine's LocalBackend opens the destination with 'wb' and writes in place, so a run killed
mid-save leaves a truncated checkpoint. Overriding the backend registered for local paths makes
every `put` write a sibling temp file, fsync it and `os.replace` it over the destination.
"""
from __future__ import annotations

from pathlib import Path
from typing import Union

from mmengine.fileio.backends import LocalBackend, register_backend

from voxclip.utils.atomic import atomic_write_bytes


class AtomicLocalBackend(LocalBackend):
    """LocalBackend whose writes are atomic (temp file + rename)."""

    def put(self, obj: bytes, filepath: Union[str, Path]) -> None:
        atomic_write_bytes(filepath, obj)

    def put_text(self, obj: str, filepath: Union[str, Path], encoding: str = "utf-8") -> None:
        atomic_write_bytes(filepath, obj.encode(encoding))


def register_atomic_backend() -> None:
    """Make AtomicLocalBackend the backend for local paths (idempotent)."""
    register_backend("local", AtomicLocalBackend, force=True, prefixes="")
    # get_file_backend caches instances per prefix; drop the plain one if it was made already.
    from mmengine.fileio import io as mm_io

    for key in [k for k, v in mm_io.backend_instances.items() if type(v) is LocalBackend]:
        del mm_io.backend_instances[key]
