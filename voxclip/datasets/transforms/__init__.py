"""Registered, composable sample transforms (numpy during augmentation, tensors after PackInputs)."""
from .base import PER_POINT_KEYS, Compose, RandomTransform, build_transform
from .block_crop import RandomBlockCrop  # noqa: F401
from .color import RandomColorJitter
from .cuboid import RandomCuboid
from .features import HeightFeature, NormalizeColor, PointFeatures
from .formatting import PackInputs
from .geometric import RandomFlip, RandomRotateZ, RandomScale, RandomTranslate
from .point_labels import PointLabelsFromBoxes, PointLabelsFromInstances
from .sampling import PointSample
from .voxelize import Voxelize
from .object_aug import FPSSample, ScaleAndTranslate

__all__ = [
    "PER_POINT_KEYS", "Compose", "RandomTransform", "build_transform", "HeightFeature", "NormalizeColor",
    "PointFeatures", "PackInputs", "RandomColorJitter", "PointLabelsFromBoxes", "PointLabelsFromInstances", "RandomFlip", "RandomRotateZ", "RandomScale", "RandomTranslate",
    "PointSample", "Voxelize", "RandomCuboid", "FPSSample", "ScaleAndTranslate",
]
