"""Text Querying Module (Text4Point Eq. 4-12).

Between the SR-UNet encoder and decoder::

    h_hat  = FC_expand(h)                               (4)   (N,d') -> (N,d)
    hn, tn = BN(h_hat), BN(t)                           (5)   t: (K,d) text embeddings
    Q, K, V = hn W_Q, tn W_K, tn W_V                    (6)
    A = softmax(Q K^T / sqrt(d_head)) V                 (7)   3D features query the text
    h_attn = A W_O                                      (8)
    h_text = MLP(BN(h_attn))                            (9)
    h_text' = FC_reduce(h_text)                         (10)  (N,d) -> (N,d')
    h_aggr = alpha * h + beta * h_text'                 (11)  -> decoder (12)

The paper leaves the initial alpha/beta open; we start at alpha=1, beta=0 so that the module
is an identity on the encoder features at initialisation (configurable). With one head
``d_head = d`` exactly as Eq. 7.
"""
from __future__ import annotations

from typing import Dict, Tuple, Union

import torch
from torch import nn

from voxclip.registry import MODELS
from voxclip.sparse import SparseTensor


@MODELS.register_module()
class TextQueryingModule(nn.Module):
    """Args: in_channels d' (encoder bottleneck), embed_dim d (CLIP), num_heads, mlp_ratio,
    alpha_init, beta_init."""

    def __init__(self, in_channels: int, embed_dim: int, num_heads: int = 1,
                 mlp_ratio: float = 2.0, alpha_init: float = 1.0, beta_init: float = 0.0):
        super().__init__()
        if embed_dim % num_heads:
            raise ValueError(f"embed_dim {embed_dim} not divisible by num_heads {num_heads}")
        self.num_heads = num_heads
        self.fc_expand = nn.Linear(in_channels, embed_dim)
        self.norm_q = nn.BatchNorm1d(embed_dim)
        self.norm_t = nn.BatchNorm1d(embed_dim)
        self.w_q = nn.Linear(embed_dim, embed_dim, bias=False)
        self.w_k = nn.Linear(embed_dim, embed_dim, bias=False)
        self.w_v = nn.Linear(embed_dim, embed_dim, bias=False)
        self.w_o = nn.Linear(embed_dim, embed_dim, bias=False)
        self.norm_attn = nn.BatchNorm1d(embed_dim)
        hidden = int(embed_dim * mlp_ratio)
        self.mlp = nn.Sequential(nn.Linear(embed_dim, hidden), nn.ReLU(inplace=True),
                                 nn.Linear(hidden, embed_dim))
        self.fc_reduce = nn.Linear(embed_dim, in_channels)
        self.alpha = nn.Parameter(torch.tensor(float(alpha_init)))
        self.beta = nn.Parameter(torch.tensor(float(beta_init)))

    def attention(self, h_hat: torch.Tensor, text: torch.Tensor) -> Tuple[torch.Tensor,
                                                                         torch.Tensor]:
        """Eq. 5-8. h_hat (N,d), text (K,d) -> h_attn (N,d), weights (heads,N,K)."""
        n, d = h_hat.shape
        hd = d // self.num_heads
        q = self.w_q(self.norm_q(h_hat)).view(n, self.num_heads, hd).transpose(0, 1)
        tn = self.norm_t(text)
        k = self.w_k(tn).view(-1, self.num_heads, hd).transpose(0, 1)
        v = self.w_v(tn).view(-1, self.num_heads, hd).transpose(0, 1)
        weights = torch.softmax(q @ k.transpose(1, 2) / hd ** 0.5, dim=-1)  # (H,N,K)
        out = (weights @ v).transpose(0, 1).reshape(n, d)
        return self.w_o(out), weights

    def forward(self, h: Union[torch.Tensor, SparseTensor],
                text: torch.Tensor) -> Tuple[Union[torch.Tensor, SparseTensor],
                                             Dict[str, torch.Tensor]]:
        """h (N,d') encoder features (tensor or SparseTensor), text (K,d).

        Returns (h_aggr of the same kind as ``h``, extras) with extras ``expanded`` (N,d) = Eq. 4
        (for the contrastive / auxiliary losses), ``text_feat`` (N,d') = Eq. 10, ``attn``
        (heads,N,K).
        """
        feats = h.feats if isinstance(h, SparseTensor) else h
        h_hat = self.fc_expand(feats)
        h_attn, weights = self.attention(h_hat, text)
        h_text = self.mlp(self.norm_attn(h_attn))
        reduced = self.fc_reduce(h_text)
        aggr = self.alpha * feats + self.beta * reduced
        extras = {"expanded": h_hat, "text_feat": reduced, "attn": weights}
        return (h.replace_feats(aggr) if isinstance(h, SparseTensor) else aggr), extras
