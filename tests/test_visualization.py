"""Pictures and .ply files: open what the drawing code writes and check the content."""
import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.image import imread

from voxclip.visualization import BoxSet, SceneView, class_colors, figure_bev, figure_pr_sheet, write_scene_ply
from voxclip.visualization.scene import figure_segmentation, save_figure

WHITE = np.ones(3)


def _pixel(img, fig, ax, xy):
    """RGB of the saved PNG at data point xy, located through matplotlib's own transform."""
    FigureCanvasAgg(fig).draw()
    x, y = ax.transData.transform(xy)
    h = img.shape[0]
    return img[int(round(h - y)), int(round(x)), :3]


def _near(img, fig, ax, xy, r=2):
    FigureCanvasAgg(fig).draw()
    x, y = ax.transData.transform(xy)
    r0, c0 = int(round(img.shape[0] - y)), int(round(x))
    return img[r0 - r:r0 + r + 1, c0 - r:c0 + r + 1, :3].reshape(-1, 3)


def test_bev_draws_oriented_box_edges_in_class_colour(tmp_path):
    # A box rotated by 90 degrees: its long side (dx = 2) runs along y; no points inside.
    pts = np.array([[0, 0, 0], [10, 10, 1]], float)
    gt = BoxSet(np.zeros((0, 7)), np.zeros(0))
    pred = BoxSet([[5.0, 5.0, 0.5, 2.0, 1.0, 1.0, np.pi / 2]], [3], [0.9])
    fig = figure_bev(SceneView(pts, None, gt=gt, pred=pred, class_names=list("abcd")))
    path = save_figure(fig, str(tmp_path / "bev.png"))
    img = imread(path)
    assert img.shape[:2] == (660, 825)  # 7.5 x 6 in at 110 dpi
    ax = fig.axes[0]
    colour = class_colors(4)[3]
    # rotated: corners at x = 5 +- 0.5, y = 5 +- 1. Edge midpoints (4.5, 5) and (5, 6) are on the outline.
    for xy in ((4.5, 5.0), (5.5, 5.0), (5.0, 4.0), (5.0, 6.0)):
        near = _near(img, fig, ax, xy)
        assert np.abs(near - colour).sum(1).min() < 0.15, xy
    # where an unrotated box would have its corner edge (x = 6) nothing is drawn
    assert np.allclose(_near(img, fig, ax, (6.0, 4.6)), WHITE, atol=0.02)
    assert np.allclose(_pixel(img, fig, ax, (2.0, 8.0)), WHITE, atol=0.02)


