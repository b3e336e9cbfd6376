# Scene-level pretraining data of Point-MAE and MMPD: ScanNet 2D-3D pairs (tools/extract_scannet_pairs.py)
# next to the prepared scenes (tools/prepare_scannet.py: splits/train.txt, scans/*/boxes.npy for the
# class-template text), as (frame points, colour view, depth view, text) -- voxclip.datasets.ScenePointPairs.
# Train split only; no evaluation during pretraining. A child changing pairs_points / pairs_voxel_size
# restates train_dataloader.dataset (base expressions are evaluated here, docs/development.md).
pairs_root = "data/scannet"
pairs_points = 16384
pairs_voxel_size = 0.025

train_dataloader = dict(
    batch_size=32,
    num_workers=6,
    persistent_workers=True,
    sampler=dict(type="DefaultSampler", shuffle=True),
    collate_fn=dict(type="point_pairs_collate"),
    dataset=dict(type="ScenePointPairs", data_root=pairs_root, split="train", voxel_size=pairs_voxel_size,
                 num_points=pairs_points, rotate_z=180.0, flip_x=0.5, flip_y=0.5, scale_range=(0.9, 1.1),
                 point_features=("color",), captions_file="captions.json"),
)
val_dataloader = None
val_cfg = None
val_evaluator = None
test_dataloader = None
test_cfg = None
test_evaluator = None
