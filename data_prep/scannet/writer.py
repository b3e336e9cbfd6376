"""Atomic output writing: single files via temp + os.replace, whole scenes via a staging folder."""
from __future__ import annotations

import io
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, Union

import numpy as np

from .scene import ProcessedScene


def atomic_write_bytes(path: Union[str, Path], data: bytes) -> None:
    """Readers see either the old file or the whole new one (sibling temp file, fsync, replace)."""
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


def atomic_save_npy(path: Union[str, Path], array: np.ndarray) -> None:
    buf = io.BytesIO()
    np.save(buf, array, allow_pickle=False)
    atomic_write_bytes(path, buf.getvalue())


def atomic_save_json(path: Union[str, Path], obj: Any) -> None:
    atomic_write_bytes(path, (json.dumps(obj, indent=1) + "\n").encode("utf-8"))


def staging_prefix(scene_id: str) -> str:
    return f".{scene_id}.staging-"


def clean_stale_staging(scans_dir: Union[str, Path], scene_id: str) -> None:
    """Remove staging/trash folders that a killed run left for this scene (only this scene's, so
    concurrent shards never touch each other's)."""
    scans_dir = Path(scans_dir)
    if scans_dir.is_dir():
        for p in scans_dir.glob(f".{scene_id}.*"):
            shutil.rmtree(p, ignore_errors=True)


def write_scene(scans_dir: Union[str, Path], scene: ProcessedScene) -> Path:
    """Write `scans_dir/<id>/` so that it appears complete or not at all.

    Every file (meta.json last) goes into a hidden staging folder that is then renamed into
    place; an existing folder is first renamed aside and deleted afterwards. A crash leaves at
    worst a missing scene folder (no meta.json: not finished, redone next run) and stale hidden
    folders (cleaned next run), never a half-written scene.
    """
    scans_dir = Path(scans_dir)
    scans_dir.mkdir(parents=True, exist_ok=True)
    sid = scene.meta["scene_id"]
    final = scans_dir / sid
    stage = Path(tempfile.mkdtemp(prefix=staging_prefix(sid), dir=scans_dir))
    try:
        for name, arr in scene.arrays.items():
            with open(stage / f"{name}.npy", "wb") as f:
                np.save(f, arr, allow_pickle=False)
                f.flush()
                os.fsync(f.fileno())
        atomic_save_json(stage / "meta.json", scene.meta)
        trash = None
        if final.exists():
            trash = Path(tempfile.mkdtemp(prefix=f".{sid}.trash-", dir=scans_dir))
            os.replace(final, trash / sid)
        os.replace(stage, final)
        if trash is not None:
            shutil.rmtree(trash, ignore_errors=True)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
    return final
