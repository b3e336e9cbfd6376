"""Atomic checkpoint writes and the results table."""
import os

import pytest
import torch
from mmengine.fileio import get_file_backend
from mmengine.runner.checkpoint import save_checkpoint

from voxclip.engine import format_detection_table, format_results_table, register_atomic_backend
from voxclip.engine.atomic_backend import AtomicLocalBackend


def test_mmengine_checkpoints_go_through_atomic_backend(tmp_path):
    register_atomic_backend()
    assert isinstance(get_file_backend(str(tmp_path / "x.pth")), AtomicLocalBackend)
    path = tmp_path / "epoch_1.pth"
    save_checkpoint({"state_dict": {"w": torch.arange(5.0)}}, str(path))
    assert torch.equal(torch.load(path)["state_dict"]["w"], torch.arange(5.0))
    assert [p.name for p in tmp_path.iterdir()] == ["epoch_1.pth"]  # no temp file left


def test_interrupted_write_keeps_previous_file(tmp_path, monkeypatch):
    register_atomic_backend()
    path = tmp_path / "last.pth"
    save_checkpoint({"v": 1}, str(path))

    def broken_fsync(fd):
        raise OSError("disk full")

    monkeypatch.setattr(os, "fsync", broken_fsync)
    with pytest.raises(OSError, match="disk full"):
        save_checkpoint({"v": 2}, str(path))
    monkeypatch.undo()
    assert torch.load(path)["v"] == 1
    assert [p.name for p in tmp_path.iterdir()] == ["last.pth"]


def test_detection_table_lists_classes_and_ends_with_map_line():
    metrics = {"mAP@0.25": 0.5, "mAP@0.5": 0.25, "AP@0.25/chair": 0.75, "AP@0.5/chair": 0.5,
               "AP@0.25/table": 0.25, "AP@0.5/table": 0.0}
    table = format_detection_table(metrics, ["chair", "table", "sofa"])
    lines = table.splitlines()
    assert lines[-1] == "mAP@0.25: 0.5000  mAP@0.5: 0.2500"
    chair = next(line for line in lines if line.startswith("chair"))
    assert chair.split()[1:] == ["0.7500", "0.5000"]
    sofa = next(line for line in lines if line.startswith("sofa"))
    assert sofa.split()[1:] == ["-", "-"]


def test_results_table_picks_the_segmentation_layout():
    metrics = {"mIoU": 0.5, "mAcc": 0.625, "aAcc": 0.75, "IoU/wall": 0.75, "IoU/floor": 0.25,
               "IoU/sink": float("nan")}
    lines = format_results_table(metrics, ["wall", "floor", "sink", "bed"]).splitlines()
    assert lines[-1] == "mIoU: 0.5000  mAcc: 0.6250  aAcc: 0.7500"
    rows = {line.split()[0]: line.split()[1] for line in lines[2:-2]}
    assert rows == {"wall": "0.7500", "floor": "0.2500", "sink": "-", "bed": "-"}
    det = {"mAP@0.25": 0.5, "mAP@0.5": 0.25}
    assert format_results_table(det, ["chair"]).splitlines()[-1] == "mAP@0.25: 0.5000  mAP@0.5: 0.2500"
