"""Detection heads; importing registers them in voxclip.registry.MODELS."""
from .detr3d import DETR3DHead
from .votenet import VoteHead

__all__ = ["VoteHead", "DETR3DHead"]
