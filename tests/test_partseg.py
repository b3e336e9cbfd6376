"""ShapeNetPart part segmentation: the dataset on hand-written files in the release's format (and corrupt
ones), the benchmark's instance / class mIoU by hand and by brute force, the category-restricted argmax,
the category one-hot path, TokenSegHead's global-feature option, pretrained parts, and one tiny
train + test run through tools/train.py on the synthetic tree that beats chance."""
import json
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

import voxclip.datasets  # noqa: F401  (registers)
import voxclip.models  # noqa: F401
from voxclip.datasets.objects import ObjectDataError, ShapeNetPartSegmentation
from voxclip.datasets.objects.shapenetpart import (SHAPENETPART_CATEGORIES, SHAPENETPART_SYNSETS,
                                                   shapenetpart_seg_classes)
from voxclip.datasets.samplers import SampleIndex
from voxclip.datasets.transforms import PointSample
from voxclip.evaluation import PartSegMetric, part_seg_scores, shape_miou
from voxclip.models.heads.token_seg import TokenSegHead
from voxclip.models.segmentors.part_segmentor import restricted_argmax
from voxclip.registry import MODELS

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tools"))
import train as train_tool  # noqa: E402

SEG = shapenetpart_seg_classes()
TABLE, MUG = SHAPENETPART_CATEGORIES.index("Table"), SHAPENETPART_CATEGORIES.index("Mug")
PIPE = [dict(type="PointFeatures", keys=("points",)), dict(type="Voxelize", voxel_size=0.05), dict(type="PackInputs")]


def _tree(root: Path, files: dict, splits: dict) -> Path:
    """The release's layout: the 16-line category file, <synset>/<model>.txt, the split lists."""
    (root / "train_test_split").mkdir(parents=True)
    (root / "synsetoffset2category.txt").write_text(
        "".join(f"{n}\t{s}\n" for n, s in zip(SHAPENETPART_CATEGORIES, SHAPENETPART_SYNSETS)))
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    for split, entries in splits.items():
        (root / "train_test_split" / f"shuffled_{split}_file_list.json").write_text(json.dumps(entries))
    return root


TABLE_TXT = ("0.0 0.5 0.0 0.0 1.0 0.0 47.000000\n0.2 0.5 0.1 0.0 1.0 0.0 47.000000\n"
             "0.2 0.0 0.1 1.0 0.0 0.0 48.000000\n-0.2 0.0 -0.1 -1.0 0.0 0.0 48.000000\n")
MUG_TXT = "0.0 0.0 0.0 0.0 0.0 1.0 36\n0.1 0.0 0.0 0.0 0.0 1.0 36\n0.3 0.1 0.0 1.0 0.0 0.0 37\n"


def test_dataset_reads_the_release_layout(tmp_path):
    root = _tree(tmp_path / "snp", {"04379243/t1.txt": TABLE_TXT, "03797390/m1.txt": MUG_TXT},
                 {"train": ["shape_data/04379243/t1"], "val": ["shape_data/03797390/m1"],
                  "test": ["shape_data/04379243/t1"]})
    pipe = [dict(type="PointSample", num_points=16, replace=True), *PIPE]
    ds = ShapeNetPartSegmentation(str(root), "trainval", pipeline=pipe, use_normals=True)
    assert len(ds) == 2 and ds.metainfo["classes"][TABLE] == "Table" and ds.metainfo["seg_classes"][MUG] == (36, 37)
    raw = ds.load_sample(ds.get_data_info(0))
    assert raw["meta"]["sample_id"] == "04379243/t1" and raw["gt_labels"].tolist() == [TABLE]
    assert raw["semantic"].tolist() == [47, 47, 48, 48]
    # y up in the file -> z up; normals turned alike; the cloud centred into the unit sphere
    assert np.allclose(raw["normals"][0], [0, 0, 1]) and np.allclose(raw["normals"][2], [1, 0, 0])
    assert abs(np.linalg.norm(raw["points"] - raw["points"].mean(0), axis=1).max() - 1.0) < 1e-5
    item = ds[1]
    assert item["points"].shape == (16, 3) and item["gt_labels"].tolist() == [MUG]
    assert set(item["semantic"].tolist()) <= {36, 37} and item["meta"]["sample_id"] == "03797390/m1"
    # points and labels stay paired through the resampling: every drawn point is one of the file's
    mug = ds.load_sample(ds.get_data_info(1))
    for p, s in zip(item["points"].numpy(), item["semantic"].tolist()):
        j = int(np.argmin(np.linalg.norm(mug["points"] - p, axis=1)))
        assert np.allclose(mug["points"][j], p, atol=1e-6) and mug["semantic"][j] == s
    # training: the sampler's (seed, epoch, index) generator decides the draw
    a, b, c = ds[SampleIndex(0, 1, 0)], ds[SampleIndex(0, 1, 0)], ds[SampleIndex(0, 1, 1)]
    assert torch.equal(a["points"], b["points"]) and not torch.equal(a["points"], c["points"])
    # test mode: per shape from (test_seed, sample id), whatever the access order
    te = ShapeNetPartSegmentation(str(root), "test", pipeline=pipe, test_mode=True, test_seed=0)
    te7 = ShapeNetPartSegmentation(str(root), "test", pipeline=pipe, test_mode=True, test_seed=7)
    assert torch.equal(te[0]["points"], te[0]["points"]) and not torch.equal(te[0]["points"], te7[0]["points"])


