"""No partial outputs, no silent skips, no orphans, readable folders, errors that name the file
(docs/reliability.md)."""
import errno
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tools"))


def test_truncated_or_missing_sens_is_reported_and_leaves_nothing(tmp_path, capsys):
    import extract_scannet_pairs as tool

    from data_prep.synthetic.scannet import make_scannet_demo

    raw = tmp_path / "raw"
    make_scannet_demo(raw, 3, 5, num_test_scenes=0, frames=6, color_size=(80, 60), depth_size=(40, 30),
                      progress=False)
    sens = raw / "scans/scene0000_00/scene0000_00.sens"
    sens.write_bytes(sens.read_bytes()[: sens.stat().st_size * 2 // 3])  # cut short after some frames
    (raw / "scans/scene0001_00/scene0001_00.sens").unlink()
    out = tmp_path / "out"
    assert tool.main([str(raw), str(out), "--frame-skip", "1", "--no-progress"]) == 1
    err = capsys.readouterr().err
    assert "FAILED scene0000_00:" in err and "FAILED scene0001_00:" in err
    assert f"{raw / 'scans/scene0001_00/scene0001_00.sens'}: .sens stream missing" in err
    pairs = out / "pairs"
    assert sorted(p.name for p in pairs.iterdir()) == ["index.json", "scene0002_00"]  # no partial folder
    assert (pairs / "scene0002_00" / "meta.json").is_file()


def _children(pid: int) -> list:
    kids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                kids.append(int(entry))
    return kids


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs /proc")
def test_pool_workers_die_with_their_parent():
    code = ("import sys, time; sys.path.insert(0, %r)\n"
            "from data_prep.batch import run_batch\n"
            "for _ in run_batch(time.sleep, [(60,), (60,), (60,)], workers=2, progress=False): pass\n") % str(REPO)
    parent = subprocess.Popen([sys.executable, "-c", code])
    workers = []
    try:
        deadline = time.time() + 60
        while len(workers) < 2 and time.time() < deadline:
            time.sleep(0.2)
            workers = [p for p in _children(parent.pid) if _alive(p)]
        assert len(workers) == 2, "the pool did not start"
        time.sleep(0.5)  # let the initializers run
        parent.send_signal(signal.SIGKILL)
        parent.wait()
        deadline = time.time() + 15
        while any(_alive(p) for p in workers) and time.time() < deadline:
            time.sleep(0.2)
        assert not any(_alive(p) for p in workers), "pool workers outlived their killed parent"
    finally:
        for pid in workers:  # only the workers this test started, if the assertion failed
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)


def test_lock_per_scene_mode_and_write_errors(prepared_scannet, tmp_path, monkeypatch):
    from data_prep.batch import item_lock
    from data_prep.scannet.prepare import prepare

    raw = prepared_scannet.parent / "raw"
    out = tmp_path / "out"
    with item_lock(out, "scene0002_00"):  # another run is writing this scene
        res = prepare(raw, out, scenes=["scene0000_00", "scene0002_00"], workers=1, progress=False,
                      log=lambda msg: None)
    assert res.prepared == ["scene0000_00"]
    assert len(res.failed) == 1 and res.failed[0][0] == "scene0002_00"
    assert "another run is writing scene0002_00" in res.failed[0][1]
    # prepared folders have the mode a plain mkdir gives under this umask (not mkdtemp's 0700)
    (tmp_path / "plain").mkdir()
    assert (out / "scans/scene0000_00").stat().st_mode & 0o777 == (tmp_path / "plain").stat().st_mode & 0o777

    # a full disk: the real ENOSPC of /dev/full, then through the atomic writer and the scene writer
    from voxclip.utils.atomic import OutputWriteError, atomic_write_bytes, write_error

    with pytest.raises(OSError) as excinfo:
        with open("/dev/full", "wb") as f:
            f.write(b"x" * 10)
    assert excinfo.value.errno == errno.ENOSPC
    assert str(write_error("/dev/full", excinfo.value)) == "/dev/full: cannot write: no space left on device"

    def enospc(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", enospc)
    target = tmp_path / "x" / "index.json"
    with pytest.raises(OutputWriteError, match=f"^{target}: cannot write: no space left on device$"):
        atomic_write_bytes(target, b"{}")
    assert not list(target.parent.iterdir())  # the temp file is gone
    monkeypatch.undo()

    import data_prep.scannet.writer as writer

    def short_write(f, arr, allow_pickle=False):
        raise OSError(f"{arr.nbytes} requested and 0 written")  # numpy's message on a full disk

    monkeypatch.setattr(writer.np, "save", short_write)
    res = prepare(raw, out, scenes=["scene0003_00"], workers=1, progress=False, log=lambda msg: None)
    reason = dict(res.failed)["scene0003_00"]
    assert f"{out / 'scans/scene0003_00/coord.npy'}: cannot write: short write" in reason
    assert not (out / "scans/scene0003_00").exists() and not list((out / "scans").glob(".scene0003_00.*"))


def test_sunrgbd_sample_in_both_splits_is_an_error(tmp_path):
    from data_prep.sunrgbd.errors import SunrgbdError
    from data_prep.sunrgbd.export import read_export_split

    (tmp_path / "train_data_idx.txt").write_text("1\n2\n")
    (tmp_path / "val_data_idx.txt").write_bytes(b"\xef\xbb\xbf3\n2\n")  # with a BOM
    with pytest.raises(SunrgbdError, match="line 2: id 000002 is in both the train and the val list"):
        read_export_split(tmp_path)
    (tmp_path / "val_data_idx.txt").write_bytes(b"\xef\xbb\xbf3\n")
    split, used = read_export_split(tmp_path)
    assert split == {"000001": "train", "000002": "train", "000003": "val"}


def test_scannet_scene_in_two_split_lists_is_reported(tmp_path, capsys):
    from test_prepare_scannet import make_raw, run

    raw, _ = make_raw(tmp_path)
    with open(raw / "scannetv2_val.txt", "a") as f:
        f.write("scene0000_00\n")  # also in train
    out = tmp_path / "out"
    assert run(raw, out) == 1
    err = capsys.readouterr().err
    assert "scene0000_00: " in err and "scene listed in several split files (train, val)" in err
    assert "scene0000_00" not in _index_scenes(out)


def _index_scenes(out):
    import json

    return json.loads((out / "index.json").read_text())["scenes"]
