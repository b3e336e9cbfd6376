"""Detection heads; importing registers them in voxclip.registry.MODELS."""
from .votenet import VoteHead

__all__ = ["VoteHead"]
