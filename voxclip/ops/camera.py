"""Pinhole projection of world points into a camera (shared by the RGB-D pair dataset and the
Text4Point correspondences)."""
from __future__ import annotations

from typing import Tuple

import torch

__all__ = ["project_points"]


def project_points(points: torch.Tensor, camera_to_world: torch.Tensor,
                   intrinsic: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
    """World points (N,3) -> pixel coordinates (N,2) (u, v; float) and camera depth z (N,).

    ``camera_to_world`` (4,4); ``intrinsic`` (3,3) or (4,4) (only fx, fy, cx, cy and skew used).
    """
    t = camera_to_world.to(torch.float64)
    k = intrinsic.to(torch.float64)[:3, :3]
    # inverse of a rigid transform without a general matrix inverse
    r, c = t[:3, :3], t[:3, 3]
    cam = (points.to(torch.float64) - c) @ r  # == R^T (x - c) row-wise
    pix = cam @ k.T
    z = cam[:, 2]
    uv = pix[:, :2] / z.clamp_min(1e-12).unsqueeze(1)
    return uv, z
