"""Datasets, transforms and collation; importing registers them (registry locations point here)."""
from . import transforms  # noqa: F401  (registers TRANSFORMS)
from .base import PointCloudDataset, load_npy
from .collate import sparse_collate
from .concept_pairs import ConceptAlignPairs, concept_pairs_collate  # noqa: F401
from .rgbd_pairs import RGBDPairs, rgbd_pairs_collate
from .point_pairs import ScenePointPairs, point_pairs_collate  # noqa: F401
from .s3dis import S3DISSegmentation
from .samplers import EpochSeededSampler  # noqa: F401  (registers DATA_SAMPLERS)
from .scannet import ScanNetDetection, ScanNetSegmentation
from .sunrgbd import SUNRGBDDetection  # noqa: F401
from . import objects  # noqa: F401  (ModelNet40 / ScanObjectNN / ShapeNet55)

__all__ = ["PointCloudDataset", "load_npy", "sparse_collate", "RGBDPairs", "rgbd_pairs_collate", "ScanNetDetection", "ScanNetSegmentation",
           "S3DISSegmentation"]
