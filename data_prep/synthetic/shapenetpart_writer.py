"""Synthetic ShapeNetPart (``shapenetcore_partanno_segmentation_benchmark_v0_normal/``) for the part
segmentation demo and tests: objects of four categories built from boxes whose parts differ in place and
shape, so a model can learn them. Each part is a set of boxes carrying the category's global part id
(ShapeNetPart's ``seg_classes`` numbering):

- Table (47 top, 48 legs, 49 lower shelf: only some tables have one)
- Lamp (24 base, 25 pole, 26 shade; 27 unused: a part absent from every lamp)
- Chair (12 back, 13 seat, 14 legs, 15 arm rests: only some chairs)
- Mug (36 body, 37 handle)

Layout as released: the full 16-line ``synsetoffset2category.txt``, ``<synset>/<model>.txt`` with
``x y z nx ny nz part`` lines (y up, points on the box surfaces, 2400-2800 per shape), and
``train_test_split/shuffled_{train,val,test}_file_list.json`` (``shape_data/<synset>/<model>``, shuffled).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from voxclip.datasets.objects.shapenetpart import SHAPENETPART_CATEGORIES, SHAPENETPART_SYNSETS
from voxclip.utils.atomic import atomic_save_json, atomic_write_text

__all__ = ["write_shapenetpart", "part_object", "PART_DEMO_CATEGORIES"]

PART_DEMO_CATEGORIES = ("Table", "Lamp", "Chair", "Mug")
_FACES = [(0, -1), (0, 1), (1, -1), (1, 1), (2, -1), (2, 1)]


def _table(r):
    sx, sy, h, t, leg = r.uniform(0.8, 1.2), r.uniform(0.5, 0.8), r.uniform(0.6, 0.8), r.uniform(0.04, 0.08), 0.05
    boxes = [((-sx / 2, -sy / 2, h - t), (sx / 2, sy / 2, h), 47)]
    for x in (-1, 1):
        for y in (-1, 1):
            cx, cy = x * (sx / 2 - leg), y * (sy / 2 - leg)
            boxes.append(((cx - leg / 2, cy - leg / 2, 0), (cx + leg / 2, cy + leg / 2, h - t), 48))
    if r.random() < 0.5:
        z = r.uniform(0.15, 0.3)
        boxes.append(((-sx / 2 + leg, -sy / 2 + leg, z), (sx / 2 - leg, sy / 2 - leg, z + 0.03), 49))
    return boxes


def _lamp(r):
    b, bh, ph, pw = r.uniform(0.25, 0.4), r.uniform(0.04, 0.08), r.uniform(0.6, 1.0), 0.03
    s, sh = r.uniform(0.25, 0.45), r.uniform(0.2, 0.35)
    return [((-b / 2, -b / 2, 0), (b / 2, b / 2, bh), 24), ((-pw, -pw, bh), (pw, pw, bh + ph), 25),
            ((-s / 2, -s / 2, bh + ph), (s / 2, s / 2, bh + ph + sh), 26)]


def _chair(r):
    w, d, h, bh = r.uniform(0.4, 0.55), r.uniform(0.4, 0.55), r.uniform(0.4, 0.5), r.uniform(0.4, 0.6)
    t, leg = 0.05, 0.04
    boxes = [((-w / 2, -d / 2, h - t), (w / 2, d / 2, h), 13), ((-w / 2, d / 2 - t, h), (w / 2, d / 2, h + bh), 12)]
    for x in (-1, 1):
        for y in (-1, 1):
            cx, cy = x * (w / 2 - leg / 2), y * (d / 2 - leg / 2)
            boxes.append(((cx - leg / 2, cy - leg / 2, 0), (cx + leg / 2, cy + leg / 2, h - t), 14))
    if r.random() < 0.5:
        for x in (-1, 1):
            cx = x * (w / 2 - 0.02)
            boxes.append(((cx - 0.02, -d / 2, h + 0.18), (cx + 0.02, d / 2 - t, h + 0.22), 15))
    return boxes


def _mug(r):
    rad, h, t = r.uniform(0.2, 0.3), r.uniform(0.4, 0.6), 0.03
    body = [((-rad, -rad, 0), (rad, -rad + t, h), 36), ((-rad, rad - t, 0), (rad, rad, h), 36),
            ((-rad, -rad, 0), (-rad + t, rad, h), 36), ((rad - t, -rad, 0), (rad, rad, h), 36),
            ((-rad, -rad, 0), (rad, rad, t), 36)]
    hl, hh, hw, ht = r.uniform(0.18, 0.26), r.uniform(0.28, 0.36), 0.06, 0.06  # handle: a thick C on the +x side
    z0 = h / 2 - hh / 2
    handle = [((rad, -hw, z0), (rad + hl, hw, z0 + ht), 37), ((rad, -hw, z0 + hh - ht), (rad + hl, hw, z0 + hh), 37),
              ((rad + hl - ht, -hw, z0), (rad + hl, hw, z0 + hh), 37)]
    return body + handle


_BUILDERS = {"Table": _table, "Lamp": _lamp, "Chair": _chair, "Mug": _mug}


def part_object(category: str, num_points: int, rng: np.random.Generator, noise: float = 0.0,
                random_yaw: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(points (N,3), normals (N,3), parts (N,)) of one synthetic ``category`` object, z up, unit sphere."""
    boxes = _BUILDERS[category](rng)
    faces = []
    for lo, hi, part in boxes:
        lo, hi = np.asarray(lo, float), np.asarray(hi, float)
        for axis, side in _FACES:
            a, b = [i for i in range(3) if i != axis]
            faces.append((lo, hi, part, axis, side, a, b, (hi[a] - lo[a]) * (hi[b] - lo[b])))
    area = np.array([f[-1] for f in faces])
    pick = rng.choice(len(faces), num_points, p=area / area.sum())
    uv = rng.random((num_points, 2))
    pts, nrm, parts = np.zeros((num_points, 3)), np.zeros((num_points, 3)), np.zeros(num_points, np.int64)
    for i, (lo, hi, part, axis, side, a, b, _) in enumerate(faces):
        sel = pick == i
        pts[sel, axis] = hi[axis] if side > 0 else lo[axis]
        pts[sel, a] = lo[a] + uv[sel, 0] * (hi[a] - lo[a])
        pts[sel, b] = lo[b] + uv[sel, 1] * (hi[b] - lo[b])
        nrm[sel, axis], parts[sel] = side, part
    pts -= pts.mean(0)
    pts /= np.sqrt((pts ** 2).sum(1)).max()
    if random_yaw:
        ang = rng.uniform(0, 2 * np.pi)
        rot = np.array([[np.cos(ang), -np.sin(ang), 0], [np.sin(ang), np.cos(ang), 0], [0, 0, 1]])
        pts, nrm = pts @ rot.T, nrm @ rot.T
    if noise > 0:
        pts = pts + rng.normal(0, noise, pts.shape)
    return pts, nrm, parts


