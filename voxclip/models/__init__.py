"""Models: backbones (SR-UNet), heads (VoteNet, ...) and detectors; importing registers them."""
from . import backbones, detectors, heads  # noqa: F401
