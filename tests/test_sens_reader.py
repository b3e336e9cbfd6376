"""Streaming .sens reader: round trip with the synthetic writer, seeking, corrupt inputs."""
import struct
import zlib

import numpy as np
import pytest

from data_prep.scannet.sens import SensError, SensReader, read_all_frames_naive
from data_prep.synthetic.sens import (SensHeader, encode_color_jpeg, encode_depth_zlib,
                                      intrinsic_4x4, write_sens)

CW, CH, DW, DH = 24, 16, 12, 8


def _frames(n, bad=()):
    rng = np.random.default_rng(0)
    out = []
    for i in range(n):
        pose = np.eye(4)
        pose[:3, 3] = [i, 2 * i, -i]
        if i in bad:
            pose = np.full((4, 4), -np.inf)
        rgb = np.full((CH, CW, 3), (10 * i) % 256, np.uint8)  # flat colour: JPEG is near-exact
        depth = rng.integers(1, 5000, (DH, DW)) / 1000.0
        out.append((pose, rgb, depth))
    return out


def _write(path, frames):
    header = SensHeader(intrinsic_4x4(20, 21, 11.5, 7.5), intrinsic_4x4(10, 11, 5.5, 3.5),
                        (CW, CH), (DW, DH))
    write_sens(path, header, ((p, encode_color_jpeg(c), encode_depth_zlib(d))
                              for p, c, d in frames))
    return path


def test_round_trip_and_skip(tmp_path):
    frames = _frames(7, bad={3})
    r = SensReader(_write(tmp_path / "a.sens", frames))
    h = r.header
    assert (h.version, h.num_frames, h.color_size, h.depth_size) == (4, 7, (CW, CH), (DW, DH))
    assert h.depth_shift == 1000.0 and h.color_compression == 2 and h.depth_compression == 1
    assert np.allclose(h.color_intrinsic[:2, :3], [[20, 0, 11.5], [0, 21, 7.5]])
    got = list(r.iter_frames())
    assert [f.index for f in got] == [0, 1, 2, 4, 5, 6] and r.skipped_invalid_pose == 1
    for f in got:
        pose, rgb, depth = frames[f.index]
        assert np.allclose(f.pose, pose)
        # depth is stored as millimetres: exact after rounding
        assert np.array_equal(f.depth_raw(), np.rint(depth * 1000).astype(np.uint16))
        assert np.allclose(f.depth(), np.rint(depth * 1000) / 1000, atol=1e-6)
        assert np.abs(f.color().astype(int) - rgb.astype(int)).max() <= 2
    assert [f.index for f in r.iter_frames(frame_skip=2)] == [0, 2, 4, 6]
    assert [f.index for f in r.iter_frames(frame_skip=3)] == [0, 6]
    assert r.skipped_invalid_pose == 1  # frame 3 was visited and dropped
    # naive baseline agrees with the streaming reader
    naive = read_all_frames_naive(tmp_path / "a.sens")
    assert len(naive) == 7 and np.array_equal(naive[5][3], got[4].depth_raw())


def test_skipped_frames_are_not_read(tmp_path, monkeypatch):
    """Frames between kept ones are seeked over: their payload is never read."""
    path = _write(tmp_path / "b.sens", _frames(6))
    r = SensReader(path)
    sizes = []
    real_open = open

    class Spy:
        def __init__(self, f):
            self.f = f

        def read(self, n=-1):
            sizes.append(n)
            return self.f.read(n)

        def __getattr__(self, k):
            return getattr(self.f, k)

        def __enter__(self):
            return self

        def __exit__(self, *a):
            self.f.close()

    monkeypatch.setattr("builtins.open", lambda *a, **k: Spy(real_open(*a, **k)))
    list(r.iter_frames(frame_skip=5))
    payload_reads = [n for n in sizes if n != 96]  # 96 = frame header size
    assert len(payload_reads) == 4  # colour + depth of frames 0 and 5 only


def _corrupt(tmp_path, name, edit):
    path = _write(tmp_path / f"{name}.sens", _frames(3))
    data = bytearray(path.read_bytes())
    data = edit(data)
    path.write_bytes(bytes(data))
    return path


def test_bad_headers(tmp_path):
    off = 12 + len("StructureSensor") + 256  # compression fields
    cases = {
        "version": (lambda d: struct.pack("<I", 5) + d[4:], "version 5"),
        "ccomp": (lambda d: d[:off] + struct.pack("<i", 7) + d[off + 4:], "compression"),
        "dcomp": (lambda d: d[:off + 4] + struct.pack("<i", 2) + d[off + 8:], "occi_ushort"),
        "size": (lambda d: d[:off + 8] + struct.pack("<I", 0) + d[off + 12:], "size"),
        "short": (lambda d: d[:40], "truncated in header"),
    }
    for name, (edit, msg) in cases.items():
        path = _corrupt(tmp_path, name, edit)
        with pytest.raises(SensError, match=msg) as e:
            SensReader(path)
        assert str(path) in str(e.value) and "\n" not in str(e.value)


def test_truncation_names_frame(tmp_path):
    path = _write(tmp_path / "t.sens", _frames(4))
    data = path.read_bytes()
    path.write_bytes(data[:-200])  # cut into the last frame (the IMU count is 8 bytes)
    r = SensReader(path)
    with pytest.raises(SensError, match=r"truncated at frame 3 of 4"):
        list(r.iter_frames())
    with pytest.raises(SensError, match=r"frame 3"):  # even when frame 3 would be skipped
        list(r.iter_frames(frame_skip=2))


def test_corrupt_payloads(tmp_path):
    frames = _frames(1)
    header = SensHeader(intrinsic_4x4(20, 21, 11.5, 7.5), intrinsic_4x4(10, 11, 5.5, 3.5),
                        (CW, CH), (DW, DH))
    good_d = encode_depth_zlib(frames[0][2])
    bad_cases = [(b"not a jpeg", good_d, "colour image does not decode"),
                 (encode_color_jpeg(frames[0][1]), b"\x00\x01garbage", "zlib"),
                 (encode_color_jpeg(frames[0][1]), zlib.compress(b"\0" * 10), "depth has 10")]
    for j, (c, d, msg) in enumerate(bad_cases):
        path = tmp_path / f"p{j}.sens"
        write_sens(path, header, [(frames[0][0], c, d)])
        f = next(SensReader(path).iter_frames())
        with pytest.raises(SensError, match=msg):
            f.color()
            f.depth()
    with pytest.raises(SensError, match="not found"):
        SensReader(tmp_path / "missing.sens")
