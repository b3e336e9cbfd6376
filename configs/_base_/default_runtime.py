# Runtime shared by every experiment: logging, checkpoints (best by mAP@0.5), seeding, dist.
default_scope = "voxclip"
sparse_backend = "auto"  # torch | spconv | minkowski | auto (GPU backend when CUDA works, else torch)

default_hooks = dict(
    timer=dict(type="IterTimerHook"),
    logger=dict(type="LoggerHook", interval=10),
    param_scheduler=dict(type="ParamSchedulerHook"),
    checkpoint=dict(type="CheckpointHook", interval=1, max_keep_ckpts=2, save_best="mAP@0.5", rule="greater"),
    sampler_seed=dict(type="DistSamplerSeedHook"),
)
env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method="fork", opencv_num_threads=0),
    dist_cfg=dict(backend="nccl"),  # tools/train.py switches to gloo when CUDA is unavailable
)
log_processor = dict(by_epoch=True, window_size=10)
log_level = "INFO"
# TensorBoard event files next to scalars.json (pip install 'voxclip[tensorboard]'; --cfg-options tensorboard=True).
tensorboard = False
load_from = None
resume = False
randomness = dict(seed=0, deterministic=False)
