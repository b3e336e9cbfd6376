"""Detectors (backbone + head); importing registers them in voxclip.registry.MODELS."""
from .votenet import VoteNetDetector

__all__ = ["VoteNetDetector"]
