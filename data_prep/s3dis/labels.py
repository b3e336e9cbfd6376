"""S3DIS class names: annotation file name -> class index (docs/s3dis.md).

The 13 classes of the benchmark, in the usual order (PointNet's `class2label`), come from
`voxclip.classes.S3DIS_SEG_CLASSES`. The annotation class `stairs` (a few objects, Area 2 and 4 of
the release) is not one of them and is mapped to `clutter`, the common convention.
"""
from __future__ import annotations

import re
from typing import Tuple

from voxclip.classes import S3DIS_SEG_CLASSES

from .errors import UnknownClassError

ALIASES = {"stairs": "clutter"}
CLASS_INDEX = {name: i for i, name in enumerate(S3DIS_SEG_CLASSES)}
_OBJECT_RE = re.compile(r"^(?P<cls>[A-Za-z]+)_(?P<k>\d+)\.txt$")


def parse_object_name(file_name: str) -> Tuple[str, int]:
    """`chair_12.txt` -> ('chair', 12): the annotation class as written and the object number."""
    m = _OBJECT_RE.match(file_name)
    if m is None:
        raise UnknownClassError(file_name, "annotation file name is not <class>_<k>.txt")
    return m.group("cls"), int(m.group("k"))


def class_index(annotation_class: str, path: str = "") -> int:
    """Index into S3DIS_SEG_CLASSES of an annotation class (`stairs` -> clutter)."""
    name = ALIASES.get(annotation_class, annotation_class)
    if name not in CLASS_INDEX:
        raise UnknownClassError(path or annotation_class,
                                f"unknown class {annotation_class!r} (known: "
                                f"{', '.join(S3DIS_SEG_CLASSES)}, and stairs -> clutter)")
    return CLASS_INDEX[name]


def object_sort_key(file_name: str) -> Tuple[str, int, str]:
    """Natural order of annotation files: by class name, then object number (chair_2 < chair_10)."""
    m = _OBJECT_RE.match(file_name)
    return (m.group("cls"), int(m.group("k")), file_name) if m else (file_name, -1, file_name)
