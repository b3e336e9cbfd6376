"""Exceptions raised by the ScanNet readers.

Every error names the offending file and the problem on one line, so that a batch run can print
one summary line per failed scene.
"""
from __future__ import annotations

from pathlib import Path
from typing import Union


class ScanNetError(Exception):
    """Base class: a raw ScanNet file is missing or malformed."""

    def __init__(self, path: Union[str, Path], problem: str):
        self.path = str(path)
        # One line, whatever the underlying library put in its message.
        self.problem = " ".join(str(problem).split())
        super().__init__(f"{self.path}: {self.problem}")


class MissingFileError(ScanNetError):
    """A required raw file does not exist."""


class PlyReadError(ScanNetError):
    """The mesh ply is truncated, corrupt or lacks required properties."""


class NonFiniteVerticesError(PlyReadError):
    """The mesh has NaN or infinite vertex coordinates."""


class SegIndicesError(ScanNetError):
    """The over-segmentation json is unreadable or malformed."""


class SegCountMismatchError(SegIndicesError):
    """`segIndices` does not have one entry per mesh vertex."""


class AggregationError(ScanNetError):
    """The aggregation json is unreadable or malformed."""


class UnknownSegmentError(AggregationError):
    """An object of the aggregation references segments absent from segIndices."""


class AxisAlignmentError(ScanNetError):
    """The `axisAlignment` entry of `<id>.txt` is malformed or not an invertible affine map."""


class LabelMapError(ScanNetError):
    """`scannetv2-labels.combined.tsv` is unreadable or malformed."""


class UnknownLabelError(ScanNetError):
    """The aggregation uses raw categories that the label tsv does not list."""

