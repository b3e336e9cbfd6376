"""Synthetic SUN RGB-D samples in both on-disk layouts, from one shared ground truth.

Each image: a box-shaped room, a few furniture boxes (random yaw) standing on the floor and one
object of a non-benchmark class ('lamp'), seen by a camera that is pitched down and rolled. Depth
is ray-cast per pixel, quantised to millimetres and written the way SUN RGB-D stores it (16 bits
rotated left by 3). The encoders here are written independently of data_prep.sunrgbd's decoders.

Layouts written under ``out_root``:
  raw/SUNRGBD/synth/synthdata/<folder>/{image,depth_bfx,extrinsics,annotation3Dfinal}, intrinsics.txt;
  raw/allsplit.mat; raw/SUNRGBDMeta3DBB_v2.mat (struct array, order = export ids);
  export/sunrgbd_trainval/{depth/%06d.mat, calib, label, image}, train/val_data_idx.txt.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

# Typical full sizes (dx along heading, dy, dz) in metres.
_FURNITURE = {
    "bed": (2.0, 1.5, 0.6), "table": (1.2, 0.8, 0.75), "sofa": (1.9, 0.9, 0.85),
    "chair": (0.5, 0.5, 0.9), "desk": (1.3, 0.7, 0.75), "dresser": (1.0, 0.5, 1.0),
    "night_stand": (0.45, 0.4, 0.55), "bookshelf": (0.9, 0.35, 1.8), "toilet": (0.7, 0.45, 0.8),
    "bathtub": (1.6, 0.75, 0.55),
}
_OTHER = ("lamp", (0.3, 0.3, 1.4))
WIDTH, HEIGHT = 64, 48
SPLIT_PREFIX = "/n/fs/sun3d/data/SUNRGBD/"


def _rot_x(a):
    c, s = math.cos(a), math.sin(a)
    return np.array([[1, 0, 0], [0, c, -s], [0, s, c]])


def _rot_y(a):
    c, s = math.cos(a), math.sin(a)
    return np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]])


def _rot_z(a):
    c, s = math.cos(a), math.sin(a)
    return np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]])


def _scene(rng: np.random.Generator) -> dict:
    """Camera, room and objects in the upright frame (camera at the origin, z up)."""
    cam_h = rng.uniform(1.0, 1.5)
    room = {"xmin": -rng.uniform(2.0, 3.0), "xmax": rng.uniform(2.0, 3.0), "ymin": -1.0,
            "ymax": rng.uniform(4.0, 5.0), "zmin": -cam_h, "zmax": 2.6 - cam_h}
    names = list(rng.choice(sorted(_FURNITURE), size=int(rng.integers(2, 4)), replace=False))
    objects = []
    for name in [*map(str, names), _OTHER[0]]:
        size = np.array(_FURNITURE.get(name, _OTHER[1])) * rng.uniform(0.85, 1.15, 3)
        for _ in range(100):  # rejection: bird's-eye circles must not overlap
            c = np.array([rng.uniform(-1.6, 1.6), rng.uniform(1.6, 3.6)])
            r = 0.5 * math.hypot(size[0], size[1])
            if all(np.linalg.norm(c - o["centre"][:2]) > r + o["radius"] + 0.05 for o in objects):
                break
        yaw = rng.uniform(-math.pi, math.pi)
        objects.append({"name": name, "centre": np.array([c[0], c[1], room["zmin"] + size[2] / 2]),
                        "size": size, "yaw": yaw, "radius": r})
    pitch, roll = math.radians(rng.uniform(6, 20)), math.radians(rng.uniform(-4, 4))
    K = np.array([[58.0, 0, WIDTH / 2 + 0.5], [0, 58.0, HEIGHT / 2 + 0.5], [0, 0, 1]])
    K[:2, :2] += np.diag(rng.uniform(-2, 2, 2))
    return {"cam_h": cam_h, "room": room, "objects": objects,
            "Rtilt": _rot_x(-pitch) @ _rot_y(roll), "K": K}


def _pixel_rays(K: np.ndarray, Rtilt: np.ndarray) -> np.ndarray:
    """Upright-frame rays (H*W,3), column-major pixel order, scaled so camera depth = 1."""
    cols, rows = np.meshgrid(np.arange(1, WIDTH + 1), np.arange(1, HEIGHT + 1))  # 1-based
    pix = np.stack([cols.T.ravel(), rows.T.ravel(), np.ones(WIDTH * HEIGHT)], axis=0)
    ray_cam = np.linalg.inv(K) @ pix                            # camera: x right, y down, z fwd
    ray_depth = np.stack([ray_cam[0], ray_cam[2], -ray_cam[1]])  # depth: x right, y fwd, z up
    return (Rtilt @ ray_depth).T


def _cast(scene: dict, rays: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Nearest hit distance t (camera depth) per ray and the id of the surface hit
    (0 = room, k >= 1 = object k-1)."""
    room = scene["room"]
    t_room = np.full(len(rays), np.inf)
    with np.errstate(divide="ignore", invalid="ignore"):
        for axis, lo, hi in ((0, "xmin", "xmax"), (1, "ymin", "ymax"), (2, "zmin", "zmax")):
            for bound in (room[lo], room[hi]):
                t = bound / rays[:, axis]
                t_room = np.where((t > 0) & (t < t_room), t, t_room)
    t_best, hit = t_room, np.zeros(len(rays), dtype=np.int64)
    for k, obj in enumerate(scene["objects"]):
        R = _rot_z(-obj["yaw"])
        o = R @ (-obj["centre"])
        d = rays @ R.T
        half = obj["size"] / 2
        with np.errstate(divide="ignore", invalid="ignore"):
            t1, t2 = (-half - o) / d, (half - o) / d
        t_near = np.nanmax(np.minimum(t1, t2), axis=1)
        t_far = np.nanmin(np.maximum(t1, t2), axis=1)
        ok = (t_near <= t_far) & (t_near > 0) & (t_near < t_best)
        t_best = np.where(ok, t_near, t_best)
        hit = np.where(ok, k + 1, hit)
    return t_best, hit


