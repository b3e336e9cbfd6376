"""Ray-cast RGB-D frames of a triangle mesh (open3d's RaycastingScene) and a camera path.

Cameras follow the ScanNet/OpenCV convention: x right, y down, z forward; poses are
camera-to-world (4,4). A pixel (u, v) looks along ((u - mx)/fx, (v - my)/fy, 1), so the ray
parameter of the hit is the depth (z in the camera frame) directly.
"""

from __future__ import annotations

import math
from typing import List, Sequence, Tuple

import numpy as np


def _open3d():
    try:
        import open3d as o3d
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise RuntimeError("rendering .sens frames needs open3d (pip install open3d, or "
                           "voxclip[render]); pass frames=0 to skip the RGB-D stream") from e
    return o3d


def look_at(eye: Sequence[float], target: Sequence[float]) -> np.ndarray:
    """Camera-to-world (4,4) at ``eye`` looking at ``target``, image 'up' towards +z."""
    eye, target = np.asarray(eye, float), np.asarray(target, float)
    z = target - eye
    z /= np.linalg.norm(z)
    x = np.cross(z, [0.0, 0.0, 1.0])
    x /= np.linalg.norm(x)
    y = np.cross(z, x)
    m = np.eye(4)
    m[:3, 0], m[:3, 1], m[:3, 2], m[:3, 3] = x, y, z, eye
    return m


def camera_path(room, obstacles: Sequence[Tuple[np.ndarray, np.ndarray]], n: int,
                rng: np.random.Generator, height: float = 1.5) -> List[np.ndarray]:
    """``n`` camera-to-world poses on a circle around the room centre, looking across it.

    Eyes inside an obstacle AABB (grown by 0.15 m) are pulled towards the centre.
    """
    c = np.array([room.width / 2, room.length / 2])
    r0 = 0.3 * min(room.width, room.length)
    phase = rng.uniform(0, 2 * math.pi)
    poses = []
    for i in range(n):
        ang = phase + 2 * math.pi * i / max(n, 1) + rng.normal(0, 0.05)
        h = height + rng.normal(0, 0.05)
        for scale in (1.0, 0.7, 0.45, 0.2, 0.0):
            eye = np.r_[c + scale * r0 * np.array([math.cos(ang), math.sin(ang)]), h]
            if not any(np.all(eye > lo - 0.15) and np.all(eye < hi + 0.15) for lo, hi in obstacles):
                break
        # look across the room through its centre, slightly down
        target = np.r_[c - 0.6 * r0 * np.array([math.cos(ang), math.sin(ang)]), 0.8]
        target[:2] += rng.normal(0, 0.15, 2)
        poses.append(look_at(eye, target))
    return poses


class MeshRenderer:
    """Ray caster over one mesh: vertices (V,3), faces (F,3), per-vertex colours (V,3) uint8."""

    def __init__(self, vertices: np.ndarray, faces: np.ndarray, colors: np.ndarray):
        o3d = _open3d()
        self._o3d = o3d
        self.colors = np.asarray(colors, np.float32)
        self.faces = np.asarray(faces, np.int64)
        self._dirs = {}
        self.scene = o3d.t.geometry.RaycastingScene()
        self.scene.add_triangles(o3d.core.Tensor(np.ascontiguousarray(vertices, np.float32)),
                                 o3d.core.Tensor(np.ascontiguousarray(faces, np.uint32)))

    def _pixel_dirs(self, k: np.ndarray, width: int, height: int) -> np.ndarray:
        key = (tuple(np.asarray(k, float)[:2, :3].ravel()), width, height)
        if key not in self._dirs:  # camera-frame ray directions, reused by every frame
            u, v = np.meshgrid(np.arange(width, dtype=np.float64),
                               np.arange(height, dtype=np.float64))
            d = np.stack([(u - k[0, 2]) / k[0, 0], (v - k[1, 2]) / k[1, 1], np.ones_like(u)], -1)
            self._dirs[key] = d.reshape(-1, 3).astype(np.float32)
        return self._dirs[key]

    def _cast(self, c2w: np.ndarray, k: np.ndarray, width: int, height: int, keys: tuple):
        dirs = self._pixel_dirs(k, width, height)
        rays = np.empty((len(dirs), 6), np.float32)
        rays[:, :3] = c2w[:3, 3]
        r = np.asarray(c2w, np.float32)[:3, :3]
        # explicit sum instead of a matmul: BLAS threads thrash on busy machines
        rays[:, 3:] = dirs[:, :1] * r[:, 0] + dirs[:, 1:2] * r[:, 1] + dirs[:, 2:] * r[:, 2]
        ans = self.scene.cast_rays(self._o3d.core.Tensor(rays))
        return rays, {key: ans[key].numpy() for key in keys}

    def depth(self, c2w: np.ndarray, k: np.ndarray, width: int, height: int) -> np.ndarray:
        """(H,W) float32 depth in metres (z along the optical axis); 0 where nothing is hit."""
        _, hit = self._cast(c2w, k, width, height, ("t_hit",))
        d = hit["t_hit"].reshape(height, width)
        return np.where(np.isfinite(d), d, 0.0).astype(np.float32)

    def color(self, c2w: np.ndarray, k: np.ndarray, width: int, height: int) -> np.ndarray:
        """(H,W,3) uint8: interpolated vertex colour times a headlight shading; black = miss."""
        rays, hit = self._cast(c2w, k, width, height,
                               ("t_hit", "primitive_ids", "primitive_uvs", "primitive_normals"))
        ok = np.isfinite(hit["t_hit"])
        prim = np.where(ok, hit["primitive_ids"], 0).astype(np.int64)
        uv = hit["primitive_uvs"]
        tri = self.faces[prim]  # (N,3)
        c = self.colors
        rgb = (c[tri[:, 0]] * (1 - uv[:, :1] - uv[:, 1:]) + c[tri[:, 1]] * uv[:, :1]
               + c[tri[:, 2]] * uv[:, 1:])
        d = rays[:, 3:]
        cos = np.abs(np.sum(d * hit["primitive_normals"], -1)) / np.linalg.norm(d, axis=-1)
        rgb *= ((0.45 + 0.55 * cos) * ok)[:, None]
        return np.rint(np.clip(rgb, 0, 255)).astype(np.uint8).reshape(height, width, 3)
