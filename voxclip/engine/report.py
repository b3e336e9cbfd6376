"""Human-readable results: per-class tables ending in the headline line (mAP for detection,
mIoU for segmentation, AP for instance segmentation)."""
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


def format_segmentation_table(metrics: dict, class_names) -> str:
    """Per-class IoU rows (classes without ground truth show '-'), then `mIoU: X  mAcc: Y  aAcc: Z`."""
    width = max(len("class"), *(len(n) for n in class_names))
    lines = [f"{'class':<{width}}      IoU", "-" * (width + 9)]
    for name in class_names:
        v = metrics.get(f"IoU/{name}")
        lines.append(f"{name:<{width}}  " + ("      -" if v is None or v != v else f"{float(v):7.4f}"))
    lines.append("-" * (width + 9))
    lines.append("  ".join(f"{k}: {float(metrics[k]):.4f}" for k in ("mIoU", "mAcc", "aAcc") if k in metrics))
    return "\n".join(lines)


def format_instance_table(metrics: dict, class_names) -> str:
    """Per-class instance AP / AP@0.5 / AP@0.25 (+ Prec / Rec for S3DIS) rows, then the headline line."""
    cols = [c for c in ("AP", "AP@0.5", "AP@0.25", "Prec", "Rec") if f"{c}/{class_names[0]}" in metrics]
    width = max(len("class"), *(len(n) for n in class_names))
    head = f"{'class':<{width}}" + "".join(f"  {c:>7s}" for c in cols)
    lines = [head, "-" * len(head)]
    for name in class_names:
        vals = [metrics.get(f"{c}/{name}") for c in cols]
        lines.append(f"{name:<{width}}" + "".join("        -" if v is None or v != v else f"  {float(v):7.4f}"
                                                   for v in vals))
    lines.append("-" * len(head))
    lines.append("  ".join(f"{k}: {float(metrics[k]):.4f}" for k in ("AP", "AP@0.5", "AP@0.25", "mPrec", "mRec")
                           if k in metrics))
    return "\n".join(lines)


def format_results_table(metrics: dict, class_names) -> str:
    """The table for whatever the evaluator computed: detection, segmentation, instance
    segmentation, or a plain listing."""
    if any(k.split("/")[-1] == "mAP@0.25" for k in metrics):
        return format_detection_table(metrics, class_names)
    if "AP@0.5" in metrics and "AP@0.25" in metrics and class_names:
        return format_instance_table(metrics, class_names)
    if "mIoU" in metrics:
        return format_segmentation_table(metrics, class_names)
    return "\n".join(f"{k}: {v}" for k, v in sorted(metrics.items()))


def format_expected(metrics: dict, expected: dict) -> str:
    """The measured range a demo config records (`expected_result = dict(ranges={name: (low, high)},
    measured=...)`) beside this run's figures, flagging any figure outside it."""
    parts, outside = [], []
    for name, (low, high) in expected["ranges"].items():
        parts.append(f"{name} {float(low):.2f}-{float(high):.2f}")
        value = next((float(v) for k, v in metrics.items() if k.split("/")[-1] == name), None)
        if value is not None and not float(low) <= value <= float(high):
            outside.append(f"{name} {value:.4f}")
    line = f"expected ({expected.get('measured', 'measured range')}): " + "  ".join(parts)
    if outside:
        line += f"\nOUTSIDE the measured range: {', '.join(outside)} (a different seed, thread count or code?)"
    return line
