"""Reader for `scannetv2-labels.combined.tsv`: raw category -> nyu40 id."""
from __future__ import annotations

from pathlib import Path
from typing import Dict, Union

from .errors import LabelMapError, MissingFileError


def read_label_map(path: Union[str, Path]) -> Dict[str, int]:
    """Map each `raw_category` to its `nyu40id` (0..40); columns are found by header name.

    Accepts LF, CRLF and `\\r\\r\\n` line ends and a missing final newline. Raises
    `MissingFileError` or `LabelMapError` (missing columns, short rows, non-integer or out of range
    ids, one category mapped to two ids).
    """
    path = Path(path)
    if not path.is_file():
        raise MissingFileError(path, "label tsv not found")
    try:
        text = path.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise LabelMapError(path, f"unreadable ({type(err).__name__}: {err})")
    # Normalise every run of \r before \n (CRLF, \r\r\n) and stray \r to plain \n.
    lines = [ln.rstrip("\r") for ln in text.split("\n")]
    lines = [ln for ln in lines if ln.strip()]
    if not lines:
        raise LabelMapError(path, "empty file")
    header = lines[0].split("\t")
    key, value = "raw_category", "nyu40id"
    for col in (key, value):
        if col not in header:
            raise LabelMapError(path, f"header lacks column {col!r}")
    ki, vi = header.index(key), header.index(value)
    mapping: Dict[str, int] = {}
    for lineno, line in enumerate(lines[1:], start=2):
        row = line.split("\t")
        if len(row) <= max(ki, vi):
            raise LabelMapError(
                path, f"line {lineno} has {len(row)} columns, header has {len(header)}")
        name = row[ki]
        try:
            idx = int(row[vi])
        except ValueError:
            raise LabelMapError(path, f"line {lineno}: {value} {row[vi]!r} is not an integer")
        if not 0 <= idx <= 40:
            raise LabelMapError(path, f"line {lineno}: {value} {idx} outside 0..40")
        if mapping.get(name, idx) != idx:
            raise LabelMapError(
                path, f"line {lineno}: {name!r} mapped to both {mapping[name]} and {idx}")
        mapping[name] = idx
    return mapping