def test_dataset_names_the_bad_file(tmp_path):
    splits = {"train": ["shape_data/04379243/t1"]}
    bad_part = TABLE_TXT.replace("48.000000\n-0.2", "36.000000\n-0.2")  # a Mug part in a Table
    root = _tree(tmp_path / "a", {"04379243/t1.txt": bad_part}, splits)
    with pytest.raises(ObjectDataError, match=r"04379243/t1\.txt: part ids \[36\] do not belong to Table"):
        ShapeNetPartSegmentation(str(root), "train", pipeline=PIPE)
    root = _tree(tmp_path / "b", {"04379243/t1.txt": TABLE_TXT.replace("0.2 0.0", "0.2 abc")}, splits)
    with pytest.raises(ObjectDataError, match=r"04379243/t1\.txt: not whitespace-separated numbers"):
        ShapeNetPartSegmentation(str(root), "train", pipeline=PIPE)
    root = _tree(tmp_path / "c", {"04379243/t1.txt": "0 0 0 0 1 0\n"}, splits)
    with pytest.raises(ObjectDataError, match=r"04379243/t1\.txt"):
        ShapeNetPartSegmentation(str(root), "train", pipeline=PIPE)


def test_point_sample_with_replacement_is_rng_choice():
    res = PointSample(50, replace=True, rng=np.random.default_rng(4))(
        dict(points=np.arange(60, dtype=np.float32).reshape(20, 3), semantic=np.arange(20)))
    expected = np.random.default_rng(4).choice(20, 50, replace=True)
    assert res["semantic"].tolist() == expected.tolist() and np.allclose(res["points"][:, 0], 3 * expected)


# -- metric ------------------------------------------------------------------------------------
def test_metric_by_hand():
    shapes = [  # (category, gt, pred)
        (MUG, [36, 36, 36, 37], [36, 36, 37, 37]),  # IoU36 = 2/3, IoU37 = 1/2 -> 7/12
        (MUG, [36, 36, 36, 36], [36, 36, 36, 36]),  # IoU36 = 1, 37 in neither -> 1 -> 1
        (TABLE, [47, 47, 48, 48], [47, 48, 48, 48]),  # IoU47 = 1/2, IoU48 = 2/3, 49 in neither -> 1 -> 13/18
    ]
    metric = PartSegMetric(per_category=True)
    metric.dataset_meta = dict(classes=SHAPENETPART_CATEGORIES, seg_classes=SEG)
    metric.process({}, [dict(category=c, gt_parts=torch.tensor(g), pred_parts=torch.tensor(p), sample_id=str(i))
                        for i, (c, g, p) in enumerate(shapes)])
    out = metric.compute_metrics(metric.results)
    ins = (7 / 12 + 1 + 13 / 18) / 3
    cls = ((7 / 12 + 1) / 2 + 13 / 18) / 2
    assert out["ins_mIoU"] == pytest.approx(100 * ins) and out["cls_mIoU"] == pytest.approx(100 * cls)
    assert out["mIoU/Mug"] == pytest.approx(100 * 19 / 24) and out["mIoU/Table"] == pytest.approx(100 * 13 / 18)
    assert out["acc"] == pytest.approx(100 * 10 / 12) and "mIoU/Airplane" not in out


