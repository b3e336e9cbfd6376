"""Write synthetic objects in the layouts the object datasets are distributed in (docs/objects.md):
ModelNet40 ``modelnet40_normal_resampled/`` (txt) and ``modelnet40_ply_hdf5_2048/`` (HDF5), ScanObjectNN
``h5_files/`` (three variants), ShapeNet55 (``shapenet_pc/*.npy`` + ``ShapeNet-55/*.txt``) with
``captions.json`` and meshes for rendering, ShapeNetPart (shapenetpart_writer.py). Files are y up (as
released); readers turn them z up.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

import numpy as np

from voxclip.utils.atomic import atomic_open, atomic_save_json, atomic_save_npy, atomic_write_text

from .objects import MODELNET_KINDS, SCANOBJECTNN_KINDS, SHAPENET_SYNSETS, make_object
from .shapenetpart_writer import write_shapenetpart
from .writers import write_mesh_ply

__all__ = ["to_y_up", "write_modelnet40_txt", "write_modelnet40_h5", "write_scanobjectnn", "write_shapenet55",
           "make_objects_demo", "FORMATS"]

FORMATS = ("modelnet40_txt", "modelnet40_h5", "scanobjectnn", "shapenet55", "shapenetpart")
SCANOBJECTNN_ORDER = ("bag", "bin", "box", "cabinet", "chair", "desk", "display", "door", "shelf", "table", "bed",
                      "pillow", "sink", "sofa", "toilet")


def to_y_up(arr: np.ndarray) -> np.ndarray:
    """Inverse of readers.to_z_up: (x, y, z) z-up -> (x, z, -y) y-up, per xyz triple."""
    out = np.array(arr, np.float32, copy=True)
    for c in range(0, out.shape[1], 3):
        out[:, c + 1], out[:, c + 2] = arr[:, c + 2], -arr[:, c + 1]
    return out


def _rng(seed: int, tag: str, cls: int, split: str, i: int) -> np.random.Generator:
    return np.random.default_rng([seed, sum(map(ord, tag)), cls, 0 if split == "train" else 1, i])


def _objects(tag: str, kinds: dict, per_class: dict, num_points: int, seed: int, noise: float,
             random_yaw: bool = False):
    """{split: [(name, index, SyntheticObject)]}, classes in ``kinds`` order."""
    out = {}
    for split, count in per_class.items():
        out[split] = [(name, i, make_object(kind, num_points, _rng(seed, tag, c, split, i), noise, random_yaw))
                      for c, (name, kind) in enumerate(kinds.items()) for i in range(count)]
    return out


def _write_h5(path: Path, **arrays) -> None:
    import h5py

    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_open(path) as f:
        with h5py.File(f, "w") as h:
            for k, v in arrays.items():
                h.create_dataset(k, data=v)


def write_modelnet40_txt(root: Path, per_class: dict, num_points: int = 2048, seed: int = 0, noise: float = 0.0,
                         random_yaw: bool = False):
    """``modelnet40_normal_resampled/``: shape names, split lists, ``<class>/<class>_<NNNN>.txt`` with
    ``x,y,z,nx,ny,nz`` lines (%.6f). ``noise`` / ``random_yaw`` make a harder demo set."""
    root = Path(root)
    names = list(MODELNET_KINDS)
    atomic_write_text(root / "modelnet40_shape_names.txt", "\n".join(names) + "\n")
    counter = {n: 0 for n in names}
    for split, objs in _objects("mn40", MODELNET_KINDS, per_class, num_points, seed, noise, random_yaw).items():
        ids = []
        for name, _, obj in objs:
            counter[name] += 1
            sid = f"{name}_{counter[name]:04d}"
            rows = to_y_up(np.concatenate([obj.points, obj.normals], 1))
            (root / name).mkdir(parents=True, exist_ok=True)
            atomic_write_text(root / name / f"{sid}.txt", "".join(",".join(f"{v:.6f}" for v in r) + "\n" for r in rows))
            ids.append(sid)
        atomic_write_text(root / f"modelnet40_{split}.txt", "\n".join(ids) + "\n")
    return root


def write_modelnet40_h5(root: Path, per_class: dict, num_points: int = 2048, seed: int = 0, noise: float = 0.0,
                        file_size: int = 2048):
    """``modelnet40_ply_hdf5_2048/``: ``ply_data_{split}{k}.h5`` (data float32 (S,N,3), label uint8 (S,1),
    normal float32 (S,N,3)), ``{split}_files.txt`` (paths as the release has them), ``shape_names.txt``."""
    root = Path(root)
    atomic_write_text(root / "shape_names.txt", "\n".join(MODELNET_KINDS) + "\n")
    for split, objs in _objects("mn40", MODELNET_KINDS, per_class, num_points, seed, noise).items():
        order = np.random.default_rng(seed).permutation(len(objs))  # the release is shuffled
        names = list(MODELNET_KINDS)
        files = []
        for k, start in enumerate(range(0, len(objs), file_size)):
            part = [objs[j] for j in order[start:start + file_size]]
            xyzn = np.stack([to_y_up(np.concatenate([o.points, o.normals], 1)) for _, _, o in part])
            fname = f"ply_data_{split}{k}.h5"
            _write_h5(root / fname, data=xyzn[..., :3], normal=xyzn[..., 3:],
                      label=np.array([[names.index(n)] for n, _, _ in part], np.uint8))
            files.append(f"data/modelnet40_ply_hdf5_2048/{fname}")
        atomic_write_text(root / f"{split}_files.txt", "\n".join(files) + "\n")
    return root


def _background(rng: np.random.Generator, n: int, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Floor patch under the object and a wall piece behind it (z up), as scans keep around objects."""
    floor = np.c_[rng.uniform(lo[0] - 0.4, hi[0] + 0.4, n), rng.uniform(lo[1] - 0.4, hi[1] + 0.4, n),
                  np.full(n, lo[2]) + rng.normal(0, 0.005, n)]
    wall = np.c_[rng.uniform(lo[0] - 0.4, hi[0] + 0.4, n), np.full(n, lo[1] - 0.3) + rng.normal(0, 0.005, n),
                 rng.uniform(lo[2], hi[2] + 0.2, n)]
    return np.concatenate([floor, wall])[rng.permutation(2 * n)[:n]]


