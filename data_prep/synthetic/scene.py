"""One synthetic scene: the aligned-frame mesh plus everything the raw files are written from.

``build_scene`` turns a room layout into a triangle mesh (room shell + furniture), per-vertex
colours, an over-segmentation (one patch per face tile), instances and labels, and a random
raw -> aligned transform (``axis_alignment``). The raw mesh is ``inv(axis_alignment)`` applied to
the aligned one, as in ScanNet, where ``axisAlignment`` maps raw scan coordinates to aligned ones.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Dict, List, Tuple

import numpy as np

from .labels import raw_to_nyu40
from .layout import PlacedObject, Room, choose_kinds, place_objects, sample_room
from .tessellate import tessellate_box, tessellate_rect

DEFAULT_SPACING = 0.062    # metres between neighbouring vertices (~42k vertices per scene)
REALISTIC_SPACING = 0.044  # ~80k vertices, the size benchmarks use
SHELL_TILE, OBJECT_TILE = 1.0, 0.35  # over-segment patch sizes (metres)
# nyu40 ids of the 18 ScanNet detection classes, in benchmark order (docs/conventions.md).
DET_NYU40_IDS = (3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 14, 16, 24, 28, 33, 34, 36, 39)


@dataclass
class SceneObject:
    object_id: int  # -1 when the object is not annotated
    label: str      # raw category as written to aggregation.json
    nyu40: int
    kind: str


@dataclass
class SyntheticScene:
    """Ground truth of one scene. Shapes: V vertices, F triangles."""

    scene_id: str
    vertices: np.ndarray        # (V,3) float64, aligned frame
    colors: np.ndarray          # (V,3) uint8
    faces: np.ndarray           # (F,3) int64
    segments: np.ndarray        # (V,) int64 over-segment id (segIndices)
    object_ids: np.ndarray      # (V,) int64 objectId, -1 = not annotated
    objects: List[SceneObject]  # annotated objects first by objectId, then unannotated ones
    axis_alignment: np.ndarray  # (4,4) float64 raw -> aligned, exactly as written to <id>.txt
    room: Room
    placed: List[PlacedObject] = field(repr=False, default_factory=list)

    @property
    def raw_vertices(self) -> np.ndarray:
        """(V,3) float32 vertices in the raw scan frame (what the ply holds)."""
        inv = np.linalg.inv(self.axis_alignment)
        return (self.vertices @ inv[:3, :3].T + inv[:3, 3]).astype(np.float32)

    def aligned_from_raw(self) -> np.ndarray:
        """(V,3) float64: the written float32 raw vertices mapped back with axis_alignment."""
        a = self.axis_alignment
        return self.raw_vertices.astype(np.float64) @ a[:3, :3].T + a[:3, 3]

    def instance_aabbs(self) -> Dict[int, Tuple[np.ndarray, np.ndarray]]:
        """objectId -> (min (3,), max (3,)) of its vertices in the aligned frame."""
        v = self.aligned_from_raw()
        return {o.object_id: (v[self.object_ids == o.object_id].min(0),
                              v[self.object_ids == o.object_id].max(0))
                for o in self.objects if o.object_id >= 0}

    def detection_boxes(self) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Ground-truth boxes as the prepare tool should compute them.

        Returns boxes (M,7) float64 (cx, cy, cz, dx, dy, dz, yaw=0), labels (M,) int64 indexing
        the 18 detection classes, object ids (M,) int64; ordered by objectId.
        """
        aabbs = self.instance_aabbs()
        rows, labels, ids = [], [], []
        for o in sorted(self.objects, key=lambda o: o.object_id):
            if o.object_id < 0 or o.nyu40 not in DET_NYU40_IDS:
                continue
            lo, hi = aabbs[o.object_id]
            rows.append(np.r_[(lo + hi) / 2, hi - lo, 0.0])
            labels.append(DET_NYU40_IDS.index(o.nyu40))
            ids.append(o.object_id)
        return (np.array(rows, dtype=np.float64).reshape(-1, 7), np.array(labels, np.int64),
                np.array(ids, np.int64))


class _MeshAccumulator:
    def __init__(self):
        self.v, self.f, self.patch, self.owner, self.col = [], [], [], [], []
        self.n_v = self.n_patch = 0

    def add(self, pieces, owner: int, color: np.ndarray, one_patch: bool = False) -> None:
        first_patch = self.n_patch
        for v, f, p in pieces:
            self.v.append(v)
            self.f.append(f + self.n_v)
            self.patch.append(np.full(len(v), first_patch) if one_patch else p + self.n_patch)
            self.owner.append(np.full(len(v), owner))
            self.col.append(np.broadcast_to(color, v.shape))
            self.n_v += len(v)
            if not one_patch:
                self.n_patch += int(p.max()) + 1
        if one_patch:
            self.n_patch += 1


