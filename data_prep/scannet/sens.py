"""Streaming reader for ScanNet's ``.sens`` RGB-D stream (version 4, little-endian, packed).

Layout (docs/conventions.md): header (version, sensor name, colour/depth intrinsics and
extrinsics, compression types, sizes, depth shift, frame count), then frames (float32[16]
camera-to-world, two uint64 timestamps, uint64 colour/depth byte counts, colour bytes, depth
bytes). One scene's file can be several GB, so :class:`SensReader` reads each fixed-size frame
header and *seeks* over the payload of frames it does not keep: at most one frame's bytes are
in memory at any time, and colour/depth are decoded only when asked for.
"""
from __future__ import annotations

import io
import os
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Optional, Tuple, Union

import numpy as np

from .errors import ScanNetError

SENS_VERSION = 4
COLOR_COMPRESSION = {-1: "unknown", 0: "raw", 1: "png", 2: "jpeg"}
DEPTH_COMPRESSION = {-1: "unknown", 0: "raw_ushort", 1: "zlib_ushort", 2: "occi_ushort"}
# What this reader decodes; the rest is reported, not guessed at.
SUPPORTED_COLOR = (0, 1, 2)
SUPPORTED_DEPTH = (0, 1)
_FRAME_HEAD = struct.Struct("<16f4Q")  # pose, colour ts, depth ts, colour bytes, depth bytes
_MAX_SIDE = 16384  # sanity bound for image sizes (ScanNet: 1296x968 / 640x480)


class SensError(ScanNetError):
    """The .sens file is truncated, corrupt or uses an unsupported layout."""


@dataclass(frozen=True)
class SensHeader:
    """Parsed .sens header. Matrices are (4,4) float64; sizes are (width, height)."""

    version: int
    sensor_name: str
    color_intrinsic: np.ndarray
    color_extrinsic: np.ndarray
    depth_intrinsic: np.ndarray
    depth_extrinsic: np.ndarray
    color_compression: int
    depth_compression: int
    color_size: Tuple[int, int]
    depth_size: Tuple[int, int]
    depth_shift: float
    num_frames: int
    data_offset: int  # byte offset of frame 0


class SensFrame:
    """One frame; colour and depth stay compressed until :meth:`color` / :meth:`depth`."""

    __slots__ = ("index", "pose", "color_timestamp", "depth_timestamp", "_color", "_depth",
                 "_reader")

    def __init__(self, index: int, pose: np.ndarray, cts: int, dts: int, color: bytes,
                 depth: bytes, reader: "SensReader"):
        self.index, self.pose = index, pose  # pose: (4,4) float64 camera-to-world (raw frame)
        self.color_timestamp, self.depth_timestamp = cts, dts
        self._color, self._depth, self._reader = color, depth, reader

    def color(self) -> np.ndarray:
        """(H,W,3) uint8 RGB, decoded with Pillow (raw colour is H*W*3 bytes)."""
        return self._reader._decode_color(self._color, self.index)

    def depth(self) -> np.ndarray:
        """(H,W) float32 metres (0 = no measurement)."""
        return self.depth_raw().astype(np.float32) / np.float32(self._reader.header.depth_shift)

    def depth_raw(self) -> np.ndarray:
        """(H,W) uint16 as stored (value / depth_shift = metres)."""
        return self._reader._decode_depth(self._depth, self.index)


