"""S4Token zero-shot object classification (configs/s4token/zeroshot_cls_*.py): CLIP prompt ensembling
by hand, and tools/test.py on synthetic ModelNet40-format objects with a random tiny pre-training
checkpoint, checked against the cosine argmax and the accuracies recomputed here."""
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from voxclip.models.classifiers.zero_shot import class_text_embeddings
from voxclip.models.s4token.text import prompt_embeddings

REPO = Path(__file__).resolve().parents[1]
DEMO = "configs/demo/s4token_zeroshot_cls_demo.py"


class _TableText:
    """A text encoder whose embeddings are fixed vectors of very different lengths."""

    def __init__(self, table):
        self.table, self.calls = table, []

    def encode_texts(self, texts):
        self.calls.extend(texts)
        return torch.tensor([self.table[t] for t in texts], dtype=torch.float32)


def test_prompt_ensembling_averages_normalised_embeddings():
    table = {"a chair.": [10.0, 0.0, 0.0], "3d chair": [0.0, 1.0, 0.0],
             "a flower pot.": [0.0, 0.0, 2.0], "3d flower pot": [3.0, 0.0, 4.0]}
    text = _TableText(table)
    emb = prompt_embeddings(text, ["chair", "flower_pot"], ["a {}.", "3d"])  # '_' reads as a space
    # CLIP: normalise each prompt, average, normalise: chair -> (1, 1, 0) / sqrt 2, NOT (10, 1, 0) / |.|
    by_hand = torch.tensor([[1.0, 1.0, 0.0], [0.6, 0.0, 1.8]])
    torch.testing.assert_close(emb, by_hand / by_hand.norm(dim=1, keepdim=True))
    assert text.calls == ["a chair.", "3d chair", "a flower pot.", "3d flower pot"]
    torch.testing.assert_close(class_text_embeddings(text, ["chair", "flower_pot"], ["a {}.", "3d"]), emb)
    with pytest.raises(ValueError, match="non-empty list"):
        prompt_embeddings(text, "chair", ["a {}."])


def _random_pretrainer_checkpoint(path: Path, clip: str) -> Path:
    """A randomly initialised demo S4TokenPretrainer saved like a Runner checkpoint (its key layout)."""
    from mmengine.config import Config

    from voxclip.engine.setup import import_all_modules
    from voxclip.registry import MODELS

    import_all_modules()
    cfg = Config.fromfile(str(REPO / "configs/demo/s4token_pretrain_demo.py"))
    for part in ("encoder", "image_encoder"):
        cfg.model[part]["weights"] = clip
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    state = model.state_dict()
    assert any(k.startswith("teacher_tokenizer.") for k in state) and not any(k.startswith("encoder.") for k in state)
    torch.save(dict(meta=dict(epoch=1), state_dict=state), path)
    return path