def test_metric_against_brute_force_on_random_labels():
    rng = np.random.default_rng(0)
    shapes = []
    for _ in range(40):
        c = int(rng.integers(16))
        parts = list(SEG[c])
        gt = rng.choice(parts[: int(rng.integers(1, len(parts) + 1))], 30)  # some parts absent from gt
        pred = rng.choice(parts, 30)
        shapes.append((c, gt, pred))
    # independent: per shape and part, count points one by one in plain Python
    per_shape = []
    for c, gt, pred in shapes:
        ious = []
        for part in SEG[c]:
            inter = sum(1 for g, p in zip(gt.tolist(), pred.tolist()) if g == part and p == part)
            union = sum(1 for g, p in zip(gt.tolist(), pred.tolist()) if g == part or p == part)
            ious.append(1.0 if union == 0 else inter / union)
        per_shape.append(sum(ious) / len(ious))
    by_cat = {}
    for (c, _, _), v in zip(shapes, per_shape):
        by_cat.setdefault(c, []).append(v)
    want_ins = sum(per_shape) / len(per_shape)
    want_cls = sum(sum(v) / len(v) for v in by_cat.values()) / len(by_cat)
    metric = PartSegMetric()
    metric.process({}, [dict(category=c, gt_parts=g, pred_parts=p) for c, g, p in shapes])
    out = metric.compute_metrics(metric.results)
    assert out["ins_mIoU"] == pytest.approx(100 * want_ins) and out["cls_mIoU"] == pytest.approx(100 * want_cls)
    assert [shape_miou(p, g, SEG[c]) for c, g, p in shapes] == pytest.approx(per_shape)
    with pytest.raises(ValueError):
        part_seg_scores([], [], 16)


def test_restricted_argmax_takes_only_the_categorys_parts():
    torch.manual_seed(0)
    logits = torch.randn(12, 50)
    logits[:, 0] = 100.0  # an Airplane part wins the plain argmax everywhere
    batch = torch.tensor([0] * 5 + [1] * 7)
    cats = torch.tensor([TABLE, MUG])
    got = restricted_argmax(logits, cats, batch, SEG)
    for i in range(12):  # brute force: the best of the point's own category's parts
        parts = SEG[int(cats[batch[i]])]
        assert int(got[i]) == max(parts, key=lambda p: float(logits[i, p]))
    assert (logits.argmax(1) == 0).all()


# -- model -------------------------------------------------------------------------------------
def _model(**kw):
    cfg = dict(type="PointPartSegmentor", fetch_layers=(0, 1), label_dim=8,
               tokenizer=dict(type="PointTokenizer", num_tokens=8, patch_size=8, embed_dim=16, pointnet_hidden=(8, 16)),
               encoder=dict(type="PointTransformerEncoder", embed_dim=16, depth=2, num_heads=2, drop_path_rate=0.0),
               head=dict(type="TokenSegHead", skip_channels=[3], fp_channels=[(24, 16)], head_channels=(16, 8),
                         dropout=0.5, dropout_after=0))
    cfg.update(kw)
    return MODELS.build(cfg)


def _batch(cats, n=40, seed=0):
    g = torch.Generator().manual_seed(seed)
    pts = torch.rand(len(cats) * n, 3, generator=g)
    batch = torch.arange(len(cats)).repeat_interleave(n)
    samples = [dict(gt_labels=torch.tensor([c]), semantic=torch.full((n,), SEG[c][0]), meta=dict(sample_id=str(i)))
               for i, c in enumerate(cats)]
    return dict(points=pts, point_batch=batch), samples


