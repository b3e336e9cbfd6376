"""2D-3D pair extraction from ScanNet ``.sens`` streams (Text4Point pre-training data).

Per kept frame (every ``frame_skip``-th frame with a finite pose) one compressed npz
``OUT_ROOT/pairs/<scene>/<frame:06d>.npz`` holding:

- ``color``    uint8 (240,320,3): colour resized (bilinear) to 240x320 (H x W)
- ``depth``    uint16 (Hd,Wd): depth at its STORED size (not resized: resizing depth mixes
               surfaces at edges); metres = depth / ``depth_shift``
- ``depth_shift`` float32 scalar
- ``pose``     float32 (4,4): camera-to-world in the AXIS-ALIGNED frame (axisAlignment @ pose)
- ``color_intrinsic`` float32 (3,3) scaled to 240x320; ``depth_intrinsic`` float32 (3,3) at the
               depth size
- ``points``   float32 (M,3): valid depth pixels back-projected to world, axis-aligned like the
               scene; ``pixel`` int32 (M,): their flat depth pixel index ``v * Wd + u``

``<scene>/meta.json`` is written last and marks the scene as done (resume skips it unless
``overwrite``); ``OUT_ROOT/pairs/index.json`` lists every finished scene. The depth extrinsic
is assumed to be the identity (it is for ScanNet); it is not applied.
"""
from __future__ import annotations

import io
import json
import os
import shutil
from pathlib import Path
from typing import Dict, List, Optional, Tuple, Union

import numpy as np

from voxclip.utils.atomic import atomic_save_json, atomic_write_bytes

from .axis_alignment import read_axis_alignment
from .errors import MissingFileError
from .pairs_geometry import backproject_depth, scale_intrinsic
from .sens import SensReader

PAIR_SIZE = (320, 240)  # (width, height) of the stored colour image
META_NAME = "meta.json"
PathLike = Union[str, os.PathLike]


def write_npz_atomic(path: Path, **arrays: np.ndarray) -> None:
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    atomic_write_bytes(path, buf.getvalue())


def find_scan_dirs(raw_root: PathLike, scenes: Optional[List[str]] = None) -> Dict[str, Path]:
    """Scene id -> scan folder, over ``scans/`` and ``scans_test/`` (folders holding a .sens)."""
    root = Path(raw_root)
    found: Dict[str, Path] = {}
    for sub in ("scans", "scans_test"):
        if (root / sub).is_dir():
            for d in sorted((root / sub).iterdir()):
                if (d / f"{d.name}.sens").is_file():
                    found[d.name] = d
    if scenes is not None:
        missing = [s for s in scenes if s not in found]
        if missing:
            raise MissingFileError(root, f"no scan folder with a .sens for {missing}")
        found = {s: found[s] for s in scenes}
    return found


def scans_without_sens(raw_root: PathLike) -> Dict[str, str]:
    """Scene folders of ``scans/`` / ``scans_test/`` that hold no ``<id>.sens``: reported as failures,
    never silently left out."""
    root = Path(raw_root)
    out = {}
    for sub in ("scans", "scans_test"):
        if (root / sub).is_dir():
            for d in sorted((root / sub).iterdir()):
                if d.is_dir() and not d.name.startswith(".") and not (d / f"{d.name}.sens").is_file():
                    out[d.name] = f"{d / (d.name + '.sens')}: .sens stream missing"
    return out


def partial_dir(out_dir: Path) -> Path:
    """Hidden folder a scene's pairs are extracted into; renamed to ``out_dir`` once complete."""
    return out_dir.parent / f".{out_dir.name}.partial"


def extract_frame(frame, header, align: np.ndarray) -> Dict[str, np.ndarray]:
    """Arrays of one pair (see module docstring) from a :class:`SensFrame`."""
    from PIL import Image

    rgb = Image.fromarray(frame.color()).resize(PAIR_SIZE, Image.BILINEAR)
    depth_raw = frame.depth_raw()
    depth_m = depth_raw.astype(np.float32) / np.float32(header.depth_shift)
    pose = align @ frame.pose
    kd = np.asarray(header.depth_intrinsic, np.float64)[:3, :3]
    points, pixel = backproject_depth(depth_m, kd, pose)
    return {"color": np.asarray(rgb, np.uint8), "depth": depth_raw,
            "depth_shift": np.float32(header.depth_shift), "pose": pose.astype(np.float32),
            "color_intrinsic": scale_intrinsic(header.color_intrinsic, header.color_size,
                                               PAIR_SIZE).astype(np.float32),
            "depth_intrinsic": kd.astype(np.float32), "points": points,
            "pixel": pixel.astype(np.int32)}


