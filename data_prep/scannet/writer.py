"""Atomic output writing: single files via temp + os.replace, whole scenes via a staging folder."""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Union

import numpy as np

from voxclip.utils.atomic import atomic_save_json, staging_dir, write_error

from .scene import ProcessedScene


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
    stage = staging_dir(scans_dir, staging_prefix(sid))
    try:
        for name, arr in scene.arrays.items():
            try:
                with open(stage / f"{name}.npy", "wb") as f:
                    np.save(f, arr, allow_pickle=False)
                    f.flush()
                    os.fsync(f.fileno())
            except OSError as err:
                raise write_error(final / f"{name}.npy", err) from None
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