def test_ply_holds_points_corners_and_edges(tmp_path):
    from plyfile import PlyData

    pts = np.random.default_rng(0).uniform(0, 3, (50, 3))
    cols = np.full((50, 3), 200, np.uint8)
    gt = BoxSet([[1, 1, 1, 2, 4, 6, 0.0]], [0])
    pred = BoxSet([[0, 0, 0, 2, 2, 2, np.pi / 2], [1, 1, 1, 1, 1, 1, 0]], [1, 2], [0.5, 0.7])
    counts = write_scene_ply(str(tmp_path / "s.ply"), pts, cols, [(gt, (0, 0, 0)), (pred, None)], num_classes=3)
    ply = PlyData.read(str(tmp_path / "s.ply"))
    v, e = ply["vertex"], ply["edge"]
    assert v.count == 50 + 3 * 8 and e.count == 3 * 12 and counts["vertices"] == v.count
    xyz = np.stack([v["x"], v["y"], v["z"]], 1)
    assert np.allclose(xyz[:50], pts, atol=1e-6) and (v["red"][:50] == 200).all()
    # ground-truth corners: hand-worked centre +- half size, black
    gtc = xyz[50:58]
    assert np.allclose(np.sort(np.unique(gtc[:, 0].round(5))), [0, 2])
    assert np.allclose(np.sort(np.unique(gtc[:, 1].round(5))), [-1, 3])
    assert np.allclose(np.sort(np.unique(gtc[:, 2].round(5))), [-2, 4])
    assert (v["red"][50:58] == 0).all()
    # each edge joins two corners of the same box that differ along exactly one axis by that size
    ends = np.stack([e["vertex1"], e["vertex2"]], 1)
    assert ((ends >= 50) & (ends < 74)).all() and ((ends[:, 0] - 50) // 8 == (ends[:, 1] - 50) // 8).all()
    d = np.abs(xyz[ends[:12, 0]] - xyz[ends[:12, 1]])
    assert ((d > 1e-4).sum(1) == 1).all() and sorted(np.round(d.max(1), 4).tolist()) == [2] * 4 + [4] * 4 + [6] * 4


def test_pr_sheet_has_one_plot_per_class_with_ground_truth(tmp_path):
    from voxclip.evaluation.indoor_map import indoor_map

    cube = lambda x: [x, 0, 0, 1, 1, 1, 0]  # noqa: E731
    preds = [dict(boxes=np.array([cube(0), cube(5)], float), labels=np.array([0, 1]), scores=np.array([0.9, 0.3]))]
    gts = [dict(boxes=np.array([cube(0), cube(5), cube(9)], float), labels=np.array([0, 1, 2]))]
    fig = figure_pr_sheet(indoor_map(preds, gts, ["a", "b", "c", "d"]))
    titles = sorted(ax.get_title() for ax in fig.axes)
    assert titles == ["a", "b", "c"]  # d has no ground truth
    img = imread(save_figure(fig, str(tmp_path / "sheet.png")))
    assert img.shape[1] == 3 * 260 and (img[..., :3] < 0.9).any()


def test_segmentation_side_by_side_colours_by_label(tmp_path):
    g = np.stack(np.meshgrid(np.linspace(0, 4, 120), np.linspace(0, 4, 120)), -1).reshape(-1, 2)
    pts = np.concatenate([g, np.zeros((len(g), 1))], 1)
    pred = np.where(pts[:, 0] < 2, 0, 1)
    gt = np.where(pts[:, 1] < 2, 2, -1)  # upper half ignored (grey)
    fig = figure_segmentation(pts, pred, gt, ["a", "b", "c"])
    img = imread(save_figure(fig, str(tmp_path / "seg.png")))
    left, right = fig.axes[0], fig.axes[1]
    pal = class_colors(3)
    assert np.allclose(_pixel(img, fig, left, (1.0, 1.0)), pal[0], atol=0.05)
    assert np.allclose(_pixel(img, fig, left, (3.0, 1.0)), pal[1], atol=0.05)
    assert np.allclose(_pixel(img, fig, right, (1.0, 1.0)), pal[2], atol=0.05)
    assert np.allclose(_pixel(img, fig, right, (1.0, 3.0)), 0.6, atol=0.05)


def test_boxset_rejects_mismatched_lengths():
    with pytest.raises(ValueError, match="2 boxes, 1 labels"):
        BoxSet(np.zeros((2, 7)), [0])


# ---------------------------------------------------------------- tools/visualize.py
def test_visualize_tool_prepared_scenes_and_saved_predictions(prepared_scannet, tmp_path):
    import pickle
    import sys
    from pathlib import Path

    from plyfile import PlyData

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
    import visualize

    scenes = sorted((prepared_scannet / "splits" / "val.txt").read_text().split())
    scene = scenes[0]
    n = len(np.load(prepared_scannet / "scans" / scene / "coord.npy"))
    gt = np.load(prepared_scannet / "scans" / scene / "boxes.npy")
    written = visualize.main([str(prepared_scannet), "--scenes", scene, "--out", str(tmp_path / "a"), "--color", "label"])
    assert sorted(Path(p).name for p in written) == [f"{scene}.ply", f"{scene}_bev.png", f"{scene}_persp.png"]
    assert PlyData.read(str(tmp_path / "a" / f"{scene}.ply"))["vertex"].count == n + 8 * len(gt)
    # a detection pickle as tools/test.py --out writes it: two predictions, one under the score threshold
    pred = dict(boxes=gt[:2].copy(), labels=np.array([0, 1]), scores=np.array([0.9, 0.05]))
    pkl = tmp_path / "det.pkl"
    pkl.write_bytes(pickle.dumps({"predictions": [pred], "ground_truths": [
        dict(boxes=gt, labels=np.load(prepared_scannet / "scans" / scene / "box_labels.npy"), scene_id=scene)],
        "result": {}}))
    visualize.main([str(prepared_scannet), "--predictions", str(pkl), "--out", str(tmp_path / "b")])
    assert PlyData.read(str(tmp_path / "b" / f"{scene}.ply"))["vertex"].count == n + 8 * (len(gt) + 1)
    img = imread(tmp_path / "b" / f"{scene}_bev.png")
    assert (img[..., :3] < 0.9).any(axis=-1).mean() > 0.05
    # a segmentation pickle (SegMetric out_file, with the labelled points)
    pts = np.random.default_rng(0).uniform(0, 3, (500, 3))
    seg = tmp_path / "seg.pkl"
    seg.write_bytes(pickle.dumps({"samples": [dict(scene_id=scene, points=pts, pred_semantic=np.zeros(500, int),
                                                   gt_semantic=np.ones(500, int))], "class_names": ["a", "b"]}))
    out = visualize.main([str(prepared_scannet), "--predictions", str(seg), "--out", str(tmp_path / "c")])
    assert [Path(p).name for p in out] == [f"{scene}_seg.png", f"{scene}_seg.ply"]
    # anything but arrays and plain data is refused
    import os

    bad = tmp_path / "bad.pkl"
    bad.write_bytes(pickle.dumps({"samples": [os.getcwd], "x": 1}))
    with pytest.raises(ValueError, match="holds posix.getcwd"):
        visualize.main([str(prepared_scannet), "--predictions", str(bad)])


class _ReloadableScenes:
    """What ShowResultsHook needs of a dataset: metainfo, per-index infos, load_sample."""
    metainfo = {"classes": ("chair", "table")}

    def __init__(self, n, broken=None):
        self.n, self.broken = n, broken

    def __len__(self):
        return self.n

    def get_data_info(self, idx):
        return {"scene_id": f"scene{idx:04d}_00", "idx": idx}

    def load_sample(self, info):
        if info["scene_id"] == self.broken:
            raise ValueError(f"{info['scene_id']}/coord.npy: truncated")
        rng = np.random.default_rng(info["idx"])
        return {"points": rng.uniform(0, 4, (800, 3)), "colors": rng.integers(0, 256, (800, 3)).astype(np.uint8)}


def _run_hook(tmp_path, name, workers, dataset):
    import logging
    from types import SimpleNamespace

    from voxclip.visualization import ShowResultsHook

    hook = ShowResultsHook(str(tmp_path / name), workers=workers)
    runner = SimpleNamespace(test_dataloader=SimpleNamespace(dataset=dataset), logger=logging.getLogger("test"))
    hook.before_test(runner)
    for b in range(len(dataset)):
        box = np.array([[1.0 + 0.3 * b, 2.0, 0.5, 1.0, 0.8, 1.0, 0.4]])
        out = dict(meta={"scene_id": f"scene{b:04d}_00"}, boxes=box + 0.05, labels=np.array([b % 2]),
                   scores=np.array([0.9]), gt_boxes=box, gt_labels=np.array([b % 2]))
        hook.after_test_iter(runner, b, data_batch={}, outputs=[out])
    hook.after_test(runner)
    return hook


def test_show_hook_draws_the_same_files_in_a_pool_as_inline(tmp_path):
    inline = _run_hook(tmp_path, "inline", 1, _ReloadableScenes(3))
    pooled = _run_hook(tmp_path, "pooled", 2, _ReloadableScenes(3))
    names = sorted(p.name for p in (tmp_path / "inline").iterdir())
    assert names == sorted(p.name for p in (tmp_path / "pooled").iterdir())
    assert len(names) == 9 and len(inline.written) == len(pooled.written) == 9  # bev, persp, ply per scene
    for n in names:
        assert (tmp_path / "inline" / n).read_bytes() == (tmp_path / "pooled" / n).read_bytes(), n
    assert imread(tmp_path / "pooled" / "scene0002_00_bev.png").shape[2] >= 3


def test_show_hook_pool_reports_the_scene_that_failed(tmp_path):
    with pytest.raises(ValueError, match="scene0001_00/coord.npy: truncated"):
        _run_hook(tmp_path, "pooled", 2, _ReloadableScenes(3, broken="scene0001_00"))
