"""Stage-1 contrastive loss (Eq. 1-2) with negatives from every process, and the stage-2
negative-cosine distillation loss (Eq. 4-5).

Eq. 1 / 2 are CLIP's symmetric cross-entropy. Over a data-parallel group the negatives are the
whole global batch: each process gathers every process's embeddings (torch.distributed.all_gather)
and puts its OWN tensor back in its slot, so its gradients reach its local features; every process
then scores the full (N, N) global matrix (open_clip's ``ClipLoss`` defaults: ``local_loss=False``,
``gather_with_grad=False``). Each process's loss is the loss of the whole batch and its gradient
with respect to its own rows is exact; DDP's averaging divides the summed gradient by the number
of processes, a constant factor that AdamW's normalisation removes. Per-row means instead of the
paper's sums (a constant factor: the batch size).
"""
from __future__ import annotations

import math

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import nn

__all__ = ["gather_features", "symmetric_infonce", "negative_cosine", "LogitScale"]


def _distributed() -> bool:
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def gather_features(x: torch.Tensor) -> tuple[torch.Tensor, int]:
    """(n, D) local rows -> ((sum n, D) rows of every process in rank order, offset of the local rows).

    The local slot is ``x`` itself (gradients kept); other processes' rows carry no gradient.
    Processes may hold different n (rows are padded for the all_gather and cut back).
    """
    if not _distributed():
        return x, 0
    world, rank = dist.get_world_size(), dist.get_rank()
    n = torch.tensor([x.shape[0]], device=x.device, dtype=torch.long)
    sizes = [torch.zeros_like(n) for _ in range(world)]
    dist.all_gather(sizes, n)
    sizes = [int(s) for s in sizes]
    pad = x.new_zeros((max(sizes), *x.shape[1:]))
    pad[: x.shape[0]] = x.detach()
    bufs = [torch.zeros_like(pad) for _ in range(world)]
    dist.all_gather(bufs, pad)
    parts = [b[:s] for b, s in zip(bufs, sizes)]
    parts[rank] = x
    return torch.cat(parts), sum(sizes[:rank])


def symmetric_infonce(a: torch.Tensor, b: torch.Tensor, logit_scale: torch.Tensor) -> torch.Tensor:
    """CLIP's symmetric InfoNCE between paired rows a_i, b_i (n, D), L2-normalised here.

    With A, B the rows of every process (gather_features; N rows), L = s * A @ B^T and y_i = i:
    loss = 1/2 [ CE(L, y) + CE(L^T, y) ]  (means over the N rows), s = logit_scale (exponentiated).
    """
    if a.shape != b.shape or a.dim() != 2:
        raise ValueError(f"symmetric_infonce: paired (n, D) features expected, got {tuple(a.shape)} and {tuple(b.shape)}")
    a_all, _ = gather_features(F.normalize(a, dim=-1))
    b_all, _ = gather_features(F.normalize(b, dim=-1))
    logits = logit_scale * a_all @ b_all.t()
    labels = torch.arange(a_all.shape[0], device=a.device)
    return 0.5 * (F.cross_entropy(logits, labels) + F.cross_entropy(logits.t(), labels))


def negative_cosine(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """mean over rows of 1 - cos(a_i, b_i) (Eq. 4 over tokens, Eq. 5 over clouds); a, b (..., D)."""
    return (1.0 - F.cosine_similarity(a, b, dim=-1)).mean()


class LogitScale(nn.Module):
    """CLIP's learnable temperature: parameter log(1/0.07), used as exp(clamp(p, 0, log 100)).

    CLIP clamps the parameter after every step so that the scale never exceeds 100; clamping in
    the forward gives the same scale without a hook in the training loop.
    """

    def __init__(self, init_temperature: float = 0.07, max_scale: float = 100.0, learnable: bool = True):
        super().__init__()
        value = torch.tensor(math.log(1.0 / init_temperature))
        self.max_log = math.log(max_scale)
        if learnable:
            self.logit_scale = nn.Parameter(value)
        else:
            self.register_buffer("logit_scale", value)

    def forward(self) -> torch.Tensor:
        return self.logit_scale.clamp(0.0, self.max_log).exp()
