# CPU twin of the few-shot configs on the demo objects (5 classes x 5 shots, 3 queries per class):
#   python tools/few_shot.py folds data/demo_objects/modelnet40_prepared --way 5 --shot 5 --query 3 \
#       --folds 2 --out data/demo_objects/fewshot_5way_5shot.json
#   python tools/few_shot.py run configs/demo/fewshot_demo.py --folds data/demo_objects/fewshot_5way_5shot.json
_base_ = ["./pointmae_cls_demo.py"]

few_shot_file = "data/demo_objects/fewshot_5way_5shot.json"
max_epochs = 40
train_dataloader = dict(batch_size=4, dataset=dict(few_shot=dict(file=few_shot_file, fold=0)))
val_dataloader = dict(dataset=dict(few_shot=dict(file=few_shot_file, fold=0)))
test_dataloader = val_dataloader
model = dict(num_classes=5)
param_scheduler = [
    dict(type="LinearLR", start_factor=0.1, by_epoch=True, begin=0, end=2, convert_to_iter_based=True),
    dict(type="CosineAnnealingLR", by_epoch=True, begin=2, end=max_epochs, T_max=max_epochs - 2, eta_min=1e-5,
         convert_to_iter_based=True),
]
train_cfg = dict(max_epochs=max_epochs, val_interval=10)
