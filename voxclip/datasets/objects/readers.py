"""Readers of the object datasets as they are distributed (docs/objects.md has the layouts).

Every reader returns an :class:`ObjectSet` (points as a list of (N_i, C) float32 arrays, labels,
ids, class names) in voxclip's frame: z up. The released files are y up (ModelNet40, ShapeNet,
ScanObjectNN), so ``up_axis='y'`` rotates +90 degrees about x at this boundary, once:
(x, y, z) -> (x, -z, y) (normals too). A bad file raises :class:`ObjectDataError` naming it.
"""
from __future__ import annotations

import json
import os
import warnings
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

__all__ = ["ObjectDataError", "ObjectSet", "to_z_up", "normalize_unit_sphere", "read_modelnet40_txt",
           "read_modelnet40_h5", "read_scanobjectnn", "read_shapenet55", "SCANOBJECTNN_CLASSES",
           "SCANOBJECTNN_VARIANTS", "read_class_list", "read_list", "check_cloud", "read_h5_arrays", "h5_clouds",
           "scanobjectnn_path", "modelnet40_txt_ids", "read_modelnet40_txt_file"]

# ScanObjectNN's 15 classes in label order (its released h5 files store only the index).
SCANOBJECTNN_CLASSES = ("bag", "bin", "box", "cabinet", "chair", "desk", "display", "door", "shelf", "table",
                        "bed", "pillow", "sink", "sofa", "toilet")
# variant -> (folder, file stem); files are <folder>/{training,test}_<stem>.h5
SCANOBJECTNN_VARIANTS = {
    "OBJ_BG": ("main_split", "objectdataset"),
    "OBJ_ONLY": ("main_split_nobg", "objectdataset"),
    "PB_T50_RS": ("main_split", "objectdataset_augmentedrot_scale75"),
}


class ObjectDataError(ValueError):
    """A dataset file is missing, unreadable or malformed; the message starts with its path."""


@dataclass
class ObjectSet:
    """points: list of (N_i, C) float32 (C = 3 xyz or 6 xyz + normals); labels (S,) int64; ids (S,)."""

    points: list
    labels: np.ndarray
    ids: list
    class_names: tuple
    masks: list | None = None  # ScanObjectNN: per-point object (>= 0) / background (-1) mask
    extra: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.points)


def to_z_up(arr: np.ndarray, up_axis: str) -> np.ndarray:
    """Rotate y-up xyz (and normals in columns 3:6) into z up; 'z' returns the array unchanged."""
    if up_axis == "z":
        return arr
    if up_axis != "y":
        raise ValueError(f"up_axis must be 'y' or 'z', got {up_axis!r}")
    out = np.array(arr, dtype=np.float32, copy=True)
    for c in range(0, min(out.shape[1], 6), 3):
        out[:, c + 1], out[:, c + 2] = -arr[:, c + 2], arr[:, c + 1]
    return out


def normalize_unit_sphere(arr: np.ndarray) -> np.ndarray:
    """xyz centred on the centroid and scaled into the unit sphere (PointNet's pc_normalize)."""
    out = np.array(arr, dtype=np.float32, copy=True)
    xyz = out[:, :3] - out[:, :3].mean(0)
    radius = float(np.sqrt((xyz ** 2).sum(1)).max())
    out[:, :3] = xyz / radius if radius > 0 else xyz
    return out


def check_cloud(arr: np.ndarray, path: str, channels: Sequence[int]) -> np.ndarray:
    if arr.ndim != 2 or arr.shape[1] not in channels or len(arr) == 0:
        raise ObjectDataError(f"{path}: expected (N, {'|'.join(map(str, channels))}) points, got {arr.shape}")
    if not np.isfinite(arr).all():
        raise ObjectDataError(f"{path}: non-finite values")
    return arr.astype(np.float32, copy=False)


def read_class_list(path: str) -> tuple:
    """One name per line (modelnet40_shape_names.txt, ShapeNet's synset list)."""
    if not os.path.isfile(path):
        raise ObjectDataError(f"{path}: class list missing")
    with open(path, encoding="utf-8") as f:
        names = tuple(line.strip() for line in f if line.strip())
    if not names or len(set(names)) != len(names):
        raise ObjectDataError(f"{path}: expected distinct class names, one per line")
    return names


def read_list(path: str) -> list:
    if not os.path.isfile(path):
        raise ObjectDataError(f"{path}: split list missing")
    with open(path, encoding="utf-8") as f:
        return [line.strip() for line in f if line.strip()]