def write_shapenetpart(root: Path, per_class: dict, num_points: int = 2600, seed: int = 0, noise: float = 0.0,
                       random_yaw: bool = False, categories=PART_DEMO_CATEGORIES) -> Path:
    """The release's layout under ``root``; ``per_class`` = {split: objects per category} (train / test;
    val defaults to a quarter of test, at least 1). ``num_points``: mean points per shape (+- 200)."""
    from .object_writers import to_y_up

    root = Path(root)
    atomic_write_text(root / "synsetoffset2category.txt",
                      "".join(f"{n}\t{s}\n" for n, s in zip(SHAPENETPART_CATEGORIES, SHAPENETPART_SYNSETS)))
    counts = dict(per_class)
    counts.setdefault("val", max(1, int(counts.get("test", 4)) // 4))
    for k, (split, count) in enumerate(sorted(counts.items())):
        entries = []
        for c, cat in enumerate(categories):
            synset = SHAPENETPART_SYNSETS[SHAPENETPART_CATEGORIES.index(cat)]
            for i in range(int(count)):
                rng = np.random.default_rng([seed, c, k, i])
                n = int(num_points + rng.integers(-200, 201))
                pts, nrm, parts = part_object(cat, n, rng, noise, random_yaw)
                rows = to_y_up(np.concatenate([pts, nrm], 1))
                model = f"{split}{c}{i:05d}"
                atomic_write_text(root / synset / f"{model}.txt", "".join(
                    " ".join(f"{v:.6f}" for v in r) + f" {p}.000000\n" for r, p in zip(rows, parts)))
                entries.append(f"shape_data/{synset}/{model}")
        order = np.random.default_rng([seed, 99, k]).permutation(len(entries))  # the release lists are shuffled
        atomic_save_json(root / "train_test_split" / f"shuffled_{split}_file_list.json", [entries[j] for j in order])
    return root