def _alignment(rng: np.random.Generator) -> np.ndarray:
    """A random raw -> aligned transform (rotation about z + translation), rounded to 6
    decimals like the official files so that the written text is exact."""
    th = rng.uniform(-math.pi, math.pi)
    a = np.eye(4)
    a[:2, :2] = [[math.cos(th), -math.sin(th)], [math.sin(th), math.cos(th)]]
    a[:3, 3] = [rng.uniform(-5, 1), rng.uniform(-5, 1), rng.uniform(-0.1, 0.1)]
    return np.round(a, 6)


def build_scene(scene_id: str, rng: np.random.Generator, spacing: float = DEFAULT_SPACING,
                annotated: bool = True) -> SyntheticScene:
    """Lay out and mesh one scene. Layout draws come first so that ``spacing`` changes only the
    tessellation, never the layout. ``annotated=False`` (test scenes) still fills object_ids."""
    layout_rng, colour_rng, seg_rng, align_rng = rng.spawn(4)
    room = sample_room(layout_rng)
    placed = place_objects(layout_rng, room, choose_kinds(layout_rng))
    acc = _MeshAccumulator()
    nyu = raw_to_nyu40()
    W, L, H = room.width, room.length, room.height

    # room shell: floor + four walls facing inwards, no ceiling (ScanNet scans rarely have one)
    shell = [("floor", (0, 0, 0), (W, 0, 0), (0, L, 0), (150, 118, 88))]
    shell += [("wall", (0, 0, 0), (0, 0, H), (W, 0, 0), (205, 200, 190)),
              ("wall", (W, 0, 0), (0, 0, H), (0, L, 0), (198, 196, 188)),
              ("wall", (0, L, 0), (W, 0, 0), (0, 0, H), (202, 198, 192)),
              ("wall", (0, 0, 0), (0, L, 0), (0, 0, H), (196, 194, 190))]
    entries: List[Tuple[str, str, bool]] = []  # (label, kind, annotated) per owner index
    for label, o, a, b, c in shell:
        piece = tessellate_rect(np.array(o, float), np.array(a, float), np.array(b, float),
                                spacing, SHELL_TILE)
        acc.add([piece], len(entries), np.clip(np.array(c) + colour_rng.uniform(-8, 8, 3), 0, 255))
        entries.append((label, label, True))

    for obj in placed:
        for part in obj.furniture.parts:
            size = part.hi - part.lo
            center = obj.position + _rotz(obj.yaw) @ ((part.lo + part.hi) / 2)
            skip = ("-z",) if part.lo[2] + obj.position[2] < 1e-6 else ()  # unseen bottoms
            pieces = tessellate_box(center, size, obj.yaw, spacing, OBJECT_TILE, skip)
            acc.add(pieces, len(entries), part.color, one_patch=size.max() < OBJECT_TILE)
        entries.append((obj.raw_label, obj.kind, obj.annotated and annotated))

    verts = np.concatenate(acc.v)
    owner = np.concatenate(acc.owner)
    colors = np.concatenate(acc.col).astype(np.float64)
    # per-object tint and per-vertex sensor noise
    colors += colour_rng.normal(0, 4.0, (len(entries), 3))[owner]
    colors += colour_rng.normal(0, 3.0, colors.shape)
    colors = np.clip(np.rint(colors), 0, 255).astype(np.uint8)

    # over-segment ids look like ScanNet's: sparse, increasing integers
    patch = np.concatenate(acc.patch)
    seg_values = np.sort(seg_rng.choice(acc.n_patch * 8 + 16, size=acc.n_patch, replace=False))

    # objectIds: annotated owners in a random order, 0..K-1
    order = [i for i in seg_rng.permutation(len(entries)) if entries[i][2]]
    owner_to_oid = np.full(len(entries), -1, np.int64)
    owner_to_oid[order] = np.arange(len(order))
    objects = [SceneObject(int(owner_to_oid[i]), entries[i][0], nyu[entries[i][0]], entries[i][1])
               for i in order]
    objects += [SceneObject(-1, lab, nyu[lab], kind) for lab, kind, ann in entries if not ann]
    return SyntheticScene(scene_id, verts, colors, np.concatenate(acc.f).astype(np.int64),
                          seg_values[patch].astype(np.int64), owner_to_oid[owner], objects,
                          _alignment(align_rng), room, placed)


def _rotz(yaw: float) -> np.ndarray:
    c, s = math.cos(yaw), math.sin(yaw)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])
