"""Checkpoints are data: a pickle that would run code is refused on every loading path, a checkpoint
that does not fit the model is an error listing the keys, a corrupt file is one line (docs/reliability.md)."""
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from torch import nn

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tools"))

import test as test_tool  # noqa: E402
import train as train_tool  # noqa: E402
from voxclip.engine.checkpoint_io import CheckpointError, load_checkpoint_file  # noqa: E402

CONFIG = str(REPO / "configs/demo/votenet_srunet_demo.py")


class _WritesMarker:
    """Unpickling this calls os.system: what a malicious checkpoint does."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


class _Getattr:
    """Unpickling this calls getattr(HistoryBuffer, '__init__'): a step towards a function's globals."""

    def __reduce__(self):
        from mmengine.logging.history_buffer import HistoryBuffer

        return getattr, (HistoryBuffer, "__init__")


def tiny(data_root):
    opts = []
    for split in ("train", "val", "test"):
        opts += [f"{split}_dataloader.dataset.data_root={data_root}", f"{split}_dataloader.num_workers=0",
                 f"{split}_dataloader.persistent_workers=False",
                 f"{split}_dataloader.dataset.pipeline.0.num_points=1000", f"{split}_dataloader.dataset.indices=1"]
    return opts + ["model.head.num_seeds=64", "model.head.num_proposals=16", "train_cfg.max_epochs=1",
                   "default_hooks.checkpoint.save_best=None"]


@pytest.fixture(scope="module")
def model_state(prepared_scannet, tmp_path_factory):
    """The demo model's own state dict (random init), as a checkpoint of this config would hold it."""
    work = tmp_path_factory.mktemp("state")
    runner = train_tool.build_runner(train_tool.parse_args([CONFIG, "--work-dir", str(work),
                                                            "--cfg-options", *tiny(prepared_scannet)]))
    return {k: v.clone() for k, v in runner.model.state_dict().items()}


@pytest.fixture()
def evil(tmp_path, model_state):
    """A checkpoint with the right weights plus an object whose unpickling writes `marker`."""
    marker = tmp_path / "MARKER"
    path = tmp_path / "evil.pth"
    torch.save({"state_dict": model_state, "meta": {"epoch": 1, "iter": 1, "note": _WritesMarker(marker)}}, path)
    return path, marker


def _refused(excinfo, path):
    text = str(excinfo.value)
    assert text.startswith(f"{path}: refused to load") and "posix.system" in text and "--unsafe-load" in text


def test_malicious_checkpoint_refused_by_resume(prepared_scannet, evil, tmp_path):
    path, marker = evil
    with pytest.raises(CheckpointError) as excinfo:
        train_tool.main([CONFIG, "--work-dir", str(tmp_path / "w"), "--resume", str(path),
                         "--cfg-options", *tiny(prepared_scannet)])
    _refused(excinfo, path)
    assert not marker.exists()


def test_malicious_checkpoint_refused_by_load_from(prepared_scannet, evil, tmp_path):
    path, marker = evil
    with pytest.raises(CheckpointError) as excinfo:
        train_tool.main([CONFIG, "--work-dir", str(tmp_path / "w"), "--cfg-options", *tiny(prepared_scannet),
                         f"load_from={path}"])
    _refused(excinfo, path)
    assert not marker.exists()


