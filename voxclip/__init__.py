"""voxclip: sparse-voxel 3D perception with CLIP-guided pretraining."""

__version__ = "0.1.0"