def write_scanobjectnn(root: Path, per_class: dict, num_points: int = 2048, seed: int = 0, noise: float = 0.005,
                       bg_fraction: float = 0.3):
    """``h5_files/{main_split,main_split_nobg}/{training,test}_objectdataset[_augmentedrot_scale75].h5``:
    data (S,N,3) float32, label (S,) int64 (ScanObjectNN's 15-class order), mask (S,N) int32 (0 object,
    -1 background). PB_T50_RS copies are rotated about the up axis, scaled by U(0.75, 1) and shifted."""
    root = Path(root)
    objs = _objects("sonn", SCANOBJECTNN_KINDS, per_class, num_points, seed, noise)
    for split, items in objs.items():
        part = "training" if split == "train" else "test"
        variants = {"main_split/{}_objectdataset.h5": [], "main_split_nobg/{}_objectdataset.h5": [],
                    "main_split/{}_objectdataset_augmentedrot_scale75.h5": []}
        labels = np.array([SCANOBJECTNN_ORDER.index(n) for n, _, _ in items], np.int64)
        for j, (name, i, o) in enumerate(items):
            rng = _rng(seed, "sonn-bg", labels[j], split, i)
            n_bg = int(bg_fraction * num_points)
            keep = rng.choice(num_points, num_points - n_bg, replace=False)
            bg = _background(rng, n_bg, o.points.min(0), o.points.max(0))
            pts = np.concatenate([o.points[keep], bg]).astype(np.float32)
            mask = np.r_[np.zeros(len(keep), np.int32), -np.ones(n_bg, np.int32)]
            variants["main_split/{}_objectdataset.h5"].append((pts, mask))
            variants["main_split_nobg/{}_objectdataset.h5"].append((o.points, np.zeros(num_points, np.int32)))
            yaw, scale = rng.uniform(0, 2 * np.pi), rng.uniform(0.75, 1.0)
            c, s = np.cos(yaw), np.sin(yaw)
            rot = np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]])
            pert = (pts @ rot.T) * scale + rng.uniform(-0.1, 0.1, 3)
            variants["main_split/{}_objectdataset_augmentedrot_scale75.h5"].append((pert.astype(np.float32), mask))
        for pattern, rows in variants.items():
            _write_h5(root / pattern.format(part), data=np.stack([to_y_up(p) for p, _ in rows]),
                      label=labels, mask=np.stack([m for _, m in rows]))
    return root


