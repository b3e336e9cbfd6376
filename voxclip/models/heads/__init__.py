"""Detection heads; importing registers them in voxclip.registry.MODELS."""
from .detr3d import DETR3DHead
from .token_seg import TokenSegHead  # noqa: F401
from .votenet import VoteHead

__all__ = ["VoteHead", "DETR3DHead"]
