"""Offscreen colour + depth views of one object from a fixed set of viewpoints.

A mesh (when the object has one) is ray-cast with open3d (data_prep.synthetic.render.MeshRenderer,
the same code that renders the synthetic RGB-D streams); a bare point cloud is splatted into a
z-buffer (each point covers a square of ``splat`` pixels, nearest depth wins) and shaded by depth.
Cameras follow the OpenCV convention (x right, y down, z forward), poses are camera-to-world, and
depth is z in the camera frame, in the object's units (unit sphere after normalisation).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from data_prep.synthetic.render import MeshRenderer, look_at
from voxclip.ops.camera import project_points

__all__ = ["ViewSet", "fixed_viewpoints", "intrinsics", "render_points", "render_mesh"]


@dataclass
class ViewSet:
    """colors (V, H, W, 3) uint8, depths (V, H, W) float32 (0 = empty), poses (V, 4, 4), K (3, 3)."""

    colors: np.ndarray
    depths: np.ndarray
    poses: np.ndarray
    K: np.ndarray


def fixed_viewpoints(num_views: int = 10, distance: float = 2.2, elevation_deg: float = 30.0) -> np.ndarray:
    """(V, 4, 4) camera-to-world poses on a circle around +z (z up), looking at the origin: azimuths
    360 k / V from +x, at ``elevation_deg`` above the xy-plane."""
    el = math.radians(elevation_deg)
    poses = []
    for k in range(num_views):
        az = 2 * math.pi * k / num_views
        eye = distance * np.array([math.cos(el) * math.cos(az), math.cos(el) * math.sin(az), math.sin(el)])
        poses.append(look_at(eye, [0.0, 0.0, 0.0]))
    return np.stack(poses)


def intrinsics(size: int, fov_deg: float = 60.0) -> np.ndarray:
    f = 0.5 * size / math.tan(math.radians(fov_deg) / 2)
    return np.array([[f, 0, (size - 1) / 2], [0, f, (size - 1) / 2], [0, 0, 1]], np.float64)


def render_points(points: np.ndarray, poses: np.ndarray, K: np.ndarray, size: int, splat: int = 2,
                  colors: np.ndarray | None = None) -> ViewSet:
    """Z-buffer splatting of (N, 3) points; colour = the points' colours, else grey shaded by depth."""
    cols, deps = [], []
    pts = torch.as_tensor(np.asarray(points, np.float64))
    for c2w in poses:
        uv, z = project_points(pts, torch.as_tensor(c2w), torch.as_tensor(K))
        uv, z = uv.numpy(), z.numpy()
        depth = np.full(size * size, np.inf)
        owner = np.full(size * size, -1, np.int64)
        front = z > 1e-6
        base = np.floor(uv[front]).astype(np.int64)
        idx_front = np.flatnonzero(front)
        for du in range(splat):
            for dv in range(splat):
                u, v = base[:, 0] + du - splat // 2, base[:, 1] + dv - splat // 2
                ok = (u >= 0) & (u < size) & (v >= 0) & (v < size)
                pix, zz, who = v[ok] * size + u[ok], z[idx_front[ok]], idx_front[ok]
                np.minimum.at(depth, pix, zz)
                won = zz == depth[pix]
                owner[pix[won]] = who[won]
        hit = np.isfinite(depth)
        d = np.where(hit, depth, 0.0).astype(np.float32).reshape(size, size)
        if colors is not None:
            rgb = np.where(hit[:, None], np.asarray(colors, np.uint8)[np.maximum(owner, 0)], 0)
        else:
            lo, hi = (depth[hit].min(), depth[hit].max()) if hit.any() else (0.0, 1.0)
            shade = 230 - 150 * (depth - lo) / max(hi - lo, 1e-6)
            rgb = np.where(hit[:, None], np.repeat(shade[:, None], 3, 1), 0)
        cols.append(np.clip(rgb, 0, 255).astype(np.uint8).reshape(size, size, 3))
        deps.append(d)
    return ViewSet(np.stack(cols), np.stack(deps), np.asarray(poses), K)


def render_mesh(vertices: np.ndarray, faces: np.ndarray, vertex_colors: np.ndarray, poses: np.ndarray,
                K: np.ndarray, size: int) -> ViewSet:
    r = MeshRenderer(vertices, faces, vertex_colors)
    cols = [r.color(p, K, size, size) for p in poses]
    deps = [r.depth(p, K, size, size) for p in poses]
    return ViewSet(np.stack(cols), np.stack(deps), np.asarray(poses), K)
