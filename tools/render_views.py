#!/usr/bin/env python
"""Render colour + depth views of ShapeNet55-layout objects from fixed viewpoints, with captions:
the image/text side of multimodal object pretraining (docs/objects.md).

    python tools/render_views.py ROOT OUT [--split train] [--views 10] [--size 224] [--distance 2.2]
        [--elevation 30] [--fov 60] [--limit N] [--points-only]

ROOT is the ShapeNet55 layout (shapenet_pc/<synset>-<model>.npy, ShapeNet-55/<split>.txt); an object
with ROOT/meshes/<id>.ply is ray-cast from its mesh, others are splatted from their points. Both use
the reader's frame (z up, unit sphere). OUT/<id>/ gets color_<k>.png (RGB), depth_<k>.png (uint16,
depth x 1000) and cameras.json (K, camera-to-world poses, depth scale); OUT/index.json lists every
object with its captions (ROOT/captions.json, class-name templates as fallback). Bad files are
named; exit 1 if any.
"""
from __future__ import annotations

import argparse
import io
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a fresh clone

import numpy as np  # noqa: E402

from data_prep.objects.render import fixed_viewpoints, intrinsics, render_mesh, render_points  # noqa: E402
from voxclip.datasets.objects.captions import captions_for, load_captions  # noqa: E402
from voxclip.datasets.objects.readers import ObjectDataError, read_shapenet55, to_z_up  # noqa: E402
from voxclip.utils.atomic import atomic_save_json, atomic_write_bytes  # noqa: E402


def _png(arr: np.ndarray) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="PNG")
    return buf.getvalue()


def _mesh_in_frame(path: str, raw_points: np.ndarray):
    """The object's mesh moved like its points: y up -> z up, centroid / radius of the raw points."""
    from data_prep.scannet.mesh import read_mesh

    mesh = read_mesh(path)
    centre = raw_points.mean(0)
    radius = float(np.sqrt(((raw_points - centre) ** 2).sum(1)).max())
    verts = to_z_up((mesh.vertices - centre) / radius, "y")
    return verts, mesh.faces, mesh.colors


def render_object(root: str, sid: str, out_dir: Path, poses, K, size: int, points_only: bool) -> str:
    raw = np.load(os.path.join(root, "shapenet_pc", f"{sid}.npy"), allow_pickle=False).astype(np.float64)
    mesh_path = os.path.join(root, "meshes", f"{sid}.ply")
    if os.path.isfile(mesh_path) and not points_only:
        views, kind = render_mesh(*_mesh_in_frame(mesh_path, raw), poses, K, size), "mesh"
    else:
        centre = raw.mean(0)
        pts = to_z_up(((raw - centre) / np.sqrt(((raw - centre) ** 2).sum(1)).max()).astype(np.float32), "y")
        views, kind = render_points(pts, poses, K, size), "points"
    for k in range(len(poses)):
        atomic_write_bytes(out_dir / f"color_{k:02d}.png", _png(views.colors[k]))
        atomic_write_bytes(out_dir / f"depth_{k:02d}.png", _png(np.rint(views.depths[k] * 1000).astype(np.uint16)))
    atomic_save_json(out_dir / "cameras.json", dict(K=K.tolist(), camera_to_world=[p.tolist() for p in poses],
                                                    depth_scale=1000.0, source=kind, size=size))
    return kind


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("root")
    p.add_argument("out", type=Path)
    p.add_argument("--split", default="train")
    p.add_argument("--views", type=int, default=10)
    p.add_argument("--size", type=int, default=224)
    p.add_argument("--distance", type=float, default=2.2)
    p.add_argument("--elevation", type=float, default=30.0)
    p.add_argument("--fov", type=float, default=60.0)
    p.add_argument("--limit", type=int, default=None)
    p.add_argument("--points-only", action="store_true", help="splat points even where a mesh exists")
    a = p.parse_args(argv)
    try:
        objs = read_shapenet55(a.root, a.split)  # validates every listed file first
        caps_path = os.path.join(a.root, "captions.json")
        caps = load_captions(caps_path) if os.path.isfile(caps_path) else {}
    except (ObjectDataError, ValueError, FileNotFoundError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    poses, K = fixed_viewpoints(a.views, a.distance, a.elevation), intrinsics(a.size, a.fov)
    index, failed = [], []
    for i, (sid, label) in enumerate(zip(objs.ids, objs.labels)):
        if a.limit is not None and i >= a.limit:
            break
        try:
            kind = render_object(a.root, sid, a.out / sid, poses, K, a.size, a.points_only)
        except Exception as err:  # name the object, carry on, exit 1
            failed.append((sid, f"{type(err).__name__}: {err}"))
            continue
        name = objs.class_names[label]
        index.append(dict(id=sid, label=int(label), class_name=name, source=kind, views=a.views,
                          captions=captions_for(sid, name, caps)))
    atomic_save_json(a.out / "index.json", dict(split=a.split, objects=index))
    print(f"rendered {len(index)} objects x {a.views} views -> {a.out}")
    for sid, reason in failed:
        print(f"  FAILED {sid}: {reason}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
