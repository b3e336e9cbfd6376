"""PointGroup instance segmentation on a sparse voxel backbone (SR-UNet, optionally Text4Point-guided).

Point features (the backbone's voxel features at each point) feed a semantic branch and an offset
branch; same-class points are grouped by radius on the original and on the shifted coordinates;
ScoreNet scores each cluster; NMS keeps the final instances. Constants: docs/instance_segmentation.md.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from mmengine.model import BaseModel
from torch import nn

from voxclip.models.heads.pointgroup import (ScoreNet, cluster_ious, cluster_proposals, cluster_voxels,
                                             instance_offsets, mask_nms, offset_losses, score_targets)
from voxclip.models.text4point.guidance import Text4PointGuidedMixin
from voxclip.registry import MODELS

# PointGroup's released ScanNet settings (config pointgroup_run1_scannet.yaml)
_CLUSTER = dict(radius=0.03, shift_radius=0.03, min_points=50, ignore_classes=())
_SCORE = dict(width=16, scale=50.0, full_scale=14, fg_thresh=0.75, bg_thresh=0.25, start_iter=0)
_TEST = dict(score_thr=0.09, min_points=100, nms_iou=0.3)
_WEIGHTS = dict(semantic=1.0, offset_norm=1.0, offset_dir=1.0, score=1.0)


def _merge(name: str, defaults: dict, given: dict | None) -> dict:
    unknown = set(given or {}) - set(defaults)
    if unknown:
        raise ValueError(f"PointGroup: unknown {name} keys {sorted(unknown)} (have {sorted(defaults)})")
    return {**defaults, **(given or {})}


@MODELS.register_module()
class PointGroup(Text4PointGuidedMixin, BaseModel):
    """Args:
        backbone: SRUNet / Text4PointSRUNet config; text, aux_loss: as SparseSegmentor.
        num_classes: K semantic classes (labels ``semantic``, -1 ignore); instance ids ``instance``
            (<= 0 = none: ScanNet's 0, S3DIS never 0).
        cluster: radius / shift_radius (metres; shift_radius None = original coordinates only),
            min_points, ignore_classes (classes never grouped and without instances, e.g. ScanNet
            wall and floor).
        score: ScoreNet width, scale, full_scale, fg/bg thresholds, start_iter (training iterations
            before the score loss starts: PointGroup's prepare_epochs).
        test_cfg: score_thr, min_points, nms_iou. loss_weights: semantic, offset_norm, offset_dir, score.

    forward(..., 'predict') -> per sample dict(pred_instances=dict(masks (P, N) bool, labels, scores),
    pred_semantic, gt_semantic, gt_instance (-1 none), meta).
    """

    def __init__(self, backbone: dict, num_classes: int, in_channels: int | None = None, text: dict | None = None,
                 aux_loss: dict | None = None, cluster: dict | None = None, score: dict | None = None,
                 test_cfg: dict | None = None, loss_weights: dict | None = None, ignore_index: int = -1,
                 data_preprocessor: dict | None = None, init_cfg: dict | None = None):
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self._build_guided_backbone(backbone, text, aux_loss)
        c = int(in_channels if in_channels is not None else backbone.get("out_channels"))
        self.num_classes, self.ignore_index = int(num_classes), int(ignore_index)
        self.cluster_cfg = _merge("cluster", _CLUSTER, cluster)
        self.score_cfg = _merge("score", _SCORE, score)
        self.test_cfg = _merge("test_cfg", _TEST, test_cfg)
        self.loss_weights = _merge("loss_weights", _WEIGHTS, loss_weights)
        self.semantic_head = nn.Linear(c, self.num_classes)
        self.offset_head = nn.Sequential(nn.Linear(c, c), nn.BatchNorm1d(c), nn.ReLU(inplace=True), nn.Linear(c, 3))
        self.scorenet = ScoreNet(c, self.score_cfg["width"])
        self.register_buffer("train_iter", torch.zeros((), dtype=torch.int64))  # saved: resume keeps it

    # -- pieces ---------------------------------------------------------------------------------
    def _targets(self, sample: dict, device) -> tuple[torch.Tensor, torch.Tensor]:
        for key in ("semantic", "instance"):
            if key not in sample:
                raise KeyError(f"PointGroup: data samples need per-point '{key}' (load the dataset with "
                               f"with_instance=True / with_semantic=True)")
        sem = torch.as_tensor(sample["semantic"]).reshape(-1).long().to(device)
        inst = torch.as_tensor(sample["instance"]).reshape(-1).long().to(device)
        inst = torch.where(inst > 0, inst, torch.full_like(inst, -1))
        no_inst = (sem == self.ignore_index)
        for c in self.cluster_cfg["ignore_classes"]:
            no_inst |= sem == int(c)
        return sem, torch.where(no_inst, torch.full_like(inst, -1), inst)

    def _proposals(self, points, offsets, sem_pred, batch, n):
        cfg = self.cluster_cfg
        pi, ci, labels, owner, base = [], [], [], [], 0
        for b in range(n):
            rows = torch.nonzero(batch == b).squeeze(1)
            p, c, lab = cluster_proposals(points[rows], offsets[rows], sem_pred[rows], cfg["radius"],
                                          cfg["shift_radius"], cfg["min_points"], cfg["ignore_classes"])
            pi.append(rows[p])
            ci.append(c + base)
            labels.append(lab)
            owner.append(torch.full_like(lab, b))
            base += len(lab)
        return torch.cat(pi), torch.cat(ci), torch.cat(labels), torch.cat(owner)

    def _score_logits(self, points, point_feats, point_idx, cluster_idx, num_clusters):
        cfg = self.score_cfg
        x = cluster_voxels(points, point_feats, point_idx, cluster_idx, cfg["scale"], cfg["full_scale"])
        return self.scorenet(x, num_clusters)

    # -- forward --------------------------------------------------------------------------------
    def forward(self, inputs: dict, data_samples: list | None = None, mode: str = "tensor"):
        if mode not in ("tensor", "loss", "predict"):
            raise ValueError(f"PointGroup: unknown mode {mode!r} (expected 'tensor', 'loss' or 'predict')")
        voxel_feats, out, text = self._backbone_features(inputs)
        point_feats = voxel_feats[inputs["inverse"]]
        sem_logits, offsets = self.semantic_head(point_feats), self.offset_head(point_feats)
        if mode == "tensor":
            return sem_logits, offsets
        points, batch = inputs["points"], inputs["point_batch"]
        n = len(data_samples) if data_samples else int(batch.max()) + 1
        if mode == "loss":
            return self._loss(inputs, data_samples, out, text, point_feats, sem_logits, offsets)
        return self._predict(points, batch, n, point_feats, sem_logits, offsets, data_samples)

    def _loss(self, inputs, data_samples, out, text, point_feats, sem_logits, offsets) -> dict:
        if not data_samples:
            raise ValueError("PointGroup: mode='loss' needs data_samples with 'semantic' and 'instance'")
        points, batch, w = inputs["points"], inputs["point_batch"], self.loss_weights
        sem, inst, gt_off, valid = [], [], torch.zeros_like(points), torch.zeros(len(points), dtype=torch.bool,
                                                                                  device=points.device)
        for b, sample in enumerate(data_samples):
            rows = torch.nonzero(batch == b).squeeze(1)
            s, i = self._targets(sample, points.device)
            if len(s) != len(rows):
                raise ValueError(f"PointGroup: sample {b} has {len(s)} labels for {len(rows)} points")
            gt_off[rows], valid[rows] = instance_offsets(points[rows], i)
            sem.append(s)
            inst.append(i + (b << 32) * (i >= 0))  # ids unique across the batch
        sem, inst = torch.cat(sem), torch.cat(inst)
        if bool((sem != self.ignore_index).any()):
            loss_sem = F.cross_entropy(sem_logits, sem, ignore_index=self.ignore_index)
        else:
            loss_sem = sem_logits.sum() * 0.0
        l1, direction = offset_losses(offsets, gt_off, valid)
        losses = {"loss_semantic": loss_sem * w["semantic"], "loss_offset_norm": l1 * w["offset_norm"],
                  "loss_offset_dir": direction * w["offset_dir"]}
        if int(self.train_iter) >= int(self.score_cfg["start_iter"]):
            losses["loss_score"] = self._score_loss(points, batch, len(data_samples), point_feats, sem_logits,
                                                    offsets, inst) * w["score"]
        self.train_iter += 1
        losses.update(self._text_aux_losses(out, text, inputs, data_samples))
        return losses

    def _score_loss(self, points, batch, n, point_feats, sem_logits, offsets, inst) -> torch.Tensor:
        pi, ci, _, _ = self._proposals(points, offsets.detach(), sem_logits.detach().argmax(1), batch, n)
        num = int(ci.max()) + 1 if len(ci) else 0
        if num == 0 or len(pi) < 2:  # nothing to score (early training): keep the graph, add nothing
            return point_feats.sum() * 0.0
        logits = self._score_logits(points, point_feats, pi, ci, num)
        target = score_targets(cluster_ious(pi, ci, inst, num), self.score_cfg["fg_thresh"],
                               self.score_cfg["bg_thresh"])
        return F.binary_cross_entropy_with_logits(logits, target)

    @torch.no_grad()
    def _predict(self, points, batch, n, point_feats, sem_logits, offsets, data_samples) -> list[dict]:
        sem_pred = sem_logits.argmax(1)
        pi, ci, labels, owner = self._proposals(points, offsets, sem_pred, batch, n)
        num = len(labels)
        scores = torch.sigmoid(self._score_logits(points, point_feats, pi, ci, num)) if num else torch.zeros(0)
        size = torch.bincount(ci, minlength=num)
        cfg, results = self.test_cfg, []
        for b in range(n):
            rows = torch.nonzero(batch == b).squeeze(1).cpu()
            local = torch.full((len(batch),), -1, dtype=torch.int64)
            local[rows] = torch.arange(len(rows))
            cand = torch.nonzero((owner == b) & (scores.to(owner.device) > cfg["score_thr"])
                                 & (size >= cfg["min_points"])).squeeze(1).cpu()
            sel = torch.isin(ci.cpu(), cand)
            remap = torch.full((max(num, 1),), -1, dtype=torch.int64)
            remap[cand] = torch.arange(len(cand))
            p_local, c_local = local[pi.cpu()[sel]], remap[ci.cpu()[sel]]
            keep = mask_nms(p_local, c_local, scores.cpu()[cand], len(rows), cfg["nms_iou"])
            masks = torch.zeros(len(cand), len(rows), dtype=torch.bool)
            masks[c_local, p_local] = True
            item = dict(pred_instances=dict(masks=masks[keep], labels=labels.cpu()[cand][keep],
                                            scores=scores.cpu()[cand][keep]),
                        pred_semantic=sem_pred[rows.to(sem_pred.device)].cpu())
            if data_samples:
                sample = data_samples[b]
                if "semantic" in sample and "instance" in sample:
                    s, i = self._targets(sample, "cpu")
                    item.update(gt_semantic=s, gt_instance=i)
                if "meta" in sample:
                    item["meta"] = sample["meta"]
            results.append(item)
        return results