def test_zero_shot_classification_through_tools_test(tiny_vit_clip, tmp_path):
    from data_prep.synthetic.object_writers import make_objects_demo

    make_objects_demo(tmp_path / "raw", ["modelnet40_txt"], train_per_class=1, test_per_class=2, seed=0,
                      noise=0.02, random_yaw=True)
    prep = tmp_path / "prep"
    env = dict(os.environ, PYTHONPATH=str(REPO), OMP_NUM_THREADS="1")
    run = subprocess.run([sys.executable, "tools/prepare_objects.py", "modelnet40",
                          str(tmp_path / "raw/modelnet40_normal_resampled"), str(prep), "--num-points", "2048",
                          "--no-progress"], cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    ckpt = _random_pretrainer_checkpoint(tmp_path / "pretrain.pth", tiny_vit_clip)
    out = tmp_path / "pred.json"
    opts = {"model.encoder.weights": tiny_vit_clip, "model.text_encoder.weights": tiny_vit_clip,
            "test_dataloader.dataset.data_root": str(prep), "test_evaluator.out_file": str(out),
            "test_evaluator.per_class": True}
    run = subprocess.run([sys.executable, "tools/test.py", DEMO, str(ckpt), "--work-dir", str(tmp_path / "work"),
                          "--cfg-options", *[f"{k}={v}" for k, v in opts.items()]],
                         cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    doc = json.loads(out.read_text())
    samples, results = doc["samples"], doc["results"]

    # the same model, built and loaded here; the test objects through the config's own pipeline
    from mmengine.config import Config

    from voxclip.models.clip import CLIPTextEncoder
    from voxclip.registry import DATASETS, MODELS

    cfg = Config.fromfile(str(REPO / DEMO))
    cfg.merge_from_dict(opts)
    names = json.loads((prep / "index.json").read_text())["classes"]
    model = MODELS.build(cfg.model).eval()
    model.load_state_dict(torch.load(ckpt, map_location="cpu", weights_only=True)["state_dict"], strict=True)
    dataset = DATASETS.build(cfg.test_dataloader.dataset)
    assert len(samples) == len(dataset) == 2 * len(names)
    # text side by hand: CLIP's prompt ensembling of the dataset's class names
    text = CLIPTextEncoder(model_cfg=cfg.tiny_clip_cfg, weights=tiny_vit_clip)
    emb = torch.stack([F.normalize(torch.stack([F.normalize(text.encode_texts([t.format(n.replace("_", " "))])[0],
                                                            dim=0) for t in cfg.templates]).mean(0), dim=0)
                       for n in names])
    by_id = {s["sample_id"]: s for s in samples}
    gt_all, pred_all, top5, globs = [], [], [], []
    for i in range(len(dataset)):
        item = dataset[i]
        pts = item["points"].float()
        _, g = model.point_features(pts, None, None)  # one cloud, superpoints computed, colour filled
        scores = emb @ g
        pred = int(scores.argmax())
        row = by_id[item["meta"]["sample_id"]]
        gt = int(item["gt_labels"][0])
        assert row["gt"] == gt and row["pred"] == pred
        gt_all.append(gt)
        pred_all.append(pred)
        top5.append(int((scores > scores[gt]).sum()) < 5)
        globs.append(g)
    gt_all, pred_all = np.array(gt_all), np.array(pred_all)
    assert results["OA"] == pytest.approx(100.0 * np.mean(gt_all == pred_all))
    per_class = [np.mean(pred_all[gt_all == c] == c) for c in range(len(names))]
    assert results["mAcc"] == pytest.approx(100.0 * np.mean(per_class))
    assert results["top1"] == pytest.approx(results["OA"])
    assert results["top5"] == pytest.approx(100.0 * np.mean(top5))  # the logits' ranking, not only the argmax
    assert f"acc/{names[0]}" in results  # ClsMetric named the classes from the dataset
    globs = torch.stack(globs)
    assert (globs - globs[0]).abs().max() > 1e-4  # the embedding depends on the object (random CLIP: not the label)


def test_class_names_hook_hands_the_datasets_classes_to_the_model():
    from types import SimpleNamespace

    from voxclip.engine import ClassNamesFromDataset

    class Model:
        names = ()

        def set_class_names(self, names):
            self.names = names

    def runner(model, metainfo):
        loop = SimpleNamespace(dataloader=SimpleNamespace(dataset=SimpleNamespace(metainfo=metainfo)))
        return SimpleNamespace(model=model, test_loop=loop, val_loop=loop)

    model = Model()
    ClassNamesFromDataset().before_test(runner(model, dict(classes=["bed", "flower_pot"])))
    assert model.names == ("bed", "flower_pot")
    with pytest.raises(ValueError, match="no metainfo"):
        ClassNamesFromDataset().before_val(runner(model, {}))
    with pytest.raises(TypeError, match="set_class_names"):
        ClassNamesFromDataset().before_test(runner(object(), dict(classes=["bed"])))