def encode_depth_mm(mm: np.ndarray) -> np.ndarray:
    """Millimetres -> the stored uint16 (16-bit rotate left by 3)."""
    v = mm.astype(np.uint32)
    return (((v << 3) | (v >> 13)) & 0xFFFF).astype(np.uint16)


def _polygon(obj: dict) -> dict:
    """Toolbox polygon: heading from the centre to the midpoint of p1-p2; |p2-p3| = dx."""
    c, (dx, dy, dz), yaw = obj["centre"], obj["size"], obj["yaw"]
    h, n = np.array([math.cos(yaw), math.sin(yaw)]), np.array([-math.sin(yaw), math.cos(yaw)])
    pts = [c[:2] + h * dx / 2 + n * dy / 2, c[:2] + h * dx / 2 - n * dy / 2,
           c[:2] - h * dx / 2 - n * dy / 2, c[:2] - h * dx / 2 + n * dy / 2]
    # annotation frame: X = x, Z = y, Y = -z (Y points down, so Ymin is the top)
    return {"X": [float(p[0]) for p in pts], "Z": [float(p[1]) for p in pts],
            "Ymin": float(-(c[2] + dz / 2)), "Ymax": float(-(c[2] - dz / 2)), "rectangle": True}


def _box2d(obj: dict, K: np.ndarray, Rtilt: np.ndarray) -> list[int]:
    corners = []
    for sx in (-1, 1):
        for sy in (-1, 1):
            for sz in (-1, 1):
                local = obj["size"] / 2 * np.array([sx, sy, sz])
                corners.append(obj["centre"] + _rot_z(obj["yaw"]) @ local)
    p_depth = Rtilt.T @ np.array(corners).T
    p_cam = np.stack([p_depth[0], -p_depth[2], p_depth[1]])
    uv = (K @ p_cam)[:2] / p_cam[2]
    x0, y0 = np.floor(uv.min(axis=1)).astype(int)
    x1, y1 = np.ceil(uv.max(axis=1)).astype(int)
    return [int(x0), int(y0), int(x1 - x0), int(y1 - y0)]


