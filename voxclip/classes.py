"""Class lists and label-id facts of the supported datasets (docs/conventions.md).

Plain constants with no imports, so data preparation can use them without torch.
"""

# ScanNet v2: the 18 detection classes, in benchmark order, with their nyu40 ids.
SCANNET_DET_CLASSES = (
    "cabinet", "bed", "chair", "sofa", "table", "door", "window", "bookshelf", "picture",
    "counter", "desk", "curtain", "refrigerator", "showercurtrain", "toilet", "sink", "bathtub",
    "garbagebin",
)
SCANNET_DET_NYU40_IDS = (3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 14, 16, 24, 28, 33, 34, 36, 39)

# ScanNet v2: the 20 segmentation classes; any other nyu40 id is ignored (-1).
SCANNET_SEG_CLASSES = (
    "wall", "floor", "cabinet", "bed", "chair", "sofa", "table", "door", "window", "bookshelf",
    "picture", "counter", "desk", "curtain", "refrigerator", "showercurtrain", "toilet", "sink",
    "bathtub", "otherfurniture",
)
SCANNET_SEG_NYU40_IDS = (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 14, 16, 24, 28, 33, 34, 36, 39)

# SUN RGB-D: the 10 detection classes of the common benchmark.
SUNRGBD_DET_CLASSES = (
    "bed", "table", "sofa", "chair", "toilet", "desk", "dresser", "night_stand", "bookshelf",
    "bathtub",
)

# S3DIS (Stanford3dDataset_v1.2): the 13 semantic classes in the usual order (PointNet's
# class2label); the annotation class "stairs" is mapped to clutter (data_prep/s3dis/labels.py).
S3DIS_SEG_CLASSES = (
    "ceiling", "floor", "wall", "beam", "column", "window", "door", "table", "chair", "sofa",
    "bookcase", "board", "clutter",
)