class SensReader:
    """``SensReader(path)``: parse and validate the header; ``iter_frames`` streams frames.

    ``skipped_invalid_pose`` counts frames dropped for a non-finite pose by the last iteration.
    """

    def __init__(self, path: Union[str, Path]):
        self.path = Path(path)
        if not self.path.is_file():
            raise SensError(self.path, "file not found")
        self.file_size = os.path.getsize(self.path)
        with open(self.path, "rb") as f:
            self.header = self._read_header(f)
        self.skipped_invalid_pose = 0

    def _fail(self, problem: str) -> SensError:
        return SensError(self.path, problem)

    def _exact(self, f, n: int, what: str) -> bytes:
        b = f.read(n)
        if len(b) != n:
            raise self._fail(f"truncated in {what} (needed {n} bytes, got {len(b)})")
        return b

    def _read_header(self, f) -> SensHeader:
        version, name_len = struct.unpack("<IQ", self._exact(f, 12, "header"))
        if version != SENS_VERSION:
            raise self._fail(f"unsupported version {version} (expected {SENS_VERSION})")
        if name_len > 4096 or 12 + name_len > self.file_size:
            raise self._fail(f"sensor name length {name_len} is implausible")
        name = self._exact(f, name_len, "header").decode("utf-8", "replace")
        mats = np.frombuffer(self._exact(f, 256, "header"), "<f4").astype(np.float64)
        mats = mats.reshape(4, 4, 4)
        c_comp, d_comp = struct.unpack("<ii", self._exact(f, 8, "header"))
        cw, ch, dw, dh, shift = struct.unpack("<IIIIf", self._exact(f, 20, "header"))
        (n,) = struct.unpack("<Q", self._exact(f, 8, "header"))
        if c_comp not in COLOR_COMPRESSION or d_comp not in DEPTH_COMPRESSION:
            raise self._fail(f"unknown compression types colour={c_comp} depth={d_comp}")
        if c_comp not in SUPPORTED_COLOR:
            raise self._fail(f"unsupported colour compression {COLOR_COMPRESSION[c_comp]}")
        if d_comp not in SUPPORTED_DEPTH:
            raise self._fail(f"unsupported depth compression {DEPTH_COMPRESSION[d_comp]}")
        for what, w, h in (("colour", cw, ch), ("depth", dw, dh)):
            if not (0 < w <= _MAX_SIDE and 0 < h <= _MAX_SIDE):
                raise self._fail(f"{what} size {w}x{h} is invalid")
        if not (np.isfinite(shift) and shift > 0):
            raise self._fail(f"depth shift {shift} is not a positive number")
        if not np.isfinite(mats[[0, 2]]).all():
            raise self._fail("colour/depth intrinsic holds NaN/inf")
        return SensHeader(version, name, mats[0], mats[1], mats[2], mats[3], c_comp, d_comp,
                          (cw, ch), (dw, dh), float(shift), int(n), 304 + name_len)

    def iter_frames(self, frame_skip: int = 1, start: int = 0,
                    limit: Optional[int] = None) -> Iterator[SensFrame]:
        """Yield frames ``start, start + frame_skip, ...`` whose pose is finite.

        Frames in between are never read: their fixed-size head gives the payload size, which
        is seeked over. Frames with a non-finite pose are skipped and counted in
        ``skipped_invalid_pose``. ``limit`` caps the number of frames yielded.
        """
        if frame_skip < 1:
            raise ValueError(f"frame_skip must be >= 1, got {frame_skip}")
        h = self.header
        self.skipped_invalid_pose = 0
        yielded = 0
        with open(self.path, "rb") as f:
            f.seek(h.data_offset)
            for i in range(h.num_frames):
                head = f.read(_FRAME_HEAD.size)
                if len(head) != _FRAME_HEAD.size:
                    raise self._fail(f"truncated at frame {i} of {h.num_frames} (frame header)")
                vals = _FRAME_HEAD.unpack(head)
                n_color, n_depth = vals[18], vals[19]
                end = f.tell() + n_color + n_depth
                if end > self.file_size:
                    raise self._fail(f"truncated at frame {i} of {h.num_frames} (needs {end} "
                                     f"bytes, file has {self.file_size})")
                if i < start or (i - start) % frame_skip:
                    f.seek(end)
                    continue
                pose = np.asarray(vals[:16], np.float64).reshape(4, 4)
                if not np.isfinite(pose).all():
                    self.skipped_invalid_pose += 1
                    f.seek(end)
                    continue
                color = f.read(n_color)
                depth = f.read(n_depth)
                yield SensFrame(i, pose, vals[16], vals[17], color, depth, self)
                yielded += 1
                if limit is not None and yielded >= limit:
                    return

    # -- decoding ------------------------------------------------------------------------
    def _decode_color(self, data: bytes, index: int) -> np.ndarray:
        w, h = self.header.color_size
        if self.header.color_compression == 0:
            if len(data) != w * h * 3:
                raise self._fail(f"frame {index}: raw colour has {len(data)} bytes, "
                                 f"expected {w * h * 3}")
            return np.frombuffer(data, np.uint8).reshape(h, w, 3).copy()
        from PIL import Image

        try:
            with Image.open(io.BytesIO(data)) as im:
                rgb = np.asarray(im.convert("RGB"))
        except Exception as err:  # Pillow raises several types for corrupt data
            raise self._fail(f"frame {index}: colour image does not decode ({err})")
        if rgb.shape[:2] != (h, w):
            raise self._fail(f"frame {index}: colour is {rgb.shape[1]}x{rgb.shape[0]}, "
                             f"header says {w}x{h}")
        return rgb

    def _decode_depth(self, data: bytes, index: int) -> np.ndarray:
        w, h = self.header.depth_size
        if self.header.depth_compression == 1:
            try:
                data = zlib.decompress(data)
            except zlib.error as err:
                raise self._fail(f"frame {index}: depth zlib stream is corrupt ({err})")
        if len(data) != w * h * 2:
            raise self._fail(f"frame {index}: depth has {len(data)} bytes, expected {w * h * 2}")
        return np.frombuffer(data, "<u2").reshape(h, w).astype(np.uint16)


def read_all_frames_naive(path: Union[str, Path]) -> list:
    """Baseline for the benchmark only: read the whole file, decode every frame into a list."""
    data = Path(path).read_bytes()
    r = SensReader(path)
    off, out = r.header.data_offset, []
    for i in range(r.header.num_frames):
        vals = _FRAME_HEAD.unpack_from(data, off)
        off += _FRAME_HEAD.size
        c = data[off:off + vals[18]]
        off += vals[18]
        d = data[off:off + vals[19]]
        off += vals[19]
        pose = np.asarray(vals[:16], np.float64).reshape(4, 4)
        out.append((i, pose, r._decode_color(c, i), r._decode_depth(d, i)))
    return out