def test_category_onehot_reaches_the_logits():
    torch.manual_seed(0)
    model = _model().eval()
    inputs, s_table = _batch([TABLE, TABLE])
    _, s_mug = _batch([TABLE, MUG])
    with torch.no_grad():
        a, b = model(inputs, s_table, "tensor"), model(inputs, s_mug, "tensor")
        tok = model.tokenizer(inputs["points"].view(2, 40, 3))
        feats = model.token_features(tok)
        glob = model.global_features(feats, torch.tensor([TABLE, MUG]))
    assert torch.equal(a[:40], b[:40]) and not torch.allclose(a[40:], b[40:])  # only the changed shape moves
    onehot = torch.zeros(2, 16)
    onehot[0, TABLE] = onehot[1, MUG] = 1
    want = torch.cat([feats.max(1).values, feats.mean(1), model.label_embed(onehot)], dim=1)
    torch.testing.assert_close(glob, want)
    assert feats.shape == (2, 8, 32) and model.head.global_channels == 2 * 32 + 8
    blind = _model(category_onehot=False).eval()
    with torch.no_grad():
        assert torch.equal(blind(inputs, s_table, "tensor"), blind(inputs, s_mug, "tensor"))
    model.train()
    loss = model(inputs, s_mug, "loss")["loss_seg"]
    loss.backward()
    assert model.label_embed[0].weight.grad.abs().sum() > 0
    model.eval()
    with torch.no_grad():
        preds = model(inputs, s_mug, "predict")
    assert set(preds[1]["pred_parts"].tolist()) <= {36, 37} and set(preds[0]["pred_parts"].tolist()) <= {47, 48, 49}


def test_token_seg_head_global_option_keeps_samples_apart_and_defaults_unchanged():
    torch.manual_seed(0)
    head = TokenSegHead(in_channels=4, skip_channels=[3], num_classes=5, fp_channels=[(6,)], head_channels=(8, 8),
                        dropout=0.5, global_channels=2, dropout_after=0).eval()
    assert isinstance(head.head[3], torch.nn.Dropout) and isinstance(head.dropout, torch.nn.Identity)
    levels = [(torch.rand(2, 5, 3), torch.rand(2, 5, 4))]
    pts, batch = torch.rand(20, 3), torch.arange(2).repeat_interleave(10)
    g = torch.rand(2, 2)
    g2 = g.clone()
    g2[1] += 1.0
    a, b = head(levels, pts, pts, batch, g), head(levels, pts, pts, batch, g2)
    assert torch.equal(a[:10], b[:10]) and not torch.allclose(a[10:], b[10:])
    with pytest.raises(ValueError, match="global_feats"):
        head(levels, pts, pts, batch)
    torch.manual_seed(0)  # defaults: the same modules (and state keys) as before the option existed
    plain = TokenSegHead(in_channels=4, skip_channels=[3], num_classes=5)
    assert list(plain.state_dict()) == ["head.0.weight", "head.1.weight", "head.1.bias", "head.1.running_mean",
                                        "head.1.running_var", "head.1.num_batches_tracked", "classifier.weight",
                                        "classifier.bias"]  # fp.0 is concatenation only
    assert plain.head[0].in_channels == 4 + 3 and isinstance(plain.dropout, torch.nn.Dropout)


def test_pretrained_tokenizer_and_encoder_from_a_pretraining_checkpoint(tmp_path):
    torch.manual_seed(0)
    src = _model()
    state = {k: torch.randn_like(v.float()).to(v.dtype) if v.is_floating_point() else v
             for k, v in src.state_dict().items() if k.split(".")[0] in ("tokenizer", "encoder")}
    state["decoder.mask_token"] = torch.zeros(1, 1, 16)  # a Point-MAE pretrainer's other parts are not taken
    torch.save({"state_dict": state}, tmp_path / "pre.pth")
    model = _model(pretrained=dict(checkpoint=str(tmp_path / "pre.pth")))
    model.init_weights()
    for k, v in model.state_dict().items():
        if k.split(".")[0] in ("tokenizer", "encoder"):
            assert torch.equal(v, state[k]), k
    with pytest.raises(FileNotFoundError, match="missing.pth"):
        _model(pretrained=dict(checkpoint=str(tmp_path / "missing.pth"))).init_weights()