def extract_scene(scan_dir: PathLike, out_dir: PathLike, frame_skip: int = 25,
                  overwrite: bool = False) -> Dict:
    """Write the pairs of one scan folder to ``out_dir``; return its meta dict.

    Resumable: a finished scene (meta.json with the same frame_skip) is returned as is, and
    frames already on disk are not rewritten.
    """
    scan_dir, out_dir = Path(scan_dir), Path(out_dir)
    sid = scan_dir.name
    meta_path = out_dir / META_NAME
    if meta_path.is_file() and not overwrite:
        meta = json.loads(meta_path.read_text())
        if meta.get("frame_skip") == frame_skip:
            return meta
    align, _ = read_axis_alignment(scan_dir / f"{sid}.txt")
    reader = SensReader(scan_dir / f"{sid}.sens")
    frames: List[int] = []
    # Frames go to a hidden folder (kept across a kill for resuming, removed on a read error), which
    # becomes out_dir only with meta.json inside: no half-extracted scene is ever visible.
    stage = partial_dir(out_dir)
    if overwrite and stage.is_dir():
        shutil.rmtree(stage)
    try:
        for frame in reader.iter_frames(frame_skip):
            path = stage / f"{frame.index:06d}.npz"
            if not path.is_file():
                write_npz_atomic(path, **extract_frame(frame, reader.header, align))
            frames.append(frame.index)
    except Exception:
        shutil.rmtree(stage, ignore_errors=True)
        raise
    meta = {"scene_id": sid, "frame_skip": frame_skip, "frames": frames,
            "num_frames_in_sens": reader.header.num_frames,
            "skipped_invalid_pose": reader.skipped_invalid_pose,
            "color_size": list(PAIR_SIZE[::-1]), "depth_size": list(reader.header.depth_size[::-1]),
            "axis_aligned": True}
    stage.mkdir(parents=True, exist_ok=True)  # a scene without kept frames still gets its meta
    atomic_save_json(stage / META_NAME, meta)
    if out_dir.exists():  # --overwrite, or an older frame_skip: replace the whole folder
        old = out_dir.parent / f".{out_dir.name}.old"
        shutil.rmtree(old, ignore_errors=True)
        os.replace(out_dir, old)
        shutil.rmtree(old, ignore_errors=True)
    os.replace(stage, out_dir)
    return meta


def write_index(pairs_root: PathLike) -> Dict:
    """Collect every finished scene's meta.json into ``pairs_root/index.json``."""
    root = Path(pairs_root)
    scenes = {}
    for m in sorted(root.glob(f"*/{META_NAME}")):
        if m.parent.name.startswith("."):  # a scene being extracted (partial_dir)
            continue
        meta = json.loads(m.read_text())
        scenes[meta["scene_id"]] = {k: meta[k] for k in ("frames", "skipped_invalid_pose",
                                                          "frame_skip")}
    index = {"layout": "pairs/<scene>/<frame:06d>.npz", "scenes": scenes,
             "num_pairs": sum(len(s["frames"]) for s in scenes.values())}
    atomic_save_json(root / "index.json", index)
    return index


def shard(items: List[str], spec: Optional[str]) -> List[str]:
    """Select shard ``I/N`` (0-based I) of a sorted list, round robin."""
    if not spec:
        return items
    try:
        i, n = (int(x) for x in spec.split("/"))
    except ValueError:
        raise ValueError(f"--shard must look like I/N, got {spec!r}")
    if not (n >= 1 and 0 <= i < n):
        raise ValueError(f"--shard {spec!r}: need 0 <= I < N")
    return [s for j, s in enumerate(sorted(items)) if j % n == i]


def _job(args: Tuple[str, str, str, int, bool]) -> Tuple[str, Optional[str], int]:
    sid, scan_dir, out_dir, skip, overwrite = args
    from data_prep.batch import item_lock

    try:
        with item_lock(Path(out_dir).parent.parent, sid):  # OUT_ROOT/.locks
            meta = extract_scene(scan_dir, out_dir, skip, overwrite)
        return sid, None, len(meta["frames"])
    except Exception as err:  # reported in the summary, the batch goes on
        return sid, " ".join(f"{type(err).__name__}: {err}".split()), 0


def extract_all(raw_root: PathLike, out_root: PathLike, scenes: Optional[List[str]] = None,
                frame_skip: int = 25, workers: int = 1, overwrite: bool = False,
                shard_spec: Optional[str] = None, progress: bool = True) -> Tuple[Dict, List]:
    """Extract every scene (in parallel); return (index, failures [(scene, message)])."""
    dirs = find_scan_dirs(raw_root, scenes)
    no_sens = {s: m for s, m in scans_without_sens(raw_root).items() if scenes is None}
    ids = shard(list(dirs), shard_spec)
    no_sens = {s: no_sens[s] for s in shard(list(no_sens), shard_spec)}
    pairs_root = Path(out_root) / "pairs"
    jobs = [(s, str(dirs[s]), str(pairs_root / s), frame_skip, overwrite) for s in ids]
    from tqdm import tqdm

    failures = list(no_sens.items())
    bar = tqdm(total=len(jobs), desc="pairs", unit="scene", disable=not progress)
    if workers > 1 and len(jobs) > 1:
        import multiprocessing as mp

        from data_prep.batch import die_with_parent

        with mp.get_context("spawn").Pool(workers, initializer=die_with_parent, initargs=(os.getpid(),)) as pool:
            results = pool.imap_unordered(_job, jobs)
            for sid, err, _ in results:
                bar.update(1)
                if err:
                    failures.append((sid, err))
    else:
        for job in jobs:
            sid, err, _ = _job(job)
            bar.update(1)
            if err:
                failures.append((sid, err))
    bar.close()
    pairs_root.mkdir(parents=True, exist_ok=True)
    return write_index(pairs_root), sorted(failures)


def load_pair(path: PathLike) -> Dict[str, np.ndarray]:
    """Load one pair npz into a dict of arrays."""
    with np.load(path) as z:
        return {k: z[k] for k in z.files}
