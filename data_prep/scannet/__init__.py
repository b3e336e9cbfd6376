"""ScanNet v2 raw readers and the raw -> processed scene conversion (see docs/architecture.md)."""
from .aggregation import SegGroup, read_aggregation
from .axis_alignment import apply_transform, read_axis_alignment, read_scene_info
from .boxes import instance_boxes
from .errors import (AggregationError, AxisAlignmentError, LabelMapError, MissingFileError,
                     NonFiniteVerticesError, PlyReadError, ScanNetError, SegCountMismatchError,
                     SegIndicesError, UnknownLabelError, UnknownSegmentError)
from .index import collect_index, rebuild_index
from .label_map import read_label_map
from .labels import VertexLabels, map_raw_labels, vertex_labels
from .layout import LABELS_TSV, SPLITS, SceneSource, discover_scenes, scene_files
from .mesh import Mesh, read_mesh
from .normals import vertex_normals
from .scene import ProcessedScene, process_scene
from .segments import read_seg_indices
from .writer import write_scene

__all__ = [
    "SegGroup", "read_aggregation", "apply_transform", "read_axis_alignment", "read_scene_info",
    "instance_boxes", "AggregationError", "AxisAlignmentError", "LabelMapError",
    "MissingFileError", "NonFiniteVerticesError", "PlyReadError", "ScanNetError",
    "SegCountMismatchError", "SegIndicesError", "UnknownLabelError",
    "UnknownSegmentError", "collect_index", "rebuild_index", "read_label_map", "VertexLabels",
    "map_raw_labels", "vertex_labels", "LABELS_TSV", "SPLITS", "SceneSource", "discover_scenes",
    "scene_files", "Mesh", "read_mesh", "vertex_normals", "ProcessedScene", "process_scene",
    "read_seg_indices", "write_scene",
]
