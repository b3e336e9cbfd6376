"""Fourier positional encoding of 3D coordinates (3DETR, after Tancik et al. 2020).

Coordinates are first normalised to [0, 1] by the scene extent (per-sample min/max of the input
points), then projected by a FIXED Gaussian matrix B (d_in, d_pos/2), drawn once from a seeded
generator and stored as a buffer: pe(x) = [sin(2 pi x B), cos(2 pi x B)].
"""
from __future__ import annotations

import math

import torch
from torch import nn

__all__ = ["FourierPositionEncoding", "normalize_coords"]


def normalize_coords(xyz: torch.Tensor, pc_min: torch.Tensor, pc_max: torch.Tensor) -> torch.Tensor:
    """(B, N, 3) coordinates -> (B, N, 3) in [0, 1] over the (B, 3) scene bounds."""
    scale = (pc_max - pc_min).clamp(min=1e-6)
    return (xyz - pc_min[:, None, :]) / scale[:, None, :]


class FourierPositionEncoding(nn.Module):
    """(B, N, d_in) coordinates + (B, d_in) bounds -> (B, N, d_pos) features.

    Args:
        d_pos: output width (even). d_in: coordinate dimension. gauss_scale: std of B (3DETR: 1.0).
        seed: seed of the generator that draws B, so that every instance is identical.
    """

    def __init__(self, d_pos: int = 256, d_in: int = 3, gauss_scale: float = 1.0, seed: int = 0):
        super().__init__()
        if d_pos % 2:
            raise ValueError(f"FourierPositionEncoding: d_pos must be even, got {d_pos}")
        gen = torch.Generator().manual_seed(seed)
        self.register_buffer("gauss_B", torch.randn(d_in, d_pos // 2, generator=gen) * gauss_scale)
        self.d_pos, self.d_in = d_pos, d_in

    def forward(self, xyz: torch.Tensor, pc_min: torch.Tensor, pc_max: torch.Tensor) -> torch.Tensor:
        if xyz.dim() != 3 or xyz.shape[-1] != self.d_in:
            raise ValueError(f"FourierPositionEncoding: expected (B, N, {self.d_in}) coordinates, got {tuple(xyz.shape)}")
        proj = (2 * math.pi * normalize_coords(xyz, pc_min, pc_max)) @ self.gauss_B.to(xyz.dtype)
        return torch.cat([proj.sin(), proj.cos()], dim=-1)
