"""Synthetic ScanNet v2: whole raw dataset folders, deterministic per seed.

``make_scannet_demo`` writes, under ``out_root``::

    scans/<id>/{<id>_vh_clean_2.ply, <id>_vh_clean_2.0.010000.segs.json, <id>.aggregation.json,
                <id>.txt, <id>.sens}                  train + val scenes
    scans_test/<id>/{<id>_vh_clean_2.ply, <id>.txt (no axisAlignment), <id>.sens}
    scannetv2-labels.combined.tsv, scannetv2_{train,val,test}.txt

Scene ``<id>`` of seed ``s`` is a pure function of (s, id): ``generate_scene(id, s)`` rebuilds its
ground truth (aligned mesh, instances, boxes) without touching the disk.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import numpy as np

from voxclip.utils.atomic import PathLike, atomic_write_text
from .labels import TSV_NAME, write_labels_tsv
from .scene import DEFAULT_SPACING, REALISTIC_SPACING, SyntheticScene, build_scene
from .sens import SensHeader, encode_color_jpeg, encode_depth_zlib, intrinsic_4x4, write_sens
from .writers import (PLY_SUFFIX, SEGS_SUFFIX, write_aggregation_json, write_mesh_ply,
                      write_scene_txt, write_segs_json)

SPLIT_FILES = {"train": "scannetv2_train.txt", "val": "scannetv2_val.txt",
               "test": "scannetv2_test.txt"}
# ScanNet's calibrations at full resolution (1296x968 colour, 640x480 depth), scaled per size.
_FX_COLOR, _FX_DEPTH = 1170.187988, 571.623718


@dataclass
class FrameOptions:
    frames: int = 10
    color_size: Tuple[int, int] = (640, 480)  # (width, height), JPEG
    depth_size: Tuple[int, int] = (320, 240)  # (width, height), zlib uint16 millimetres
    jpeg_quality: int = 90
    # colour is ray-cast at this fraction of its size, then resized (bilinear) to full size:
    # 4x fewer rays at 0.5, which is most of the time a scene takes
    color_render_scale: float = 0.5

    def intrinsics(self) -> Tuple[np.ndarray, np.ndarray]:
        (cw, ch), (dw, dh) = self.color_size, self.depth_size
        kc = intrinsic_4x4(_FX_COLOR * cw / 1296, _FX_COLOR * ch / 968, (cw - 1) / 2, (ch - 1) / 2)
        kd = intrinsic_4x4(_FX_DEPTH * dw / 640, _FX_DEPTH * dh / 480, (dw - 1) / 2, (dh - 1) / 2)
        return kc, kd


def scene_id(index: int) -> str:
    return f"scene{index:04d}_00"


def _scene_seeds(seed: int, sid: str) -> np.random.SeedSequence:
    m = re.fullmatch(r"scene(\d{4})_(\d{2})", sid)
    if m is None:
        raise ValueError(f"scene id {sid!r} is not of the form sceneNNNN_NN")
    return np.random.SeedSequence([int(seed), int(m.group(1)), int(m.group(2))])


def generate_scene(sid: str, seed: int, realistic: bool = False,
                   vertex_spacing: Optional[float] = None,
                   annotated: bool = True) -> SyntheticScene:
    """Ground truth of scene ``sid`` as ``make_scannet_demo(..., seed)`` writes it."""
    if vertex_spacing is not None and not vertex_spacing > 0:
        raise ValueError(f"vertex_spacing must be > 0, got {vertex_spacing}")
    spacing = vertex_spacing or (REALISTIC_SPACING if realistic else DEFAULT_SPACING)
    geom_seed, _ = _scene_seeds(seed, sid).spawn(2)
    return build_scene(sid, np.random.default_rng(geom_seed), spacing, annotated)


def _camera_rng(seed: int, sid: str) -> np.random.Generator:
    return np.random.default_rng(_scene_seeds(seed, sid).spawn(2)[1])


def write_sens_for_scene(path: PathLike, scene: SyntheticScene, opts: FrameOptions,
                         rng: np.random.Generator) -> int:
    """Render ``opts.frames`` RGB-D frames in the RAW frame and write ``path``.

    A few frames (one per five, at most two, never the first) get an all -inf pose, as
    tracking failures do in real scans. Returns the number of frames.
    """
    from .render import MeshRenderer, camera_path

    kc, kd = opts.intrinsics()
    header = SensHeader(kc, kd, opts.color_size, opts.depth_size)
    if opts.frames == 0:
        return write_sens(path, header, [])
    to_raw = np.linalg.inv(scene.axis_alignment)
    poses = [to_raw @ p for p in camera_path(scene.room, [o.world_aabb() for o in scene.placed],
                                               opts.frames, rng)]
    bad = set(rng.choice(np.arange(1, opts.frames), size=min(2, opts.frames // 5),
                         replace=False).tolist()) if opts.frames > 1 else set()
    renderer = MeshRenderer(scene.raw_vertices, scene.faces, scene.colors)
    cw, ch = opts.color_size
    s = opts.color_render_scale
    rw, rh = max(1, round(cw * s)), max(1, round(ch * s))
    sx, sy = rw / cw, rh / ch  # pixel centres: x_small = (x + 0.5) * sx - 0.5
    k_small = intrinsic_4x4(kc[0, 0] * sx, kc[1, 1] * sy, (kc[0, 2] + 0.5) * sx - 0.5,
                            (kc[1, 2] + 0.5) * sy - 0.5)

    def frames():
        from PIL import Image

        for i, pose in enumerate(poses):
            rgb = renderer.color(pose, k_small, rw, rh)
            if (rw, rh) != (cw, ch):
                rgb = np.asarray(Image.fromarray(rgb).resize((cw, ch), Image.BILINEAR))
            depth = renderer.depth(pose, kd, *opts.depth_size)
            written = np.full((4, 4), -np.inf) if i in bad else pose
            yield written, encode_color_jpeg(rgb, opts.jpeg_quality), encode_depth_zlib(depth)

    return write_sens(path, header, frames())


def write_scan(scan_dir: PathLike, scene: SyntheticScene, opts: FrameOptions,
               rng: np.random.Generator, annotated: bool = True) -> Dict[str, Path]:
    """Write one scan folder. Test scans (``annotated=False``) get no segs/aggregation and no
    axisAlignment line. Returns the written paths by kind."""
    d, sid = Path(scan_dir), scene.scene_id
    d.mkdir(parents=True, exist_ok=True)
    paths = {"ply": d / f"{sid}{PLY_SUFFIX}", "txt": d / f"{sid}.txt", "sens": d / f"{sid}.sens"}
    write_mesh_ply(paths["ply"], scene.raw_vertices, scene.colors, scene.faces)
    if annotated:
        paths["segs"] = d / f"{sid}{SEGS_SUFFIX}"
        paths["aggregation"] = d / f"{sid}.aggregation.json"
        write_segs_json(paths["segs"], sid, scene.segments)
        groups = []
        for o in sorted((o for o in scene.objects if o.object_id >= 0), key=lambda o: o.object_id):
            segs = np.unique(scene.segments[scene.object_ids == o.object_id])
            groups.append({"objectId": o.object_id, "label": o.label, "segments": segs.tolist()})
        write_aggregation_json(paths["aggregation"], sid, groups)
    kc, kd = opts.intrinsics()
    meta = {"colorHeight": opts.color_size[1], "colorWidth": opts.color_size[0],
            "colorToDepthExtrinsics": np.eye(4), "depthHeight": opts.depth_size[1],
            "depthWidth": opts.depth_size[0], "fx_color": f"{kc[0, 0]:.6f}",
            "fy_color": f"{kc[1, 1]:.6f}", "mx_color": f"{kc[0, 2]:.6f}",
            "my_color": f"{kc[1, 2]:.6f}", "fx_depth": f"{kd[0, 0]:.6f}",
            "fy_depth": f"{kd[1, 1]:.6f}", "mx_depth": f"{kd[0, 2]:.6f}",
            "my_depth": f"{kd[1, 2]:.6f}", "numColorFrames": opts.frames,
            "numDepthFrames": opts.frames, "numIMUmeasurements": 0, "sceneType": "Apartment"}
    write_scene_txt(paths["txt"], meta, scene.axis_alignment if annotated else None)
    write_sens_for_scene(paths["sens"], scene, opts, rng)
    return paths


def split_ids(num_scenes: int, seed: int, val_fraction: float) -> Tuple[List[str], List[str]]:
    """(train ids, val ids) among scene0000_00 .. scene{num_scenes-1}; both sorted."""
    ids = [scene_id(i) for i in range(num_scenes)]
    n_val = int(round(num_scenes * val_fraction))
    n_val = min(max(n_val, 1 if num_scenes > 1 and val_fraction > 0 else 0), max(num_scenes - 1, 0))
    perm = np.random.default_rng(np.random.SeedSequence([int(seed), 7919])).permutation(num_scenes)
    val = sorted(ids[i] for i in perm[:n_val])
    return [s for s in ids if s not in val], val


def make_scannet_demo(out_root: PathLike, num_scenes: int, seed: int, num_test_scenes: int = 1,
                      frames: int = 10, val_fraction: float = 0.25, realistic: bool = False,
                      vertex_spacing: Optional[float] = None,
                      color_size: Tuple[int, int] = (640, 480),
                      depth_size: Tuple[int, int] = (320, 240), color_render_scale: float = 0.5,
                      progress: bool = True) -> List[str]:
    """Write a ScanNet v2 raw folder of synthetic scenes; return all scene ids written
    (train and val under ``scans/``, then test under ``scans_test/``)."""
    if num_scenes < 0 or num_test_scenes < 0 or frames < 0:
        raise ValueError("num_scenes, num_test_scenes and frames must be >= 0")
    root = Path(out_root)
    root.mkdir(parents=True, exist_ok=True)
    opts = FrameOptions(frames, tuple(color_size), tuple(depth_size),
                        color_render_scale=color_render_scale)
    train, val = split_ids(num_scenes, seed, val_fraction)
    test = [scene_id(num_scenes + j) for j in range(num_test_scenes)]
    jobs = [(scene_id(i), True) for i in range(num_scenes)] + [(s, False) for s in test]
    try:
        from tqdm import tqdm
        it = tqdm(jobs, desc="synthetic ScanNet scenes", unit="scene", disable=not progress)
    except ImportError:  # pragma: no cover
        it = jobs
    for sid, annotated in it:
        scene = generate_scene(sid, seed, realistic, vertex_spacing, annotated)
        sub = "scans" if annotated else "scans_test"
        write_scan(root / sub / sid, scene, opts, _camera_rng(seed, sid), annotated)
    write_labels_tsv(root / TSV_NAME)
    for split, ids in (("train", train), ("val", val), ("test", test)):
        atomic_write_text(root / SPLIT_FILES[split], "".join(f"{s}\n" for s in ids))
    return [s for s, _ in jobs]
