"""Pixel-voxel correspondences (Text4Point Eq. 2).

A voxel centre ``x`` (world, axis-aligned) maps to camera space with the inverse of the
camera-to-world pose and to pixels with the intrinsic: ``[u v 1]^T ~ K T^-1 [x 1]^T``. Pixel
centres sit at integer coordinates, so the pixel index is ``floor(u + 0.5)``. A voxel is kept when
it lies in front of the camera, inside the image, and its camera depth agrees with the depth
frame at its pixel within ``tol`` metres (2 cm for ScanNet pre-training).
"""
from __future__ import annotations

from typing import Optional, Tuple

import torch

from voxclip.ops.camera import project_points

__all__ = ["project_points", "voxel_pixel_correspondences"]


def voxel_pixel_correspondences(
        centres: torch.Tensor, camera_to_world: torch.Tensor, image_intrinsic: torch.Tensor,
        image_hw: Tuple[int, int], depth: torch.Tensor,
        depth_intrinsic: Optional[torch.Tensor] = None,
        tol: float = 0.02) -> Tuple[torch.Tensor, torch.Tensor]:
    """Matched (voxel, pixel) pairs of one frame.

    Args:
        centres: (N,3) voxel centres in the world frame of ``camera_to_world``.
        image_intrinsic: intrinsic of the image whose pixels are matched, size ``image_hw``.
        depth: (Hd,Wd) depth in metres (0 = invalid).
        depth_intrinsic: intrinsic of ``depth``; None when the depth is at the image size and
            shares its intrinsic.
    Returns:
        voxel_idx (M,) int64 rows of ``centres``; pixel_idx (M,) int64 flat image pixel
        ``v * W + u``.
    """
    h, w = image_hw
    uv, z = project_points(centres, camera_to_world, image_intrinsic)
    iu = torch.floor(uv[:, 0] + 0.5).long()
    iv = torch.floor(uv[:, 1] + 0.5).long()
    ok = (z > 0) & (iu >= 0) & (iu < w) & (iv >= 0) & (iv < h)
    if depth_intrinsic is None:
        if tuple(depth.shape) != (h, w):
            raise ValueError(f"depth is {tuple(depth.shape)} but image is {(h, w)}; pass "
                             "depth_intrinsic")
        du, dv = iu, iv
    else:
        duv, _ = project_points(centres, camera_to_world, depth_intrinsic)
        du = torch.floor(duv[:, 0] + 0.5).long()
        dv = torch.floor(duv[:, 1] + 0.5).long()
        hd, wd = depth.shape
        ok &= (du >= 0) & (du < wd) & (dv >= 0) & (dv < hd)
    idx = torch.nonzero(ok, as_tuple=True)[0]
    d = depth[dv[idx], du[idx]].to(torch.float64)
    agree = (d > 0) & ((d - z[idx]).abs() <= tol)
    idx = idx[agree]
    return idx, iv[idx] * w + iu[idx]
