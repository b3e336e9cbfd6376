"""Farthest point sampling: fpsample (QuickFPS) on CPU, a batched torch loop on GPU or as fallback.

Every path returns an exact farthest-point sequence: each index after the first maximises the
minimum distance to the indices already chosen (ties go to the lowest index in the torch path).
The torch path starts at `start_idx`. fpsample 1.0.2's bucket sampler does not honour its own
`start_idx` (it starts from a point fixed by its internal tree order), so the CPU path starts
from that deterministic point instead; the rest of the sequence follows the same rule.

When more samples are asked for than there are points, the farthest-point order over all points
is repeated cyclically (index j -> order[j % n]), so outputs keep a fixed shape.
"""
from __future__ import annotations

import math

import numpy as np
import torch

__all__ = ["farthest_point_sample", "fps_torch", "fps_fpsample", "fps_ragged"]


def _cycle(order: torch.Tensor, n_valid: int, num_samples: int) -> torch.Tensor:
    """Repeat the first n_valid entries of a (S,) order cyclically up to num_samples."""
    pos = torch.arange(num_samples, device=order.device) % max(n_valid, 1)
    return order[pos]


def fps_torch(points: torch.Tensor, num_samples: int, start_idx: int = 0,
              lengths: torch.Tensor | None = None) -> torch.Tensor:
    """Batched exact FPS with torch ops.

    Args:
        points: (B, N, D) coordinates.
        num_samples: S, samples per batch element.
        start_idx: index of the first sample (must be < every length).
        lengths: optional (B,) number of valid leading points per element (padding after).
    Returns:
        (B, S) int64 indices into dim 1.
    """
    if points.dim() != 3:
        raise ValueError(f"fps_torch expects (B, N, D) points, got {tuple(points.shape)}")
    bsz, n, _ = points.shape
    if n == 0:
        raise ValueError("fps_torch: empty point set")
    device = points.device
    pts = points.float() if points.dtype in (torch.float16, torch.bfloat16) else points
    if lengths is None:
        lengths = torch.full((bsz,), n, dtype=torch.long, device=device)
    lengths = lengths.to(device=device, dtype=torch.long)
    if int(lengths.min()) <= start_idx:
        raise ValueError(f"fps_torch: start_idx {start_idx} outside a point set of {int(lengths.min())} points")
    valid = torch.arange(n, device=device)[None, :] < lengths[:, None]
    # Padded slots hold -1 so they never win the argmax against a real (>= 0) distance.
    min_d = torch.where(valid, torch.full_like(pts[..., 0], float("inf")), torch.full_like(pts[..., 0], -1.0))
    rows = torch.arange(bsz, device=device)
    far = torch.full((bsz,), start_idx, dtype=torch.long, device=device)
    out = torch.empty(bsz, num_samples, dtype=torch.long, device=device)
    steps = min(num_samples, int(lengths.max()))
    for i in range(steps):
        out[:, i] = far
        d = ((pts - pts[rows, far][:, None, :]) ** 2).sum(-1)
        min_d = torch.minimum(min_d, d)
        far = min_d.argmax(dim=1)
    short = (lengths < num_samples).nonzero().flatten().tolist()
    for b in short:  # fewer points than samples: repeat the order cyclically
        out[b] = _cycle(out[b], int(lengths[b]), num_samples)
    return out


def fps_fpsample(points: torch.Tensor | np.ndarray, num_samples: int) -> torch.Tensor:
    """FPS of one (N, D) point set with fpsample's bucket (QuickFPS) sampler on CPU.

    Returns (S,) int64 indices (CPU tensor). Falls back to the torch loop for N < 4.
    """
    pts = points.detach().cpu().numpy() if isinstance(points, torch.Tensor) else np.asarray(points)
    if pts.ndim != 2:
        raise ValueError(f"fps_fpsample expects (N, D) points, got {pts.shape}")
    n = pts.shape[0]
    if n == 0:
        raise ValueError("fps_fpsample: empty point set")
    if n < 4:
        return fps_torch(torch.as_tensor(pts, dtype=torch.float32)[None], num_samples)[0]
    import fpsample

    k = min(num_samples, n)
    h = min(5, int(math.log2(n)))  # bucket height 5 measured fastest for 2k-50k points
    # An explicit start keeps it deterministic (None would draw from numpy's global RNG).
    order = torch.from_numpy(fpsample.bucket_fps_kdline_sampling(
        np.ascontiguousarray(pts, dtype=np.float32), k, h=h, start_idx=0).astype(np.int64))
    return _cycle(order, k, num_samples) if k < num_samples else order


def farthest_point_sample(points: torch.Tensor, num_samples: int, start_idx: int = 0,
                          backend: str = "auto") -> torch.Tensor:
    """FPS over (N, D) or (B, N, D) points -> (S,) or (B, S) int64 indices on points.device.

    backend: 'auto' (fpsample for CPU tensors, torch otherwise), 'fpsample' or 'torch'.
    `start_idx` only applies to the torch path (see module docstring).
    """
    if backend not in ("auto", "fpsample", "torch"):
        raise ValueError(f"unknown FPS backend {backend!r}")
    single = points.dim() == 2
    batched = points[None] if single else points
    use_fpsample = backend == "fpsample" or (backend == "auto" and batched.device.type == "cpu")
    if use_fpsample:
        out = torch.stack([fps_fpsample(p, num_samples) for p in batched]).to(points.device)
    else:
        out = fps_torch(batched, num_samples, start_idx)
    return out[0] if single else out


def fps_ragged(points: torch.Tensor, batch: torch.Tensor, num_samples: int, batch_size: int | None = None,
               backend: str = "auto") -> torch.Tensor:
    """FPS per batch element of a flat point list.

    Args:
        points: (N_total, D); batch: (N_total,) element index of each point.
        num_samples: S per element; batch_size: B (default max(batch) + 1).
    Returns:
        (B, S) int64 indices into the flat `points`.
    """
    bsz = int(batch.max()) + 1 if batch_size is None else batch_size
    counts = torch.bincount(batch, minlength=bsz)
    if bool((counts == 0).any()):
        raise ValueError(f"fps_ragged: batch element(s) {(counts == 0).nonzero().flatten().tolist()} have no points")
    order = torch.argsort(batch, stable=True)
    starts = torch.cumsum(counts, 0) - counts
    use_fpsample = backend == "fpsample" or (backend == "auto" and points.device.type == "cpu")
    if use_fpsample:
        local = [fps_fpsample(points[order[s:s + c]], num_samples)
                 for s, c in zip(starts.tolist(), counts.tolist())]
        local = torch.stack(local).to(points.device)
    else:
        # Pad to (B, N_max, D); padded slots are masked out inside fps_torch.
        n_max = int(counts.max())
        rank = torch.arange(points.shape[0], device=points.device) - starts[batch[order]]
        padded = points.new_zeros(bsz, n_max, points.shape[1])
        padded[batch[order], rank] = points[order]
        local = fps_torch(padded, num_samples, 0, lengths=counts)
    return order[local + starts[:, None]]
