# Segmentation augmentation and point features of Text4Point App. B.1 (after PointContrast), shared by
# the ScanNet and S3DIS segmentation bases: flips, full rotation about z, scaling, colour jitter;
# colour normalised with VoteNet's ScanNet mean (as in the Text4Point pretraining) + height.
train_augment = [
    dict(type="RandomFlip", prob_x=0.5, prob_y=0.5, heading=False),
    dict(type="RandomRotateZ", degrees=180.0, box_mode="enclose"),
    dict(type="RandomScale", scale_range=(0.9, 1.1)),
    dict(type="RandomColorJitter"),
]
point_features = [
    dict(type="NormalizeColor", mean=(109.8, 97.2, 83.8), std=256.0),
    dict(type="HeightFeature", percentile=0.99),
    dict(type="PointFeatures", keys=("colors", "height")),
]
