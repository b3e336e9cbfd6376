"""Room size and non-overlapping furniture placement, in the aligned (z-up, floor z = 0) frame.

The room spans [0, W] x [0, L] x [0, H]. Wall objects stand with their back against one of the
four walls; mounted objects (door, window, picture) sit on a wall surface; free objects go
anywhere with a random yaw (mostly quarter turns plus a little jitter, chairs fully random).
Objects never overlap: their world AABBs, grown by a margin, must be disjoint in 3D (so a picture
may hang above a sofa, but a window never cuts a bookshelf).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import List, Optional, Tuple

import numpy as np

from .shapes import CATALOG, CLUTTER_KINDS, FLOOR_DETECTION_KINDS, Furniture
from .tessellate import rot_z

MARGIN = 0.12  # free space kept around every object (xy), metres
WALL_YAWS = (0.0, math.pi / 2, math.pi, -math.pi / 2)  # walls y=0, x=W, y=L, x=0 (front inwards)


@dataclass
class Room:
    width: float   # along x
    length: float  # along y
    height: float


@dataclass
class PlacedObject:
    furniture: Furniture
    raw_label: str
    annotated: bool
    yaw: float
    position: np.ndarray  # (3,) world position of the local origin

    @property
    def kind(self) -> str:
        return self.furniture.kind

    def world_aabb(self) -> Tuple[np.ndarray, np.ndarray]:
        return _rotated_aabb(self.furniture, self.yaw, self.position)


def _rotated_aabb(f: Furniture, yaw: float, pos) -> Tuple[np.ndarray, np.ndarray]:
    lo, hi = f.lo, f.hi
    corners = np.array([[x, y, z] for x in (lo[0], hi[0]) for y in (lo[1], hi[1])
                        for z in (lo[2], hi[2])]) @ rot_z(yaw).T + np.asarray(pos, float)
    return corners.min(0), corners.max(0)


def _overlaps(a: Tuple[np.ndarray, np.ndarray], b: Tuple[np.ndarray, np.ndarray]) -> bool:
    return bool(np.all(a[0] < b[1]) and np.all(b[0] < a[1]))


def _grow(box, m: float):
    return box[0] - [m, m, 0.02], box[1] + [m, m, 0.02]


def choose_kinds(rng: np.random.Generator) -> List[Tuple[str, bool]]:
    """Kinds to place, biggest first, as (kind, annotated): 5-10 detection objects + clutter."""
    kinds = list(rng.choice(FLOOR_DETECTION_KINDS, size=int(rng.integers(4, 7)), replace=False))
    extra = []
    for k in kinds:
        if k == "chair":
            extra += ["chair"] * int(rng.integers(0, 3))
        if k == "garbagebin":
            extra += ["garbagebin"] * int(rng.integers(0, 2))
    kinds += extra
    mounted = ["door"] if rng.random() < 0.8 else []
    mounted += ["window"] * int(rng.integers(0, 3)) + (["picture"] if rng.random() < 0.6 else [])
    kinds = (kinds + mounted)[:10]
    kinds.sort(key=lambda k: -_area(k))
    out = [(k, True) for k in kinds]
    out += [(str(k), True) for k in rng.choice(CLUTTER_KINDS, size=int(rng.integers(1, 3)))]
    if rng.random() < 0.5:  # a small thing nobody annotated (segGroups miss it)
        out.append(("box", False))
    return out


_AREA = {"bed": 3.0, "bathtub": 1.2, "sofa": 1.8, "table": 1.3, "desk": 0.9, "door": 0.9,
         "bookshelf": 0.4, "refrigerator": 0.5, "cabinet": 0.45, "toilet": 0.3, "window": 0.2,
         "picture": 0.1, "chair": 0.22, "garbagebin": 0.1}


def _area(kind: str) -> float:
    return _AREA.get(kind, 0.05)


def sample_room(rng: np.random.Generator) -> Room:
    return Room(float(rng.uniform(4.5, 7.0)), float(rng.uniform(4.0, 6.5)),
                float(rng.uniform(2.5, 2.8)))


def _try_place(rng, f: Furniture, placement: str, room: Room) -> Optional[Tuple[float, np.ndarray]]:
    """Sample one candidate (yaw, position) for ``f`` inside the room, or None if it can't fit."""
    size = np.array([room.width, room.length])
    if placement in ("wall", "mounted"):
        wall = int(rng.integers(4))
        yaw = WALL_YAWS[wall]
        gap = 0.003 if placement == "mounted" else float(rng.uniform(0.02, 0.08))
    elif f.kind == "chair" and rng.random() < 0.5:
        yaw, gap, wall = float(rng.uniform(-math.pi, math.pi)), 0.0, None
    else:
        yaw = WALL_YAWS[int(rng.integers(4))]
        if rng.random() < 0.5:
            yaw += float(rng.uniform(-0.35, 0.35))
        gap, wall = 0.0, None
    lo, hi = _rotated_aabb(f, yaw, (0.0, 0.0, 0.0))
    pos = np.zeros(3)
    for ax in (0, 1):
        a, b = MARGIN - lo[ax], size[ax] - MARGIN - hi[ax]
        if placement == "mounted":  # doors may reach corners less closely than furniture
            a, b = 0.25 - lo[ax], size[ax] - 0.25 - hi[ax]
        if a > b:
            return None
        pos[ax] = rng.uniform(a, b)
    if wall is not None:  # push the back against the wall
        ax, at_max = (1, False) if wall == 0 else (0, True) if wall == 1 else \
            (1, True) if wall == 2 else (0, False)
        pos[ax] = size[ax] - gap - hi[ax] if at_max else gap - lo[ax]
    return yaw, pos


def place_objects(rng: np.random.Generator, room: Room,
                  kinds: List[Tuple[str, bool]]) -> List[PlacedObject]:
    """Place each kind (rejection sampling, 80 tries); kinds that never fit are dropped."""
    placed: List[PlacedObject] = []
    blocked: List[Tuple[np.ndarray, np.ndarray]] = []
    for kind, annotated in kinds:
        labels, placement, build = CATALOG[kind]
        f = build(rng)
        label = str(labels[int(rng.integers(len(labels)))])
        for _ in range(80):
            cand = _try_place(rng, f, placement, room)
            if cand is None:
                continue
            yaw, pos = cand
            box = _rotated_aabb(f, yaw, pos)
            grown = _grow(box, 0.0 if placement == "mounted" else MARGIN)
            if any(_overlaps(grown, b) for b in blocked):
                continue
            placed.append(PlacedObject(f, label, annotated, yaw, pos))
            blocked.append(_grow(box, 0.0 if placement == "mounted" else MARGIN))
            if kind == "door":  # keep the swing area in front of a door clear
                front = rot_z(yaw) @ np.array([0.0, 1.0, 0.0])
                blocked.append(_grow((box[0] + np.minimum(front, 0) * 0.9,
                                      box[1] + np.maximum(front, 0) * 0.9), 0.0))
            break
    return placed