# -- ModelNet40 ----------------------------------------------------------------------------------
def read_modelnet40_txt_file(path: str, use_normals: bool = True) -> np.ndarray:
    """One ``<class>/<id>.txt`` of modelnet40_normal_resampled: ``x,y,z,nx,ny,nz`` lines -> (N, 6|3)."""
    if not os.path.isfile(path):
        raise ObjectDataError(f"{path}: file missing")
    try:
        with warnings.catch_warnings():  # an empty file: reported below as (0, 0) points
            warnings.simplefilter("ignore", UserWarning)
            arr = np.loadtxt(path, delimiter=",", dtype=np.float32, ndmin=2)
    except ValueError as exc:
        raise ObjectDataError(f"{path}: not comma-separated numbers ({exc})") from exc
    arr = check_cloud(arr, path, (6,))
    return arr if use_normals else arr[:, :3]


def modelnet40_txt_ids(root: str, split: str) -> tuple[tuple, list, list]:
    """(class names, ids, paths) of a modelnet40_normal_resampled split; ids look like 'airplane_0001'."""
    names = read_class_list(os.path.join(root, "modelnet40_shape_names.txt"))
    ids = read_list(os.path.join(root, f"modelnet40_{split}.txt"))
    paths, labels = [], []
    for sid in ids:
        cls = sid.rsplit("_", 1)[0]
        if cls not in names:
            raise ObjectDataError(f"{os.path.join(root, f'modelnet40_{split}.txt')}: id {sid!r} names unknown class {cls!r}")
        paths.append(os.path.join(root, cls, f"{sid}.txt"))
        labels.append(names.index(cls))
    return names, ids, list(zip(paths, labels))


def read_modelnet40_txt(root: str, split: str = "train", use_normals: bool = True, up_axis: str = "y",
                        normalize: bool = True) -> ObjectSet:
    """Whole split of ``modelnet40_normal_resampled/`` (slow for 10k files: prepare a cache once)."""
    names, ids, items = modelnet40_txt_ids(root, split)
    pts = []
    for path, _ in items:
        arr = read_modelnet40_txt_file(path, use_normals)
        arr = normalize_unit_sphere(arr) if normalize else arr
        pts.append(to_z_up(arr, up_axis))
    return ObjectSet(pts, np.array([lab for _, lab in items], np.int64), ids, names)


def _h5py():
    import h5py

    return h5py


def read_h5_arrays(path: str, keys: Sequence[str], optional: Sequence[str] = ()) -> dict:
    h5py = _h5py()
    if not os.path.isfile(path):
        raise ObjectDataError(f"{path}: file missing")
    try:
        with h5py.File(path, "r") as f:
            missing = [k for k in keys if k not in f]
            if missing:
                raise ObjectDataError(f"{path}: datasets {missing} missing (has {sorted(f.keys())})")
            return {k: np.asarray(f[k][()]) for k in list(keys) + [k for k in optional if k in f]}
    except ObjectDataError:
        raise
    except Exception as exc:  # truncated / not HDF5
        raise ObjectDataError(f"{path}: cannot read HDF5 ({type(exc).__name__}: {exc})") from exc


def h5_clouds(path: str, d: dict, channels: int) -> tuple[np.ndarray, np.ndarray]:
    data, label = d["data"], np.asarray(d["label"]).reshape(-1)
    if data.ndim != 3 or data.shape[2] != channels:
        raise ObjectDataError(f"{path}: 'data' must be (S, N, {channels}), got {data.shape}")
    if len(label) != len(data):
        raise ObjectDataError(f"{path}: {len(data)} clouds but {len(label)} labels")
    if not np.isfinite(data).all():
        raise ObjectDataError(f"{path}: non-finite values in 'data'")
    return data.astype(np.float32), label.astype(np.int64)


def read_modelnet40_h5(root: str, split: str = "train", use_normals: bool = False, up_axis: str = "y") -> ObjectSet:
    """``modelnet40_ply_hdf5_2048/``: ``ply_data_{split}{k}.h5`` (data (S,2048,3), label (S,1),
    optional normal) listed in ``{split}_files.txt``; class names from ``shape_names.txt``."""
    names = read_class_list(os.path.join(root, "shape_names.txt"))
    files = read_list(os.path.join(root, f"{split}_files.txt"))
    pts, labels, ids = [], [], []
    for entry in files:
        path = os.path.join(root, os.path.basename(entry))  # the list holds paths of the authors' machine
        d = read_h5_arrays(path, ["data", "label"], ["normal"])
        data, label = h5_clouds(path, d, 3)
        if use_normals:
            if "normal" not in d or d["normal"].shape != data.shape:
                raise ObjectDataError(f"{path}: use_normals needs a 'normal' dataset of shape {data.shape}")
            data = np.concatenate([data, d["normal"].astype(np.float32)], axis=2)
        if (label < 0).any() or (label >= len(names)).any():
            raise ObjectDataError(f"{path}: labels outside [0, {len(names)})")
        stem = os.path.splitext(os.path.basename(path))[0]
        pts += [to_z_up(c, up_axis) for c in data]
        labels.append(label)
        ids += [f"{stem}_{i:04d}" for i in range(len(data))]
    return ObjectSet(pts, np.concatenate(labels) if labels else np.zeros(0, np.int64), ids, names)