def _image(scene: dict, hit: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    palette = rng.integers(40, 230, size=(len(scene["objects"]) + 1, 3))
    rgb = palette[hit] + rng.integers(-12, 13, size=(len(hit), 3))
    img = np.clip(rgb, 0, 255).astype(np.uint8)
    return img.reshape(WIDTH, HEIGHT, 3).transpose(1, 0, 2)  # column-major order -> (H,W,3)


def make_sunrgbd_demo(out_root: str | Path, num_images: int = 4, seed: int = 0,
                      layouts: tuple[str, ...] = ("raw", "export")) -> dict:
    """Write ``num_images`` synthetic images in the requested layouts; return the ground truth.

    Returns ``{"raw": Path | None, "export": Path | None, "samples": [...]}``; each sample has
    ``id`` ('%06d', 1-based), ``folder`` (raw key), ``split``, ``boxes`` float64 (M,7) project
    convention, ``class_names`` (M,) and ``dropped`` ({'lamp': 1}) for the benchmark classes.
    """
    from PIL import Image
    import scipy.io

    out_root = Path(out_root)
    raw_root, export_root = out_root / "raw", out_root / "export" / "sunrgbd_trainval"
    samples, split_lists, depth_paths = [], {"train": [], "val": []}, []
    for i in range(num_images):
        rng = np.random.default_rng([seed, i])
        scene = _scene(rng)
        rays = _pixel_rays(scene["K"], scene["Rtilt"])
        t, hit = _cast(scene, rays)
        mm = np.round(t * 1000.0)
        mm[rng.random(len(mm)) < 0.02] = 0  # sensor holes
        sid, split = f"{i + 1:06d}", ("val" if i % 3 == 2 else "train")
        folder = f"synth/synthdata/{i:04d}_room"
        img = _image(scene, hit, rng)
        gt = [o for o in scene["objects"] if o["name"] in _FURNITURE]
        samples.append({"id": sid, "folder": folder, "split": split,
                        "boxes": np.array([[*o["centre"], *o["size"], o["yaw"]] for o in gt]),
                        "class_names": [str(o["name"]) for o in gt], "dropped": {_OTHER[0]: 1},
                        "scene": scene})
        split_lists[split].append((sid, folder))
        depth_png = encode_depth_mm(mm).reshape(WIDTH, HEIGHT).T  # (H,W)

        if "raw" in layouts:
            d = raw_root / "SUNRGBD" / folder
            for sub in ("image", "depth_bfx", "extrinsics", "annotation3Dfinal"):
                (d / sub).mkdir(parents=True, exist_ok=True)
            Image.fromarray(img).save(d / "image" / f"{i:07d}.jpg", quality=95)
            Image.fromarray(depth_png).save(d / "depth_bfx" / f"{i:07d}.png")
            depth_paths.append(f"{SPLIT_PREFIX}{folder}/depth_bfx/{i:07d}.png")
            (d / "intrinsics.txt").write_text(
                "\n".join(" ".join(f"{v:.10g}" for v in row) for row in scene["K"]) + "\n")
            A = np.array([[1.0, 0, 0], [0, 0, 1], [0, -1, 0]])
            E = A.T @ scene["Rtilt"] @ A  # rotation in the annotation frame (y down)
            # Two extrinsics files: the toolbox uses the last one in name order.
            (d / "extrinsics" / "20140101000000.txt").write_text("1 0 0 0\n0 1 0 0\n0 0 1 0\n")
            (d / "extrinsics" / "20150101000000.txt").write_text(
                "\n".join(" ".join(f"{v:.12g}" for v in [*row, 0.0]) for row in E) + "\n")
            objs = []
            for o in scene["objects"]:
                name = "chair:office chair" if o["name"] == "chair" else o["name"]
                objs.append({"name": name, "polygon": [_polygon(o)]})
            objs.insert(1, None)  # the toolbox skips empty entries
            doc = {"name": folder, "date": "synthetic", "objects": objs}
            (d / "annotation3Dfinal" / "index.json").write_text(json.dumps(doc))

        if "export" in layouts:
            for sub in ("depth", "calib", "label", "image"):
                (export_root / sub).mkdir(parents=True, exist_ok=True)
            Image.fromarray(img).save(export_root / "image" / f"{sid}.jpg", quality=95)
            # Colours as the toolbox gets them: from the decoded JPEG.
            with Image.open(export_root / "image" / f"{sid}.jpg") as im:
                rgb = np.asarray(im.convert("RGB"), dtype=np.float64) / 255.0
            valid = mm > 0
            pts = rays[valid] * (mm[valid] / 1000.0)[:, None]
            cols = rgb.transpose(1, 0, 2).reshape(-1, 3)[valid]
            scipy.io.savemat(export_root / "depth" / f"{sid}.mat",
                             {"instance": np.concatenate([pts, cols], axis=1)})
            with open(export_root / "calib" / f"{sid}.txt", "w") as f:
                f.write(" ".join(f"{v:.10g}" for v in scene["Rtilt"].ravel(order="F")) + "\n")
                f.write(" ".join(f"{v:.10g}" for v in scene["K"].ravel(order="F")) + "\n")
            with open(export_root / "label" / f"{sid}.txt", "w") as f:
                for o in scene["objects"]:
                    (dx, dy, dz), c = o["size"], o["centre"]
                    b2 = _box2d(o, scene["K"], scene["Rtilt"])
                    # half sizes w (across heading), l (along heading), h; orientation vector
                    f.write(f"{o['name']} {b2[0]} {b2[1]} {b2[2]} {b2[3]} {c[0]:f} {c[1]:f} "
                            f"{c[2]:f} {dy / 2:f} {dx / 2:f} {dz / 2:f} {math.cos(o['yaw']):f} "
                            f"{math.sin(o['yaw']):f}\n")

    if "raw" in layouts:
        cells = {k: np.array([f"{SPLIT_PREFIX}{f}" + ("/" if j % 2 else "") for j, (_, f)
                              in enumerate(v)], dtype=object).reshape(-1, 1)
                 for k, v in split_lists.items()}
        scipy.io.savemat(raw_root / "allsplit.mat", {"alltrain": cells["train"],
                                                      "alltest": cells["val"]})
        meta = np.zeros((1, num_images), dtype=[("sequenceName", object), ("depthpath", object)])
        for j, s in enumerate(samples):
            meta[0, j] = (f"SUNRGBD/{s['folder']}", depth_paths[j])
        scipy.io.savemat(raw_root / "SUNRGBDMeta3DBB_v2.mat", {"SUNRGBDMeta": meta})
    if "export" in layouts:
        for k, name in (("train", "train_data_idx.txt"), ("val", "val_data_idx.txt")):
            (export_root / name).write_text("".join(f"{int(s)}\n" for s, _ in split_lists[k]))
    return {"raw": raw_root if "raw" in layouts else None,
            "export": export_root if "export" in layouts else None, "samples": samples}
