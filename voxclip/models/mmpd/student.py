"""The point student both stages train: the shared PointTokenizer + PointTransformerEncoder, and
the global embedding (pooled tokens + projection) of stage 1."""
from __future__ import annotations

import torch
from torch import nn

from voxclip.models.pretrained import load_pretrained_backbone
from voxclip.models.clip import FrozenTower
from voxclip.registry import MODELS

__all__ = ["GlobalHead", "encode_points", "Stage1Teacher"]


@MODELS.register_module()
class GlobalHead(nn.Module):
    """(B, M, D) token features -> (B, out_dim): [max over tokens, mean over tokens] -> Linear.

    Max + mean pooling: the encoder has no class token (Point-MAE's classifier pools
    [cls, max]; ULIP's Point-BERT [cls, max]); the mean takes the class token's place.
    """

    def __init__(self, in_dim: int, out_dim: int):
        super().__init__()
        self.in_dim, self.out_dim = int(in_dim), int(out_dim)
        self.proj = nn.Linear(2 * self.in_dim, self.out_dim)

    def forward(self, feats: torch.Tensor) -> torch.Tensor:
        return self.proj(torch.cat([feats.max(dim=1).values, feats.mean(dim=1)], dim=-1))


def encode_points(tokenizer: nn.Module, encoder: nn.Module, points: torch.Tensor):
    """(B, N, 3) -> (TokenizerOutput, (B, M, D) encoder features of every token)."""
    tok = tokenizer(points)
    return tok, encoder(tok.tokens, tok.pos)


@MODELS.register_module()
class Stage1Teacher(FrozenTower):
    """The frozen stage-1 model for stage 2: tokenizer + encoder + global_head, weights from the
    stage-1 checkpoint (keys ``tokenizer.*``, ``encoder.*``, ``global_head.*``). A checkpoint that
    lacks or mis-shapes any of them is an error (a teacher is never partly random).

    Args: tokenizer, encoder: the stage-1 configs; global_dim: stage-1 global embedding width;
        checkpoint: the stage-1 .pth; producer: the stage-1 config (named in the missing-file message).
    """

    def __init__(self, tokenizer: dict, encoder: dict, global_dim: int, checkpoint: str,
                 producer: str | None = None, save_weights: bool = False):
        super().__init__(save_weights)
        self.tokenizer = MODELS.build(tokenizer)
        self.encoder = MODELS.build(encoder)
        self.global_head = GlobalHead(self.encoder.embed_dim, global_dim)
        for part in ("tokenizer", "encoder", "global_head"):
            info = load_pretrained_backbone(getattr(self, part), checkpoint, f"{part}.", producer)
            if info["missing"] or info["mismatched"]:
                raise ValueError(f"{checkpoint}: stage-1 teacher part '{part}' does not fit "
                                 f"(missing {info['missing'][:3]}, mismatched {info['mismatched'][:3]})")
        self.freeze_()

    @torch.no_grad()
    def forward(self, points: torch.Tensor):
        """-> (TokenizerOutput, token features (B, M, D), global embedding (B, global_dim))."""
        tok, feats = encode_points(self.tokenizer, self.encoder, points)
        return tok, feats, self.global_head(feats)
