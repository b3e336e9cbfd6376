"""Object tasks: voting averages logits over augmented copies, few-shot folds, the accuracy metric by
hand, the augmentations, the classifier's pretrained parts, EPCL's and zero-shot heads."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from voxclip.datasets.objects import make_folds, load_folds, save_folds, fold_summary
from voxclip.datasets.transforms import FPSSample, ScaleAndTranslate
from voxclip.evaluation import ClsMetric, classification_scores
from voxclip.models.classifiers import EPCLClassifier, PointClassifier, ZeroShotClassifier, vote_logits

TOK = dict(type="PointTokenizer", num_tokens=8, patch_size=8, embed_dim=32, pointnet_hidden=(16, 32))
ENC = dict(type="PointTransformerEncoder", embed_dim=32, depth=1, num_heads=2, mlp_ratio=2.0, drop_path_rate=0.0)


def _batch(clouds, labels=None):
    pts = torch.cat(clouds)
    batch = torch.cat([torch.full((len(c),), i) for i, c in enumerate(clouds)])
    samples = [dict(gt_labels=torch.tensor([lab]), meta=dict(sample_id=f"s{i}")) for i, lab in enumerate(labels or [0] * len(clouds))]
    return dict(points=pts, point_batch=batch, point_feats=pts), samples


# -- voting ---------------------------------------------------------------------------------------
def test_vote_logits_is_the_mean_of_the_copies_logits():
    clouds = [torch.tensor([[1.0, 2.0, 3.0], [-1.0, 0.5, 2.0], [0.0, 0.0, 0.0]]), torch.tensor([[2.0, 2.0, 2.0]] * 3)]
    seen = []

    def logits_fn(batch):  # any deterministic function of the copies
        out = torch.stack([batch.sum(dim=(1, 2)), batch[:, :, 0].max(dim=1).values], dim=1)
        seen.append((batch.clone(), out))
        return out

    g = torch.Generator().manual_seed(3)
    got = vote_logits(logits_fn, clouds, votes=4, num_points=None, generator=g)
    assert len(seen) == 4
    torch.testing.assert_close(got, torch.stack([o for _, o in seen]).mean(0))
    for batch, _ in seen:  # each copy is the cloud scaled per axis in [2/3, 3/2] and shifted by <= 0.2
        c = batch[0]
        scale = (c[0] - c[2]) / (clouds[0][0] - clouds[0][2])
        shift = c[2]
        assert ((scale >= 2 / 3 - 1e-6) & (scale <= 1.5 + 1e-6)).all() and (shift.abs() <= 0.2 + 1e-6).all()
        torch.testing.assert_close(c, clouds[0] * scale + shift)
    assert not torch.allclose(seen[0][0], seen[1][0])  # the copies differ


def test_classifier_predict_with_votes_averages_logits(monkeypatch):
    torch.manual_seed(0)
    model = PointClassifier(TOK, ENC, num_classes=3, head_hidden=(16,),
                            test_cfg=dict(votes=5, num_points=20, seed=1)).eval()
    clouds = [torch.randn(24, 3), torch.randn(24, 3)]
    inputs, samples = _batch(clouds, [2, 1])
    calls = []
    original = model.logits_dense

    def spy(points, feats=None):
        assert points.shape == (2, 20, 3)  # 20 of the 24 given points per copy
        out = original(points, feats)
        calls.append(out.detach())
        return out

    monkeypatch.setattr(model, "logits_dense", spy)
    with torch.no_grad():
        preds = model(inputs, samples, mode="predict")
    mean = torch.stack(calls).mean(0)
    assert len(calls) == 5
    for i, p in enumerate(preds):
        torch.testing.assert_close(p["logits"], mean[i])
        assert p["pred_label"] == int(mean[i].argmax()) and p["gt_label"] == [2, 1][i]


# -- few-shot -------------------------------------------------------------------------------------
def test_few_shot_folds_are_disjoint_balanced_and_reproducible(tmp_path):
    rng = np.random.default_rng(0)
    train = rng.integers(0, 12, 600)
    test = rng.integers(0, 12, 400)
    folds = make_folds(train, test, way=5, shot=10, num_folds=10, query=20, seed=7)
    assert len(folds) == 10
    for f in folds:
        assert len(set(f["classes"])) == 5
        assert len(f["train"]) == len(set(f["train"])) == 50 and len(f["test"]) == len(set(f["test"])) == 100
        for c in f["classes"]:
            assert (train[f["train"]] == c).sum() == 10 and (test[f["test"]] == c).sum() == 20
        assert set(train[f["train"]]) == set(f["classes"]) == set(test[f["test"]])
    assert folds == make_folds(train, test, 5, 10, 10, 20, seed=7)
    assert folds != make_folds(train, test, 5, 10, 10, 20, seed=8)
    save_folds(str(tmp_path / "f.json"), folds, 5, 10, 7, 20)
    assert load_folds(str(tmp_path / "f.json"))["folds"] == folds
    with pytest.raises(ValueError, match="only"):
        make_folds(train, test, way=13, shot=10)
    mean, std = fold_summary([90.0, 100.0])
    assert (mean, std) == (95.0, 5.0)


def test_few_shot_dataset_renumbers_labels(tmp_path):
    import json

    from voxclip.datasets.objects import ObjectClassification

    root = tmp_path / "prep"
    root.mkdir()
    labels = {"train": np.array([0, 1, 2, 0, 1, 2]), "test": np.array([2, 1, 0])}
    for split, lab in labels.items():
        np.save(root / f"{split}_points.npy", np.random.default_rng(0).normal(size=(len(lab), 4, 3)).astype(np.float32))
        np.save(root / f"{split}_labels.npy", lab)
        (root / f"{split}_ids.json").write_text(json.dumps([f"{split}{i}" for i in range(len(lab))]))
    (root / "index.json").write_text(json.dumps(dict(classes=["a", "b", "c"], splits={"train": {}, "test": {}})))
    save_folds(str(tmp_path / "f.json"), [dict(fold=0, classes=[2, 0], train=[2, 3], test=[0, 2])], 2, 1, 0, 1)
    tr = ObjectClassification(str(root), "train", few_shot=dict(file=str(tmp_path / "f.json"), fold=0))
    te = ObjectClassification(str(root), "test", few_shot=dict(file=str(tmp_path / "f.json"), fold=0))
    assert tr.metainfo["classes"] == ("c", "a")
    assert [tr[i]["meta"]["sample_id"] for i in range(2)] == ["train2", "train3"]
    assert [tr[i]["gt_labels"].item() for i in range(2)] == [0, 1]  # class 2 -> 0, class 0 -> 1
    assert [te[i]["gt_labels"].item() for i in range(2)] == [0, 1]


# -- metric ---------------------------------------------------------------------------------------
def test_cls_metric_against_hand_computation(tmp_path):
    gt = [0, 0, 0, 1, 1, 2]
    pred = [0, 0, 1, 1, 0, 2]
    # OA = 4/6; per class 2/3, 1/2, 1/1; mAcc = (2/3 + 1/2 + 1) / 3
    s = classification_scores(pred, gt, 4)  # class 3 has no objects: left out of mAcc
    assert s["OA"] == pytest.approx(100 * 4 / 6) and s["mAcc"] == pytest.approx(100 * (2 / 3 + 0.5 + 1) / 3)
    assert np.isnan(s["per_class"][3])
    metric = ClsMetric(class_names=["a", "b", "c", "d"], topk=(1, 2), per_class=True, out_file=str(tmp_path / "r.json"))
    logits = [[3, 2, 1, 0], [3, 1, 2, 0], [1, 3, 2, 0], [0, 3, 1, 2], [3, 0, 2, 1], [0, 1, 3, 2]]
    metric.process(None, [dict(pred_label=p, gt_label=g, logits=torch.tensor(lg, dtype=torch.float), sample_id=str(i))
                          for i, (p, g, lg) in enumerate(zip(pred, gt, logits))])
    out = metric.compute_metrics(metric.results)
    assert out["OA"] == pytest.approx(100 * 4 / 6) and out["top1"] == pytest.approx(100 * 4 / 6)
    # top-2: sample 2 (gt 0, logits 1,3,2 -> rank 2) misses; sample 4 (gt 1, logit 0: rank 3) misses
    assert out["top2"] == pytest.approx(100 * 4 / 6)
    assert out["acc/b"] == pytest.approx(50.0) and "acc/d" not in out
    assert (tmp_path / "r.json").is_file()


# -- transforms -----------------------------------------------------------------------------------
def test_scale_and_translate_and_fps_sample():
    pts = np.random.default_rng(0).normal(size=(50, 3)).astype(np.float32)
    box = np.array([[0, 0, 0, 2, 2, 2, 0]], np.float32)
    out = ScaleAndTranslate(rng=np.random.default_rng(1))(dict(points=pts.copy(), gt_boxes=box.copy()))
    s, t = np.array(out["meta"]["aug"]["scale_xyz"]), np.array(out["meta"]["aug"]["translate"])
    assert ((s >= 2 / 3) & (s <= 1.5)).all() and (np.abs(t) <= 0.2).all()
    np.testing.assert_allclose(out["points"], pts * s + t, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(out["gt_boxes"][0, :6], np.r_[t, 2 * s], rtol=1e-5)
    a = FPSSample(num_points=10)(dict(points=pts.copy()))
    b = FPSSample(num_points=10)(dict(points=pts.copy()))
    np.testing.assert_array_equal(a["points"], b["points"])  # deterministic without a pool
    c = FPSSample(num_points=10, pool=20, rng=np.random.default_rng(0))(dict(points=pts.copy()))
    pool = FPSSample(num_points=20)(dict(points=pts.copy()))["points"]
    assert all(any(np.allclose(p, q) for q in pool) for p in c["points"])  # 10 of the first 20 FPS points


# -- models ---------------------------------------------------------------------------------------
def test_classifier_loads_tokenizer_and_encoder_of_a_pretraining_checkpoint(tmp_path):
    torch.manual_seed(0)
    donor = PointClassifier(TOK, ENC, num_classes=3)
    # a pretraining checkpoint's layout: mmengine state_dict with the student's tokenizer.* / encoder.*
    # plus parts the classifier does not have (a decoder, a teacher)
    state = {f"tokenizer.{k}": v for k, v in donor.tokenizer.state_dict().items()}
    state.update({f"encoder.{k}": v for k, v in donor.encoder.state_dict().items()})
    state.update({"decoder.weight": torch.zeros(2, 2), "teacher.proj.weight": torch.ones(3)})
    torch.save(dict(state_dict=state, meta=dict(epoch=1)), tmp_path / "pretrain.pth")
    torch.manual_seed(1)
    model = PointClassifier(TOK, ENC, num_classes=3, pretrained=dict(checkpoint=str(tmp_path / "pretrain.pth")))
    head_before = model.head[0].weight.clone()
    model.init_weights()
    for k, v in donor.encoder.state_dict().items():
        torch.testing.assert_close(model.encoder.state_dict()[k], v)
    for k, v in donor.tokenizer.state_dict().items():
        torch.testing.assert_close(model.tokenizer.state_dict()[k], v)
    torch.testing.assert_close(model.head[0].weight, head_before)
    missing = PointClassifier(TOK, ENC, num_classes=3, pretrained=dict(checkpoint=str(tmp_path / "none.pth"),
                                                                       producer="configs/x.py"))
    with pytest.raises(FileNotFoundError, match="tools/train.py configs/x.py"):
        missing.init_weights()


def test_classifier_trains_a_step_and_pools():
    torch.manual_seed(0)
    model = PointClassifier(TOK, ENC, num_classes=3, pooling=("cls", "max", "mean"), head_hidden=(16,))
    inputs, samples = _batch([torch.randn(30, 3) for _ in range(4)], [0, 1, 2, 1])
    model.eval()  # no dropout: 'loss' and 'tensor' see the same logits
    losses = model(inputs, samples, mode="loss")
    labels = torch.tensor([0, 1, 2, 1])
    logits = model(inputs, samples, mode="tensor")
    torch.testing.assert_close(losses["loss_cls"], F.cross_entropy(logits, labels))
    assert losses["acc"] == (logits.argmax(-1) == labels).float().mean()
    losses["loss_cls"].backward()
    assert model.tokenizer.embed.first[0].weight.grad is not None and model.cls_token.grad is not None
    x = torch.randn(2, 5, 32)
    model_pool = model.pool(x)
    torch.testing.assert_close(model_pool, torch.cat([x[:, 0], x[:, 1:].max(1).values, x[:, 1:].mean(1)], -1))
    with pytest.raises(ValueError, match="cls_token=True"):
        PointClassifier(TOK, ENC, num_classes=3, cls_token=False, pooling=("cls", "max"))


TINY_VIT = dict(embed_dim=16, vision_cfg=dict(image_size=32, patch_size=16, width=32, layers=1, head_width=16),
                text_cfg=dict(context_length=77, vocab_size=49408, width=32, heads=2, layers=1))


def test_epcl_classifier_frozen_clip_and_text_loss(tiny_clip):
    from voxclip.models.clip import TINY_RN_CLIP_CFG

    torch.manual_seed(0)
    model = EPCLClassifier(dict(TOK, embed_dim=32), clip=dict(random_init=True, model_cfg=TINY_VIT), num_classes=3,
                           num_task_tokens=4, head_hidden=(16,),
                           text_encoder=dict(type="CLIPTextEncoder", model_cfg=TINY_RN_CLIP_CFG, weights=tiny_clip),
                           class_names=["chair", "table", "lamp"])
    model.train()
    inputs, samples = _batch([torch.randn(30, 3) for _ in range(3)], [0, 1, 2])
    losses = model(inputs, samples, mode="loss")
    assert set(losses) == {"loss_cls", "acc", "loss_text"}
    (losses["loss_cls"] + losses["loss_text"]).backward()
    assert all(p.grad is None for p in model.clip.parameters())  # the CLIP transformer stays frozen
    assert model.task_tokens.embedding.weight.grad is not None and model.text_projection.weight.grad is not None
    assert not model.clip.training  # frozen CLIP stays in eval mode


def test_zero_shot_predicts_the_nearest_class_prompt(tiny_clip, tmp_path):
    from voxclip.models.clip import TINY_RN_CLIP_CFG, CLIPTextEncoder

    torch.manual_seed(0)
    names = ["chair", "table", "lamp"]
    cfg = dict(tokenizer=TOK, encoder=ENC, cls_token=False, pooling=("max", "mean"), projection_hidden=24,
               text_encoder=dict(type="CLIPTextEncoder", model_cfg=TINY_RN_CLIP_CFG, weights=tiny_clip),
               class_names=names, templates=("a {}.", "the {}."))
    donor = ZeroShotClassifier(**cfg).eval()
    # masked point distillation stage-1 layout: tokenizer.*, encoder.*, global_head.proj.*, heads.text.*
    state = {f"tokenizer.{k}": v for k, v in donor.tokenizer.state_dict().items()}
    state.update({f"encoder.{k}": v for k, v in donor.encoder.state_dict().items()})
    state.update({f"global_head.proj.{k}": v for k, v in donor.global_proj.state_dict().items()})
    state.update({f"heads.text.{k}": v for k, v in donor.text_proj.state_dict().items()})
    torch.save(dict(state_dict=state), tmp_path / "stage1.pth")
    torch.manual_seed(5)
    model = ZeroShotClassifier(**cfg, pretrained=dict(checkpoint=str(tmp_path / "stage1.pth"), parts={
        "tokenizer": "tokenizer.", "encoder": "encoder.", "global_proj": "global_head.proj.", "text_proj": "heads.text."}))
    model.eval()  # loaded at construction (tools/test.py does not call init_weights)
    clouds = [torch.randn(30, 3) for _ in range(3)]
    inputs, samples = _batch(clouds, [0, 1, 2])
    with torch.no_grad():
        preds = model(inputs, samples, mode="predict")
        # independent computation: donor's student, text features of the templates averaged
        text = CLIPTextEncoder(model_cfg=TINY_RN_CLIP_CFG, weights=tiny_clip)
        t = torch.stack([F.normalize(F.normalize(text.encode_texts([f"a {n}.", f"the {n}."]), dim=-1).mean(0), dim=0)
                         for n in names])
        feats = donor.encoder(*(lambda tok: (tok.tokens, tok.pos))(donor.tokenizer(torch.stack(clouds))))
        pooled = torch.cat([feats.max(1).values, feats.mean(1)], -1)
        p = F.normalize(donor.text_proj(donor.global_proj(pooled)), dim=-1)
        want = 100.0 * p @ t.t()
    for i, pr in enumerate(preds):
        torch.testing.assert_close(pr["logits"], want[i], rtol=1e-4, atol=1e-4)
        assert pr["pred_label"] == int(want[i].argmax())
    with pytest.raises(ValueError, match="evaluation-only"):
        model(inputs, samples, mode="loss")


def test_paper_configs_build_their_classifiers():
    """The object configs without CLIP weights build their model as configured (the CLIP ones need
    the real ViT-B/16 file); fine-tuning configs name the pretraining checkpoint and its producer."""
    from mmengine.config import Config

    from voxclip.registry import MODELS

    expect = {"configs/pointmae/cls_modelnet40.py": (40, 64, None),
              "configs/concept_align/cls_modelnet40.py": (40, 64, "configs/concept_align/pretrain_scannet_pairs.py"),
              "configs/mmpd/cls_scanobjectnn_pb_t50_rs.py": (15, 128, "configs/mmpd/stage2_scannet_pairs.py")}
    for path, (k, groups, producer) in expect.items():
        cfg = Config.fromfile(path)
        model = MODELS.build(cfg.model)
        assert model.num_classes == k and model.tokenizer.num_tokens == groups and model.encoder.depth == 12
        assert (model._pretrained_cfg or {}).get("producer") == producer
        assert sum(p.numel() for p in model.parameters()) > 20e6  # Point-MAE's 22.1 M
