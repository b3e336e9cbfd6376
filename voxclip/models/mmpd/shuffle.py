"""Token shuffling of stage 2: one random permutation of the token sequence per cloud."""
from __future__ import annotations

import torch

__all__ = ["random_permutation", "permute_tokens", "invert_permutation"]


def random_permutation(batch_size: int, num_tokens: int, device=None,
                       generator: torch.Generator | None = None) -> torch.Tensor:
    """(B, M) int64: a uniformly random permutation of 0..M-1 in every row."""
    return torch.rand(batch_size, num_tokens, generator=generator).argsort(dim=1).to(device)


def permute_tokens(x: torch.Tensor, perm: torch.Tensor) -> torch.Tensor:
    """x (B, M, ...) -> x[b, perm[b]] (row j of the result is token perm[b, j])."""
    idx = perm.view(*perm.shape, *([1] * (x.dim() - 2))).expand(*perm.shape, *x.shape[2:])
    return torch.gather(x, 1, idx)


def invert_permutation(perm: torch.Tensor) -> torch.Tensor:
    """(B, M) permutations -> their inverses (permute_tokens(permute_tokens(x, p), inv(p)) == x)."""
    return perm.argsort(dim=1)
