"""Interoperability with other frameworks: SR-UNet checkpoints (MinkowskiEngine, Pointcept) and
Pointcept's preprocessed ScanNet layout."""
from .checkpoints import CONVERTERS, Conversion, ConversionError, convert_minkowski, convert_pointcept
from .pointcept_data import PointceptScanNetDetection, PointceptScanNetSegmentation, export_root

__all__ = ["CONVERTERS", "Conversion", "ConversionError", "convert_minkowski", "convert_pointcept",
           "PointceptScanNetDetection", "PointceptScanNetSegmentation", "export_root"]
