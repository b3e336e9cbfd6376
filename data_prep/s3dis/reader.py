"""Reader of the S3DIS point text files (`<room>.txt`, `Annotations/<class>_<k>.txt`).

Each line is `x y z r g b`: xyz floats in metres, rgb integers 0..255, separated by spaces.
Parsing goes through numpy's C `loadtxt` on the whole file (about 3-4 M lines/s per core, see
docs/s3dis.md); only when that fails is the file walked line by line in Python to name the first
bad line (`FILE:LINE: ...`).

Non-printable characters: the real release has one (0x10 in
Area_5/hallway_6/Annotations/ceiling_1.txt, line 180389). Any byte outside printable ASCII, tab,
CR and LF is repaired before parsing, line by line: the character is removed when that leaves a
valid 6-number line, else replaced by a space when that does; each repair is reported
(`TextRepair`). More than `max_repairs` such bytes in one file is an error (not a text file).
"""
from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional, Tuple, Union

import numpy as np

from data_prep.validate import MAX_COORD

from .errors import MalformedLineError, S3DISError

_PRINTABLE = set(range(0x20, 0x7F)) | {0x09, 0x0A, 0x0D}
NON_PRINTABLE = bytes(b for b in range(256) if b not in _PRINTABLE)
_NON_PRINTABLE_LUT = np.zeros(256, dtype=bool)
_NON_PRINTABLE_LUT[list(NON_PRINTABLE)] = True
_TO_SPACE = bytes.maketrans(NON_PRINTABLE, b" " * len(NON_PRINTABLE))


@dataclass
class TextRepair:
    """One repaired line: 1-based `line`, the removed bytes (e.g. ['0x10']), `action`
    ('removed' or 'replaced by space')."""

    line: int
    chars: List[str]
    action: str

    def describe(self) -> str:
        return f"line {self.line}: {self.action} non-printable {', '.join(self.chars)}"


@dataclass
class PointText:
    """xyz float64 (N,3) as written, rgb uint8 (N,3), repairs made while reading."""

    xyz: np.ndarray
    rgb: np.ndarray
    repairs: List[TextRepair]


def check_line(line: bytes) -> Optional[str]:
    """None when `line` is a valid `x y z r g b` line, else what is wrong (blank lines are valid)."""
    tokens = line.split()
    if not tokens:
        return None
    if len(tokens) != 6:
        return f"expected 6 numbers (x y z r g b), got {len(tokens)}"
    try:
        values = [float(t) for t in tokens]
    except ValueError:
        bad = next(t for t in tokens if not _is_float(t))
        return f"not a number: {bad.decode('latin-1')!r}"
    if not all(np.isfinite(values[:3])):
        return "non-finite coordinate"
    if any(v != int(v) or not 0 <= v <= 255 for v in values[3:] if np.isfinite(v)) or \
            not all(np.isfinite(values[3:])):
        return "colour is not an integer in 0..255"
    return None


def _is_float(token: bytes) -> bool:
    try:
        float(token)
        return True
    except ValueError:
        return False


def _locate(path: Union[str, Path], data: bytes) -> MalformedLineError:
    """The first malformed line of `data`, as an error naming FILE:LINE."""
    for lineno, line in enumerate(data.split(b"\n"), start=1):
        problem = check_line(line)
        if problem is not None:
            shown = line.strip().decode("latin-1")
            shown = shown if len(shown) <= 80 else shown[:77] + "..."
            return MalformedLineError(path, lineno, f"malformed point line ({problem}): {shown!r}")
    return MalformedLineError(path, 1, "unreadable point file (no line found at fault)")


def _repair(path: Union[str, Path], data: bytes, max_repairs: int) -> Tuple[bytes, List[TextRepair]]:
    """Repair every line holding non-printable bytes (see module doc)."""
    positions = np.flatnonzero(_NON_PRINTABLE_LUT[np.frombuffer(data, dtype=np.uint8)])
    if len(positions) > max_repairs:
        first = data.count(b"\n", 0, int(positions[0])) + 1
        raise S3DISError(path, f"{len(positions)} non-printable bytes (first on line {first}); "
                               f"not an S3DIS point text file?")
    pieces, repairs, done = [], [], 0
    for pos in positions.tolist():
        if pos < done:  # same line as the previous one
            continue
        start = data.rfind(b"\n", 0, pos) + 1
        end = data.find(b"\n", pos)
        end = len(data) if end < 0 else end
        line = data[start:end]
        removed = line.translate(None, NON_PRINTABLE)
        spaced = line.translate(_TO_SPACE)
        if check_line(removed) is None or check_line(spaced) is not None:
            fixed, action = removed, "removed"  # an invalid result is reported by the parser
        else:
            fixed, action = spaced, "replaced by space"
        chars = [f"0x{b:02x}" for b in line if b in NON_PRINTABLE]
        repairs.append(TextRepair(data.count(b"\n", 0, start) + 1, chars, action))
        pieces += [data[done:start], fixed]
        done = end
    pieces.append(data[done:])
    return b"".join(pieces), repairs


def read_point_text(path: Union[str, Path], max_repairs: int = 100) -> PointText:
    """Read one S3DIS point file; raises S3DISError / MalformedLineError naming the file (and line)."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as err:
        raise S3DISError(path, f"cannot read ({err.strerror or err})") from err
    repairs: List[TextRepair] = []
    if len(data.translate(None, NON_PRINTABLE)) != len(data):
        data, repairs = _repair(path, data, max_repairs)
    if not data.strip():
        raise S3DISError(path, "no points (empty file)")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            arr = np.loadtxt(io.BytesIO(data), dtype=np.float64, comments=None, ndmin=2)
    except ValueError:
        raise _locate(path, data) from None
    if arr.shape[1] != 6:
        raise _locate(path, data)
    xyz, rgb = arr[:, :3], arr[:, 3:]
    # whole-array checks (NaN fails every comparison); the locator finds the line when they fail
    if not (np.isfinite(xyz).all() and ((rgb >= 0) & (rgb <= 255) & (rgb == np.trunc(rgb))).all()):
        raise _locate(path, data)
    if np.abs(xyz).max() > MAX_COORD:
        line = int(np.argmax(np.abs(xyz).max(axis=1))) + 1
        raise MalformedLineError(path, line, f"xyz {xyz[line - 1].tolist()} beyond {MAX_COORD:g} m: "
                                             f"wrong units or corrupt")
    return PointText(np.ascontiguousarray(xyz), rgb.astype(np.uint8), repairs)
