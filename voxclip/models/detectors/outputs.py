"""The predict-mode output shared by the detectors: predictions plus the sample's ground truth."""
from __future__ import annotations

import torch


def predictions_with_ground_truth(results: list, data_samples: list | None) -> list:
    """One dict per sample: the head's boxes/labels/scores on the CPU, plus gt_boxes, gt_labels
    (and meta) copied from the sample, so that metrics need nothing else."""
    out = []
    for i, res in enumerate(results):
        item = {k: v.cpu() for k, v in res.items()}
        if data_samples is not None:
            sample = data_samples[i]
            item["gt_boxes"] = torch.as_tensor(sample["gt_boxes"]).cpu()
            item["gt_labels"] = torch.as_tensor(sample["gt_labels"]).cpu()
            if "meta" in sample:
                item["meta"] = sample["meta"]
        out.append(item)
    return out
