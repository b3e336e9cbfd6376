"""Writer for ScanNet's ``.sens`` RGB-D stream (version 4, little-endian, packed).

Layout (docs/conventions.md): header (version, sensor name, 4 x float32[16] colour/depth
intrinsics and extrinsics, compression types, image sizes, depth shift, frame count), frames
(float32[16] camera-to-world, timestamps, byte counts, a JPEG and a zlib depth stream), then the
IMU frame count (0 here). Frames are streamed; the frame count is patched in at the end.
"""

from __future__ import annotations

import io
import struct
import zlib
from dataclasses import dataclass, field
from typing import Iterable, Tuple

import numpy as np

from voxclip.utils.atomic import PathLike, atomic_open

COLOR_JPEG, DEPTH_ZLIB_USHORT = 2, 1
SENS_VERSION = 4


def intrinsic_4x4(fx: float, fy: float, mx: float, my: float) -> np.ndarray:
    return np.array([[fx, 0, mx, 0], [0, fy, my, 0], [0, 0, 1, 0], [0, 0, 0, 1]], np.float64)


@dataclass
class SensHeader:
    color_intrinsic: np.ndarray  # (4,4)
    depth_intrinsic: np.ndarray  # (4,4)
    color_size: Tuple[int, int]  # (width, height)
    depth_size: Tuple[int, int]  # (width, height)
    depth_shift: float = 1000.0
    sensor_name: str = "StructureSensor"
    color_extrinsic: np.ndarray = field(default_factory=lambda: np.eye(4))
    depth_extrinsic: np.ndarray = field(default_factory=lambda: np.eye(4))

    def pack(self, num_frames: int) -> bytes:
        name = self.sensor_name.encode("ascii")
        mats = b"".join(np.asarray(m, "<f4").reshape(16).tobytes() for m in
                        (self.color_intrinsic, self.color_extrinsic, self.depth_intrinsic,
                         self.depth_extrinsic))
        return (struct.pack("<IQ", SENS_VERSION, len(name)) + name + mats
                + struct.pack("<ii", COLOR_JPEG, DEPTH_ZLIB_USHORT)
                + struct.pack("<IIIIf", *self.color_size, *self.depth_size, self.depth_shift)
                + struct.pack("<Q", num_frames))


def encode_color_jpeg(rgb: np.ndarray, quality: int = 90) -> bytes:
    """rgb (H,W,3) uint8 -> JPEG file bytes (Pillow)."""
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(rgb, np.uint8), "RGB").save(buf, "JPEG", quality=quality)
    return buf.getvalue()


def encode_depth_zlib(depth_m: np.ndarray, depth_shift: float = 1000.0) -> bytes:
    """depth (H,W) metres (0 = invalid) -> zlib stream of H*W little-endian uint16."""
    d = np.rint(np.nan_to_num(depth_m, nan=0.0, posinf=0.0) * depth_shift)
    d[(d < 0) | (d > 65535)] = 0  # out of range reads as 'no measurement', like the sensor
    return zlib.compress(d.astype("<u2").tobytes(), 6)


def pack_frame(camera_to_world: np.ndarray, color: bytes, depth: bytes, timestamp_us: int) -> bytes:
    pose = np.asarray(camera_to_world, "<f4").reshape(16).tobytes()
    return pose + struct.pack("<QQQQ", timestamp_us, timestamp_us, len(color), len(depth)) \
        + color + depth


def write_sens(path: PathLike, header: SensHeader,
               frames: Iterable[Tuple[np.ndarray, bytes, bytes]], fps: float = 30.0) -> int:
    """Stream frames (camera_to_world (4,4), jpeg bytes, zlib depth bytes) to ``path``
    atomically. Returns the number of frames written."""
    n = 0
    with atomic_open(path) as f:
        head = header.pack(0)
        f.write(head)
        for pose, color, depth in frames:
            f.write(pack_frame(pose, color, depth, int(round(n * 1e6 / fps))))
            n += 1
        f.write(struct.pack("<Q", 0))  # IMU frames
        f.seek(len(head) - 8)
        f.write(struct.pack("<Q", n))
    return n
