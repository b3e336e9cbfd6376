# VoteNet on SR-UNet34C (the Text4Point / PointContrast detection setting). ScanNet classes and no
# heading by default; the SUN RGB-D configs set num_classes=10, num_heading_bins=12.
model = dict(
    type="VoteNetDetector",
    # first-layer kernel 3: PointContrast's recipe (net.conv1_kernel_size=3), which Text4Point follows;
    # conv0_kernel_size=5 is MinkowskiEngine's Res16UNet default
    backbone=dict(type="SRUNet", in_channels=4, out_channels=96, arch="34C", conv0_kernel_size=3),
    head=dict(
        type="VoteHead",
        num_classes=18,
        in_channels=96,
        mean_sizes="from_dataset",  # per-class mean box size over the train split (index.json)
        num_heading_bins=1,
        num_seeds=1024,
        num_proposals=256,
        agg_radius=0.3,
        agg_nsample=16,
        test_cfg=dict(nms_iou=0.25, score_thr=0.05, per_class_proposal=True),
    ),
)