def write_shapenet55(root: Path, per_class: dict, num_points: int = 8192, seed: int = 0, noise: float = 0.0,
                     captions_every: int = 2, meshes: bool = True):
    """Point-BERT's ShapeNet55 layout: ``shapenet_pc/<synset>-<model>.npy`` (N,3) float32,
    ``ShapeNet-55/{train,test}.txt``, ``ShapeNet-55/synset_names.json`` (ours: synset -> name),
    ``captions.json`` ({id: [captions]}, every ``captions_every``-th object; the rest fall back to
    class templates) and ``meshes/<id>.ply`` (the boxes' triangle mesh, for tools/render_views.py)."""
    root = Path(root)
    kinds = {syn: kind for syn, kind in SHAPENET_SYNSETS.items()}
    captions = {}
    for split, items in _objects("sn55", kinds, per_class, num_points, seed, noise).items():
        lines = []
        for k, (syn, i, o) in enumerate(items):
            model = f"{'tr' if split == 'train' else 'te'}{i:05d}"
            sid = f"{syn}-{model}"
            atomic_save_npy(root / "shapenet_pc" / f"{sid}.npy", to_y_up(o.points))
            if meshes:
                write_mesh_ply(root / "meshes" / f"{sid}.ply", to_y_up(o.vertices), o.vertex_colors, o.faces)
            if k % captions_every == 0:
                captions[sid] = [f"a synthetic {o.kind} made of boxes", f"a 3D model of a {o.kind}"]
            lines.append(f"{sid}.npy")
        atomic_write_text(root / "ShapeNet-55" / f"{split}.txt", "\n".join(lines) + "\n")
    atomic_save_json(root / "ShapeNet-55" / "synset_names.json", dict(SHAPENET_SYNSETS))
    atomic_save_json(root / "captions.json", captions)
    return root


def make_objects_demo(out_root, formats: Sequence[str] = FORMATS, train_per_class: int = 24, test_per_class: int = 8,
                      seed: int = 0, num_points: int | None = None, noise: float = 0.0, random_yaw: bool = False) -> dict:
    """Write every requested format under ``out_root`` (modelnet40_normal_resampled, modelnet40_ply_hdf5_2048,
    scanobjectnn/h5_files, shapenet55, shapenetcore_partanno_segmentation_benchmark_v0_normal); returns
    {format: folder}. ``noise`` / ``random_yaw`` apply to the ModelNet40 txt and ShapeNetPart objects."""
    out_root = Path(out_root)
    per = dict(train=train_per_class, test=test_per_class)
    unknown = set(formats) - set(FORMATS)
    if unknown:
        raise ValueError(f"unknown formats {sorted(unknown)}; choose from {FORMATS}")
    writers = {
        "modelnet40_txt": (write_modelnet40_txt, "modelnet40_normal_resampled", 2048),
        "modelnet40_h5": (write_modelnet40_h5, "modelnet40_ply_hdf5_2048", 2048),
        "scanobjectnn": (write_scanobjectnn, os.path.join("scanobjectnn", "h5_files"), 2048),
        "shapenet55": (write_shapenet55, "shapenet55", 8192),
        "shapenetpart": (write_shapenetpart, "shapenetcore_partanno_segmentation_benchmark_v0_normal", 2600),
    }
    done = {}
    for fmt in formats:
        fn, sub, n = writers[fmt]
        extra = dict(noise=noise, random_yaw=random_yaw) if fmt in ("modelnet40_txt", "shapenetpart") else {}
        done[fmt] = fn(out_root / sub, per, num_points or n, seed, **extra)
    return done