# -- ScanObjectNN --------------------------------------------------------------------------------
def scanobjectnn_path(root: str, variant: str, split: str) -> str:
    if variant not in SCANOBJECTNN_VARIANTS:
        raise ValueError(f"ScanObjectNN variant must be one of {sorted(SCANOBJECTNN_VARIANTS)}, got {variant!r}")
    folder, stem = SCANOBJECTNN_VARIANTS[variant]
    part = {"train": "training", "test": "test"}.get(split)
    if part is None:
        raise ValueError(f"ScanObjectNN split must be 'train' or 'test', got {split!r}")
    return os.path.join(root, folder, f"{part}_{stem}.h5")


def read_scanobjectnn(root: str, variant: str = "PB_T50_RS", split: str = "train", up_axis: str = "y") -> ObjectSet:
    """``h5_files/<folder>/{training,test}_<stem>.h5`` with ``data`` (S,2048,3), ``label`` (S,),
    ``mask`` (S,2048) (object part id or -1 background). Points are used as stored (no rescaling)."""
    path = scanobjectnn_path(root, variant, split)
    d = read_h5_arrays(path, ["data", "label"], ["mask"])
    data, label = h5_clouds(path, d, 3)
    if (label < 0).any() or (label >= len(SCANOBJECTNN_CLASSES)).any():
        raise ObjectDataError(f"{path}: labels outside [0, {len(SCANOBJECTNN_CLASSES)})")
    masks = None
    if "mask" in d:
        if d["mask"].shape != data.shape[:2]:
            raise ObjectDataError(f"{path}: 'mask' must be {data.shape[:2]}, got {d['mask'].shape}")
        masks = list(d["mask"].astype(np.int64))
    stem = os.path.splitext(os.path.basename(path))[0]
    return ObjectSet([to_z_up(c, up_axis) for c in data], label, [f"{variant}/{stem}_{i:05d}" for i in range(len(data))],
                     SCANOBJECTNN_CLASSES, masks)


# -- ShapeNet55 ----------------------------------------------------------------------------------
def read_shapenet55(root: str, split: str = "train", up_axis: str = "y", normalize: bool = True,
                    pc_dir: str = "shapenet_pc", list_dir: str = "ShapeNet-55") -> ObjectSet:
    """Point-BERT's layout: ``<list_dir>/{train,test}.txt`` lines ``<synset>-<model>.npy`` and
    ``<pc_dir>/<synset>-<model>.npy`` (8192, 3). Classes are the synsets present, sorted; names come
    from ``<list_dir>/synset_names.json`` ({synset: name}) when that file exists."""
    entries = read_list(os.path.join(root, list_dir, f"{split}.txt"))
    all_entries = entries + (read_list(os.path.join(root, list_dir, "test.txt")) if split == "train" and
                             os.path.isfile(os.path.join(root, list_dir, "test.txt")) else [])
    synsets = sorted({e.split("-", 1)[0] for e in all_entries})
    names_file = os.path.join(root, list_dir, "synset_names.json")
    names = synsets
    if os.path.isfile(names_file):
        with open(names_file, encoding="utf-8") as f:
            table = json.load(f)
        names = [table.get(s, s) for s in synsets]
    pts, labels, ids = [], [], []
    for e in entries:
        if "-" not in e or not e.endswith(".npy"):
            raise ObjectDataError(f"{os.path.join(root, list_dir, split + '.txt')}: bad entry {e!r} "
                                  "(expected <synset>-<model>.npy)")
        path = os.path.join(root, pc_dir, e)
        if not os.path.isfile(path):
            raise ObjectDataError(f"{path}: file missing")
        try:
            arr = np.load(path, allow_pickle=False)
        except Exception as exc:
            raise ObjectDataError(f"{path}: cannot read ({type(exc).__name__}: {exc})") from exc
        arr = check_cloud(np.asarray(arr), path, (3,))
        arr = normalize_unit_sphere(arr) if normalize else arr
        pts.append(to_z_up(arr, up_axis))
        labels.append(synsets.index(e.split("-", 1)[0]))
        ids.append(e[:-4])
    return ObjectSet(pts, np.asarray(labels, np.int64), ids, tuple(names), extra=dict(synsets=tuple(synsets)))
