"""Shared fixtures, made once per session: small synthetic ScanNet-format scenes (prepared, and as
Text4Point 2D-3D pairs) and a tiny random CLIP file."""
import sys
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


@pytest.fixture(scope="session")
def tiny_clip(tmp_path_factory) -> str:
    """A random tiny ResNet CLIP written by tools/make_random_clip.py (model_cfg TINY_RN_CLIP_CFG)."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
    from make_random_clip import make_random_clip

    return str(make_random_clip(str(tmp_path_factory.mktemp("clip") / "tiny_rn_clip.pt"), "tiny", seed=0))


@pytest.fixture(scope="session")
def pairs_root(tmp_path_factory) -> Path:
    """2 synthetic scenes x 6 frames (small colour/depth), pairs of every 2nd frame."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
    import extract_scannet_pairs as tool
    from data_prep.synthetic.scannet import make_scannet_demo

    root = tmp_path_factory.mktemp("t4p")
    make_scannet_demo(root / "raw", 2, 5, num_test_scenes=0, frames=6, color_size=(160, 120),
                      depth_size=(80, 60), progress=False)
    assert tool.main([str(root / "raw"), str(root / "out"), "--frame-skip", "2", "--no-progress"]) == 0
    return root / "out"


@pytest.fixture(scope="session")
def mmpd_root(tmp_path_factory) -> Path:
    """4 synthetic scenes x 6 frames prepared (scans/, splits/) with their 2D-3D pairs in the same
    root (pairs/, every 2nd frame): the scene-level data of Point-MAE and MMPD (ScenePointPairs)."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
    import extract_scannet_pairs as tool
    from data_prep.scannet.prepare import prepare
    from data_prep.synthetic.scannet import make_scannet_demo

    root = tmp_path_factory.mktemp("mmpd")
    make_scannet_demo(root / "raw", 4, 7, num_test_scenes=0, frames=6, color_size=(160, 120),
                      depth_size=(80, 60), progress=False)
    result = prepare(root / "raw", root / "out", workers=1, progress=False, log=lambda msg: None)
    assert not result.failed, result.failed
    assert tool.main([str(root / "raw"), str(root / "out"), "--frame-skip", "2", "--no-progress"]) == 0
    return root / "out"


@pytest.fixture(scope="session")
def tiny_dinov2(tmp_path_factory) -> str:
    """A random tiny timm DINOv2 (vit_small_patch14_dinov2 key layout) by tools/make_random_dinov2.py."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
    from make_random_dinov2 import make_random_dinov2

    return make_random_dinov2(str(tmp_path_factory.mktemp("dinov2") / "tiny_dinov2.safetensors"), seed=0)


@pytest.fixture(scope="session")
def tiny_vit_clip(tmp_path_factory) -> str:
    """A random tiny ViT CLIP written by tools/make_random_clip.py (model_cfg TINY_VIT_CLIP_CFG; S4Token)."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
    from make_random_clip import make_random_clip

    return str(make_random_clip(str(tmp_path_factory.mktemp("clip_vit") / "tiny_vit_clip.pt"), "tiny_vit", seed=0))


@pytest.fixture(autouse=True)
def _restore_process_state():
    """Process-wide settings a test may change: the sparse backend (tools' prepare_config, e.g. test.py
    --sparse-backend spconv) and torch's thread count (spconv's CPU path runs single-threaded; results
    of in-process training differ bit-wise across thread counts). Restored after each test so tests
    do not depend on their order."""
    import torch

    from voxclip.sparse.backends import current_backend, set_backend

    backend, threads = current_backend(), torch.get_num_threads()
    yield
    set_backend(backend)
    torch.set_num_threads(threads)
