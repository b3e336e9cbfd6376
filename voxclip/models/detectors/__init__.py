"""Detectors (backbone + head); importing registers them in voxclip.registry.MODELS."""
from .detr3d import ThreeDETR
from .epcl import EPCL
from .votenet import VoteNetDetector

__all__ = ["VoteNetDetector", "ThreeDETR", "EPCL"]
