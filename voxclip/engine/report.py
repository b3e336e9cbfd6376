"""Human-readable detection results: a per-class AP table ending in the mAP line."""
from __future__ import annotations


def _lookup(metrics: dict, thr: str, name: str):
    for key in (f"AP@{thr}/{name}", f"{name}_AP@{thr}", f"AP@{thr}_{name}"):
        for full_key, value in metrics.items():
            if full_key.split("/", 1)[-1] == key or full_key == key:
                return value
    return None


def _map(metrics: dict, thr: str) -> float:
    for key, value in metrics.items():
        if key.split("/")[-1] == f"mAP@{thr}":
            return float(value)
    raise KeyError(f"mAP@{thr} not in metrics: {sorted(metrics)}")


def format_detection_table(metrics: dict, class_names) -> str:
    """Per-class AP@0.25 / AP@0.5 rows (classes without ground truth show '-'), then the mAP line."""
    width = max(len("class"), *(len(n) for n in class_names))
    lines = [f"{'class':<{width}}  AP@0.25  AP@0.5", "-" * (width + 17)]
    for name in class_names:
        a25, a50 = _lookup(metrics, "0.25", name), _lookup(metrics, "0.5", name)
        fmt = lambda v: "      -" if v is None else f"{float(v):7.4f}"  # noqa: E731
        lines.append(f"{name:<{width}}  {fmt(a25)}  {fmt(a50)}")
    lines.append("-" * (width + 17))
    lines.append(f"mAP@0.25: {_map(metrics, '0.25'):.4f}  mAP@0.5: {_map(metrics, '0.5'):.4f}")
    return "\n".join(lines)
