"""Parameter summary: trainable vs frozen counts, per top-level module."""
from __future__ import annotations

from torch import nn

__all__ = ["summarize_parameters", "format_parameter_summary"]


def summarize_parameters(model: nn.Module) -> dict:
    """{'trainable': int, 'frozen': int, 'total': int, 'modules': {name: {'trainable', 'frozen'}}}.

    Shared parameters are counted once (first owner in named_parameters order).
    """
    modules: dict[str, dict[str, int]] = {}
    trainable = frozen = 0
    for name, p in model.named_parameters():  # named_parameters de-duplicates shared tensors
        top = name.split(".", 1)[0]
        entry = modules.setdefault(top, {"trainable": 0, "frozen": 0})
        key = "trainable" if p.requires_grad else "frozen"
        entry[key] += p.numel()
        if p.requires_grad:
            trainable += p.numel()
        else:
            frozen += p.numel()
    return {"trainable": trainable, "frozen": frozen, "total": trainable + frozen, "modules": modules}


def format_parameter_summary(summary: dict) -> str:
    lines = [f"{'module':<24}{'trainable':>14}{'frozen':>14}"]
    for name, e in summary["modules"].items():
        lines.append(f"{name:<24}{e['trainable']:>14,}{e['frozen']:>14,}")
    lines.append(f"{'total':<24}{summary['trainable']:>14,}{summary['frozen']:>14,}")
    return "\n".join(lines)
