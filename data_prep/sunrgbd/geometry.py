"""SUN RGB-D geometry: depth decoding, back-projection, frames and box conversions.

Frames (all right-handed, metres; see docs/sunrgbd.md):

* camera:          x right, y down, z forward (pixel rays, ``K``).
* depth:           x right, y forward, z up = ``(x_cam, z_cam, -y_cam)`` (matrix ``CAM_TO_DEPTH``).
* upright depth:   ``Rtilt @ p_depth``; z is against gravity. Points and boxes live here.
* annotation:      the index.json polygons use an upright frame with Y pointing down:
                   upright depth ``(x, y, z) = (X, Z, -Y)``.

The two box traps are converted here, exactly once: the export's half sizes (``w l h``) become
full sizes, and its orientation vector ``(ox, oy)`` becomes ``yaw = atan2(oy, ox)`` (VoteNet's
``heading = -atan2(oy, ox)`` is a clockwise angle and is never used).
"""

from __future__ import annotations

import math

import numpy as np

# The toolbox clamps decoded depth at 8 m (read3dPoints.m) before back-projection.
DEPTH_CLAMP_M = 8.0

# p_depth = CAM_TO_DEPTH @ p_cam, i.e. (x, y, z)_depth = (x, z, -y)_cam.
CAM_TO_DEPTH = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, -1.0, 0.0]])


def decode_depth(raw: np.ndarray) -> np.ndarray:
    """Decode a SUN RGB-D depth PNG (uint16, (H,W)) to metres, float32 (H,W).

    The stored value is the millimetre depth rotated left by 3 bits; the toolbox rotates the 16
    bits right by 3 (``bitor(bitshift(d,-3), bitshift(d,13))``), divides by 1000 and clamps at 8 m.
    Zero stays zero (= no measurement).
    """
    raw = np.asarray(raw)
    if raw.dtype != np.uint16:
        raise ValueError(f"depth image must be uint16, got {raw.dtype}")
    rotated = (raw >> np.uint16(3)) | (raw << np.uint16(13))  # uint16 arithmetic drops high bits
    metres = rotated.astype(np.float32) / np.float32(1000.0)
    return np.minimum(metres, np.float32(DEPTH_CLAMP_M))


def rtilt_from_extrinsics(extrinsics: np.ndarray) -> np.ndarray:
    """Rtilt (3,3) of the upright depth frame from the rotation of ``extrinsics/*.txt``.

    The file's rotation acts in the annotation frame (y down, z forward); the toolbox moves it to
    the depth frame: ``Rtilt = A @ E @ A.T`` with ``A = CAM_TO_DEPTH`` (readframeSUNRGBD.m).
    """
    e = np.asarray(extrinsics, dtype=np.float64)[:3, :3]
    return CAM_TO_DEPTH @ e @ CAM_TO_DEPTH.T


def depth_to_upright_points(depth: np.ndarray, K: np.ndarray, Rtilt: np.ndarray
                            ) -> tuple[np.ndarray, np.ndarray]:
    """Back-project a metric depth map (H,W) to upright-depth-frame points.

    Pixels use the toolbox's 1-based coordinates (``meshgrid(1:W, 1:H)``) and its column-major
    order, so the result matches the exported ``instance`` arrays row for row.

    Returns:
        xyz: float64 (N,3) for the N pixels with depth > 0.
        flat_index: int64 (N,) index of each point's pixel in ``image.reshape(-1, C, order='F')``
        terms, i.e. ``col * H + row``.
    """
    depth = np.asarray(depth)
    h, w = depth.shape
    fx, fy, cx, cy = K[0, 0], K[1, 1], K[0, 2], K[1, 2]
    d = depth.reshape(-1, order="F").astype(np.float64)
    flat_index = np.flatnonzero(d > 0)
    d = d[flat_index]
    row = flat_index % h
    col = flat_index // h
    x_cam = (col + 1 - cx) * d / fx
    y_cam = (row + 1 - cy) * d / fy
    p_depth = np.stack([x_cam, d, -y_cam], axis=1)  # CAM_TO_DEPTH applied by hand
    return p_depth @ np.asarray(Rtilt, dtype=np.float64).T, flat_index


def wrap_yaw(yaw: float | np.ndarray) -> float | np.ndarray:
    """Wrap angles to [-pi, pi)."""
    return (np.asarray(yaw) + math.pi) % (2 * math.pi) - math.pi


def polygon_to_box(xs, zs, ymin: float, ymax: float) -> np.ndarray:
    """One ``annotation3Dfinal`` polygon to a project box (7,) (cx,cy,cz, dx,dy,dz, yaw).

    Follows readframeSUNRGBD.m: bird's-eye points ``p_i = (X_i, Z_i)`` (first three used);
    centre = (p1 + p3)/2; heading = direction from the centre to the midpoint of p1-p2;
    dx (along heading) = |p3 - p2|, dy = |p2 - p1|; z from ``-Ymax .. -Ymin``.
    """
    xs = np.asarray(xs, dtype=np.float64).reshape(-1)
    zs = np.asarray(zs, dtype=np.float64).reshape(-1)
    if xs.size != zs.size or xs.size < 3:
        raise ValueError(f"polygon needs >= 3 (X, Z) points, got {xs.size} X and {zs.size} Z")
    p = np.stack([xs, zs], axis=1)
    dy = float(np.linalg.norm(p[1] - p[0]))
    dx = float(np.linalg.norm(p[2] - p[1]))
    centre = 0.5 * (p[0] + p[2])
    heading = 0.5 * (p[0] + p[1]) - centre
    if dx <= 0 or dy <= 0 or not np.all(np.isfinite(p)):
        raise ValueError("degenerate polygon (zero-length edge or non-finite value)")
    z_a, z_b = -float(ymax), -float(ymin)
    yaw = float(wrap_yaw(math.atan2(heading[1], heading[0])))
    return np.array([centre[0], centre[1], 0.5 * (z_a + z_b), dx, dy, abs(z_b - z_a), yaw])


def label_to_box(centroid, half_w: float, half_l: float, half_h: float, ox: float, oy: float
                 ) -> np.ndarray:
    """One exported label (``cx cy cz w l h ox oy``) to a project box (7,).

    ``l`` is the half extent along the orientation vector, ``w`` across it, ``h`` vertical.
    Full sizes: dx = 2l, dy = 2w, dz = 2h; yaw = atan2(oy, ox) (counter-clockwise).
    """
    if not math.isfinite(ox) or not math.isfinite(oy) or math.hypot(ox, oy) == 0:
        raise ValueError(f"orientation vector ({ox}, {oy}) has no direction")
    sizes = np.abs([2.0 * half_l, 2.0 * half_w, 2.0 * half_h])
    yaw = float(wrap_yaw(math.atan2(oy, ox)))
    return np.array([*np.asarray(centroid, dtype=np.float64), *sizes, yaw])
