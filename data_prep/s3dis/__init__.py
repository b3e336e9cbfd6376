"""S3DIS (Stanford3dDataset_v1.2_Aligned_Version) readers and the raw -> processed room
conversion (docs/s3dis.md)."""
from .errors import MalformedLineError, S3DISError, UnknownClassError
from .index import collect_index, rebuild_index
from .labels import ALIASES, class_index, object_sort_key, parse_object_name
from .layout import RoomSource, discover_rooms, find_release_root, room_id
from .reader import PointText, TextRepair, check_line, read_point_text
from .room import ProcessedRoom, annotation_files, process_room

__all__ = [
    "MalformedLineError", "S3DISError", "UnknownClassError", "collect_index",
    "rebuild_index", "ALIASES", "class_index", "object_sort_key", "parse_object_name",
    "RoomSource", "discover_rooms", "find_release_root", "room_id", "PointText", "TextRepair",
    "check_line", "read_point_text", "ProcessedRoom", "annotation_files", "process_room",
]