# -- the tiny end-to-end run ----------------------------------------------------------------------
def test_tiny_train_and_test_beats_chance(tmp_path):
    from data_prep.synthetic.shapenetpart_writer import write_shapenetpart

    root = write_shapenetpart(tmp_path / "snp", dict(train=10, test=3), num_points=700, seed=0)
    for entry in json.loads((root / "train_test_split/shuffled_test_file_list.json").read_text()):
        synset = entry.split("/")[1]  # every written part id belongs to its category
        parts = np.loadtxt(root / synset / f"{entry.split('/')[2]}.txt")[:, 6].astype(int)
        assert set(parts.tolist()) <= set(SEG[SHAPENETPART_SYNSETS.index(synset)])
    opts = [f"{k}.dataset.data_root={root}" for k in ("train_dataloader", "val_dataloader", "test_dataloader")]
    opts += [f"{k}.{o}" for k in ("train_dataloader", "val_dataloader", "test_dataloader")
             for o in ("num_workers=0", "persistent_workers=False")]
    out = tmp_path / "pred.json"
    opts += ["train_cfg.max_epochs=12", "train_cfg.val_interval=12", "train_dataloader.batch_size=8",
             "model.tokenizer.num_tokens=32", "model.encoder.depth=2", "model.fetch_layers=[0,1]",
             "default_hooks.logger.interval=1", f"val_evaluator.out_file={out}"]
    for pipe in ("train_dataloader.dataset.pipeline.0", "val_dataloader.dataset.pipeline.0"):
        opts.append(f"{pipe}.num_points=512")
    torch.set_num_threads(1)
    train_tool.main([str(REPO / "configs/demo/pointmae_partseg_demo.py"), "--work-dir", str(tmp_path / "w"),
                     "--cfg-options", *opts])
    doc = json.loads(out.read_text())
    samples = doc["samples"]
    assert len(samples) == 12 and {s["category"] for s in samples} == {TABLE, 8, 4, MUG}
    # chance: uniform random parts of the shape's own category, scored by the same definition
    rng = np.random.default_rng(0)
    ds = ShapeNetPartSegmentation(str(root), "test")
    chance, majority = [], []  # and: each shape's most frequent part everywhere
    for i in range(len(ds)):
        gt = ds.load_sample(ds.get_data_info(i))["semantic"]
        c = ds.get_data_info(i)["label"]
        chance.append(np.mean([shape_miou(rng.choice(SEG[c], len(gt)), gt, SEG[c]) for _ in range(5)]))
        majority.append(shape_miou(np.full(len(gt), np.bincount(gt).argmax()), gt, SEG[c]))
    assert doc["results"]["ins_mIoU"] == pytest.approx(100 * np.mean([s["miou"] for s in samples]))
    got, base = doc["results"]["ins_mIoU"], 100 * max(np.mean(chance), np.mean(majority))
    assert got > base + 10, (doc["results"], 100 * np.mean(chance), 100 * np.mean(majority))


def test_paper_config_builds_with_the_released_shapes():
    from mmengine.config import Config

    cfg = Config.fromfile(str(REPO / "configs/pointmae/partseg_shapenetpart.py"))
    assert cfg.optim_wrapper.optimizer.lr == 2e-4 and cfg.optim_wrapper.optimizer.weight_decay == 0.05
    assert cfg.train_cfg.max_epochs == 300 and cfg.train_dataloader.batch_size == 16
    assert cfg.train_dataloader.dataset.split == "trainval" and cfg.val_dataloader.dataset.split == "test"
    assert cfg.param_scheduler[1].end == 100 and cfg.param_scheduler[0].end == 10
    model = MODELS.build(cfg.model)
    assert (model.tokenizer.num_tokens, model.tokenizer.patch_size, model.encoder.depth) == (128, 32, 12)
    assert model.fetch_layers == (3, 7, 11) and (model.num_categories, model.num_parts) == (16, 50)
    fp = [m for m in model.head.fp[0] if isinstance(m, torch.nn.Conv1d)]
    assert [(c.in_channels, c.out_channels) for c in fp] == [(1152 + 3, 1536), (1536, 1024)]
    convs = [m for m in model.head.head if isinstance(m, torch.nn.Conv1d)]
    assert [(c.in_channels, c.out_channels) for c in convs] == [(3392, 512), (512, 256)]  # 3392 as released
    assert isinstance(model.head.head[3], torch.nn.Dropout) and model.head.classifier.in_channels == 256
    assert tuple(model.label_embed[0].weight.shape) == (64, 16)


