"""Interoperability with other frameworks: SR-UNet checkpoints (MinkowskiEngine, Pointcept) and
Pointcept's preprocessed ScanNet layout."""
from .checkpoints import CONVERTERS, Conversion, ConversionError, convert_minkowski, convert_pointcept

__all__ = ["CONVERTERS", "Conversion", "ConversionError", "convert_minkowski", "convert_pointcept"]