def test_malicious_checkpoint_refused_by_test_tool_one_line(prepared_scannet, evil, tmp_path):
    path, marker = evil
    env = dict(os.environ, PYTHONPATH=str(REPO))
    env.pop("VOXCLIP_DEBUG", None)
    env.pop("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", None)
    proc = subprocess.run([sys.executable, str(REPO / "tools/test.py"), CONFIG, str(path), "--work-dir",
                           str(tmp_path / "w"), "--cfg-options", *tiny(prepared_scannet)],
                          capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr[-2000:]
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith(f"error: {path}: refused to load") and "posix.system" in last
    assert not marker.exists()


def test_malicious_checkpoint_refused_by_pretrained_init(evil):
    """Both pretrained mechanisms: load_pretrained_backbone (pretrained=/init_cfg of voxclip models)
    and mmengine's own load_checkpoint (init_cfg Pretrained of plain mmengine modules)."""
    from mmengine.runner.checkpoint import load_checkpoint

    from voxclip.engine.setup import allow_trusted_checkpoints
    from voxclip.models.pretrained import load_pretrained_backbone

    path, marker = evil
    with pytest.raises(CheckpointError) as excinfo:
        load_pretrained_backbone(nn.Linear(2, 2), str(path), prefix="backbone.")
    assert str(excinfo.value).startswith(f"{path}: refused to load") and "posix.system" in str(excinfo.value)
    allow_trusted_checkpoints()  # what prepare_config does: mmengine's local loader is the weights-only one
    with pytest.raises(CheckpointError) as excinfo:
        load_checkpoint(nn.Linear(2, 2), str(path))
    _refused(excinfo, path)
    assert not marker.exists()


def test_restricted_getattr_and_unsafe_load(tmp_path):
    path = tmp_path / "getattr.pth"
    torch.save({"x": _Getattr()}, path)
    with pytest.raises(CheckpointError, match="refused to load"):
        load_checkpoint_file(str(path))
    # a type outside the allow-list: refused, named; loads with --unsafe-load (set_unsafe_load)
    from fractions import Fraction

    other = tmp_path / "fraction.pth"
    torch.save({"state_dict": {}, "meta": {"lr": Fraction(1, 3)}}, other)
    with pytest.raises(CheckpointError, match="fractions.Fraction"):
        load_checkpoint_file(str(other))
    assert load_checkpoint_file(str(other), unsafe=True)["meta"]["lr"] == Fraction(1, 3)


def test_corrupt_and_truncated_files(tmp_path, model_state):
    good = tmp_path / "good.pth"
    torch.save({"state_dict": model_state}, good)
    data = good.read_bytes()
    cases = {"truncated.pth": data[: len(data) // 2], "empty.pth": b"", "text.pth": b"not a checkpoint\n"}
    for name, content in cases.items():
        (tmp_path / name).write_bytes(content)
        with pytest.raises(CheckpointError) as excinfo:
            load_checkpoint_file(str(tmp_path / name))
        text = str(excinfo.value)
        assert text.startswith(f"{tmp_path / name}: not a readable checkpoint") and "\n" not in text, text


def test_checkpoint_of_another_shape_is_an_error_listing_keys(prepared_scannet, model_state, tmp_path):
    state = dict(model_state)
    key = next(k for k, v in state.items() if v.ndim == 2)
    state[key] = torch.zeros(state[key].shape[0] + 1, state[key].shape[1])  # another shape
    dropped = sorted(state)[-1]
    del state[dropped]  # missing
    state["head.extra.weight"] = torch.zeros(3)  # unexpected
    path = tmp_path / "other.pth"
    torch.save({"state_dict": state, "meta": {}}, path)
    args = [CONFIG, str(path), "--work-dir", str(tmp_path / "w"), "--cfg-options", *tiny(prepared_scannet)]
    with pytest.raises(CheckpointError) as excinfo:
        test_tool.main(args)
    first, *rest = str(excinfo.value).splitlines()
    assert first.startswith(f"{path}: checkpoint does not fit VoteNetDetector")
    assert "1 model keys missing" in first and "1 unexpected keys (head.extra.weight)" in first
    assert "1 of another shape" in first and key in first
    assert f"  missing: {dropped}" in rest and "  unexpected: head.extra.weight" in rest
    # the escape for a deliberate partial load: evaluates with what fits
    metrics = test_tool.main(args[:2] + ["--strict", "false"] + args[2:])
    assert "mAP@0.25" in metrics


def test_pretrained_backbone_is_strict_by_default(tmp_path):
    from voxclip.models.pretrained import PretrainedPartsMixin, load_pretrained_backbone

    src = nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 2))
    path = tmp_path / "pre.pth"
    torch.save({"state_dict": {f"backbone.{k}": v for k, v in src.state_dict().items()}}, path)
    same = nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 2))
    info = load_pretrained_backbone(same, str(path))
    assert len(info["loaded"]) == 4 and torch.equal(same[1].weight, src[1].weight)
    bigger = nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 5))  # another shape
    with pytest.raises(CheckpointError) as excinfo:
        load_pretrained_backbone(bigger, str(path))
    assert "1.weight: (2, 4) vs (5, 4)" in str(excinfo.value) and "keys under 'backbone.'" in str(excinfo.value)
    info = load_pretrained_backbone(bigger, str(path), strict=False)
    assert info["mismatched"] == ["1.bias", "1.weight"] and torch.equal(bigger[0].weight, src[0].weight)

    class Model(PretrainedPartsMixin, nn.Module):
        def __init__(self, pretrained):
            super().__init__()
            self.tokenizer, self.encoder = nn.Linear(3, 4), nn.Linear(4, 3)
            self._set_pretrained(pretrained)

        def init_weights(self):
            self.load_pretrained_parts()

    torch.save({"state_dict": {"tokenizer.weight": torch.ones(4, 3), "tokenizer.bias": torch.ones(4)}}, path)
    with pytest.raises(KeyError, match="no 'encoder.\\*' weights"):
        Model(dict(checkpoint=str(path))).init_weights()
    m = Model(dict(checkpoint=str(path), parts={"tokenizer": "tokenizer."}, strict=True))
    m.init_weights()
    assert torch.equal(m.tokenizer.weight, torch.ones(4, 3))


def test_resume_from_a_weights_only_file_is_an_error(prepared_scannet, model_state, tmp_path):
    path = tmp_path / "weights.pth"
    torch.save(model_state, path)  # a bare state dict: no meta, optimizer or schedulers
    with pytest.raises(CheckpointError, match=f"^{path}: cannot resume from it"):
        train_tool.main([CONFIG, "--work-dir", str(tmp_path / "w"), "--resume", str(path),
                         "--cfg-options", *tiny(prepared_scannet)])


def test_load_ignore_prefixes_drop_only_the_stated_parts(tmp_path):
    """An evaluation config may leave out a pretrainer's parts by prefix; other mismatches stay errors."""
    import logging

    from mmengine.config import Config

    from voxclip.engine.runner import VoxclipRunner

    class Runner(VoxclipRunner):  # only what load_checkpoint reads
        def __init__(self, cfg, model):
            self.cfg, self.model, self.logger = cfg, model, logging.getLogger("test")

        def call_hook(self, *args, **kwargs):
            pass

    model = nn.Sequential(nn.Linear(2, 2))
    state = {f"0.{k}": v for k, v in nn.Linear(2, 2).state_dict().items()}
    state["decoder.w"] = torch.zeros(1)
    path = tmp_path / "pretrain.pth"
    torch.save({"state_dict": state}, path)
    Runner(Config(dict(load_ignore_prefixes=("decoder.",))), model).load_checkpoint(str(path))
    assert torch.equal(model[0].weight, state["0.weight"])
    state["other.w"] = torch.zeros(1)
    torch.save({"state_dict": state}, path)
    with pytest.raises(Exception, match=r"1 unexpected keys \(other.w\)"):
        Runner(Config(dict(load_ignore_prefixes=("decoder.",))), model).load_checkpoint(str(path))
