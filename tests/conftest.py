"""Shared fixtures: small synthetic ScanNet-format scenes, raw and prepared, made once per session."""
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def prepared_scannet(tmp_path_factory) -> Path:
    """8 synthetic scenes (6 train / 2 val) in raw ScanNet format, run through the prepare tool."""
    from data_prep.scannet.prepare import prepare
    from data_prep.synthetic.scannet import make_scannet_demo

    root = tmp_path_factory.mktemp("scannet")
    make_scannet_demo(root / "raw", num_scenes=8, seed=3, num_test_scenes=0, frames=0, progress=False)
    result = prepare(root / "raw", root / "prepared", workers=1, progress=False, log=lambda msg: None)
    assert not result.failed, result.failed
    return root / "prepared"
