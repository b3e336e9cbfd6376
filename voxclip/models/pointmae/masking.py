"""Random patch masking (Point-MAE ``mask_type='rand'``) and the gathers that go with it."""
from __future__ import annotations

import torch

__all__ = ["random_token_mask", "take_tokens"]


def random_token_mask(batch_size: int, num_tokens: int, ratio: float, device=None,
                      generator: torch.Generator | None = None) -> torch.Tensor:
    """(B, M) bool, True = masked; exactly ``int(ratio * M)`` masked tokens per sample (Point-MAE
    masks ``int(mask_ratio * num_group)`` patches, chosen uniformly per cloud)."""
    if not 0.0 <= ratio < 1.0:
        raise ValueError(f"random_token_mask: ratio must be in [0, 1), got {ratio}")
    num_mask = int(ratio * num_tokens)
    noise = torch.rand(batch_size, num_tokens, generator=generator, device=device)
    rank = noise.argsort(dim=1).argsort(dim=1)  # rank of each token's noise in its row
    return rank < num_mask


def take_tokens(x: torch.Tensor, mask: torch.Tensor, value: bool) -> torch.Tensor:
    """Rows of x (B, M, ...) where mask == value, kept in token order -> (B, M', ...).

    Every row of ``mask`` must hold the same number of ``value`` entries (random_token_mask does)."""
    sel = mask == value
    counts = sel.sum(dim=1)
    if bool((counts != counts[0]).any()):
        raise ValueError("take_tokens: samples have different numbers of selected tokens")
    return x[sel].view(x.shape[0], int(counts[0]), *x.shape[2:])