def test_concept_alignment_checkpoint_fits_the_part_segmentor(tmp_path):
    """The concept-alignment pretrainer's own tokenizer / encoder (real key layout) load into the paper row."""
    from mmengine.config import Config

    pre_cfg = Config.fromfile(str(REPO / "configs/concept_align/pretrain_scannet_pairs.py"))
    pre_cfg.model.teacher = None  # the CLIP / ClipCap files are not needed for the student's keys
    torch.manual_seed(1)
    pre = MODELS.build(pre_cfg.model)
    torch.save({"state_dict": pre.state_dict()}, tmp_path / "epoch_250.pth")
    cfg = Config.fromfile(str(REPO / "configs/concept_align/partseg_shapenetpart.py"))
    cfg.model.pretrained.checkpoint = str(tmp_path / "epoch_250.pth")
    model = MODELS.build(cfg.model)
    model.init_weights()
    for name in ("tokenizer", "encoder"):
        for k, v in getattr(model, name).state_dict().items():
            assert torch.equal(v, pre.state_dict()[f"{name}.{k}"]), k


def test_prepare_tool_caches_shapenetpart_and_lists_every_bad_file(tmp_path, capsys):
    import prepare_objects as prep_tool

    files = {"04379243/t1.txt": TABLE_TXT, "03797390/m1.txt": MUG_TXT, "03797390/m2.txt": MUG_TXT + MUG_TXT}
    splits = {"train": ["shape_data/04379243/t1", "shape_data/03797390/m2"], "val": ["shape_data/03797390/m1"],
              "test": ["shape_data/03797390/m1"]}
    root = _tree(tmp_path / "raw", files, splits)
    out = tmp_path / "prep"
    assert prep_tool.main(["shapenetpart", str(root), str(out), "--normals", "--workers", "1", "--no-progress"]) == 0
    index = json.loads((out / "index.json").read_text())
    assert index["splits"]["train"]["count"] == 2 and index["channels"] == 6 and index["classes"][TABLE] == "Table"
    pipe = [dict(type="PointSample", num_points=8, replace=True), *PIPE]
    for split in ("trainval", "test"):
        raw = ShapeNetPartSegmentation(str(root), split, pipeline=pipe, use_normals=True)
        cached = ShapeNetPartSegmentation(str(out), split, pipeline=pipe, use_normals=True, source="prepared")
        assert len(raw) == len(cached)
        by_id = {cached.get_data_info(i)["sample_id"]: i for i in range(len(cached))}
        for i in range(len(raw)):  # the same shapes, points, normals, parts and categories
            a = raw.load_sample(raw.get_data_info(i))
            b = cached.load_sample(cached.get_data_info(by_id[a["meta"]["sample_id"]]))
            np.testing.assert_allclose(a["points"], b["points"], atol=1e-6)
            np.testing.assert_allclose(a["normals"], b["normals"], atol=1e-6)
            assert a["semantic"].tolist() == b["semantic"].tolist()
            assert a["gt_labels"].tolist() == b["gt_labels"].tolist()
    # two bad files: both named, nothing written
    files["04379243/t1.txt"] = TABLE_TXT.replace("48.000000\n-0.2", "36.000000\n-0.2")
    files["03797390/m2.txt"] = "0 0 0 0 1 0\n"
    bad = _tree(tmp_path / "bad", files, splits)
    capsys.readouterr()
    assert prep_tool.main(["shapenetpart", str(bad), str(tmp_path / "prep2"), "--workers", "1", "--no-progress"]) == 1
    err = capsys.readouterr()
    text = err.out + err.err
    assert "04379243/t1.txt: part ids [36] do not belong to Table" in text and "03797390/m2.txt" in text
    assert not (tmp_path / "prep2").exists()
