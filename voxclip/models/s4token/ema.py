"""EMA teacher (S4Token Fig. 1: updated after every iteration): theta_t <- m theta_t + (1 - m) theta_s.

The momentum follows BYOL/DINO's cosine schedule from ``base`` to ``final`` over the training
iterations (final = base: constant). Buffers (BatchNorm statistics) are copied from the student.
"""
from __future__ import annotations

import math

import torch
from torch import nn

__all__ = ["ema_update_", "cosine_momentum"]


def cosine_momentum(it: int, total: int, base: float = 0.996, final: float = 1.0) -> float:
    """m(it) = final - (final - base) * (cos(pi * it / total) + 1) / 2; m(0) = base, m(total) = final."""
    if total <= 0:
        return base
    t = min(max(it, 0), total) / total
    return final - (final - base) * (math.cos(math.pi * t) + 1.0) / 2.0


@torch.no_grad()
def ema_update_(teacher: nn.Module, student: nn.Module, momentum: float) -> None:
    """In place: every teacher parameter p_t = m p_t + (1 - m) p_s; buffers copied."""
    tp, sp = dict(teacher.named_parameters()), dict(student.named_parameters())
    if tp.keys() != sp.keys():
        raise ValueError("ema_update_: teacher and student have different parameters")
    for name, p in tp.items():
        p.mul_(momentum).add_(sp[name].detach().to(p.dtype), alpha=1.0 - momentum)
    sb = dict(student.named_buffers())
    for name, b in teacher.named_buffers():
        b.copy_(sb[name])
