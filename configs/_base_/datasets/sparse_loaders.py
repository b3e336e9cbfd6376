# The data-loader shells shared by the indoor dataset bases: sparse collation, shuffled training,
# one scene per evaluation batch. Each dataset base fills in `dataset=` (and its batch size).
train_dataloader = dict(
    batch_size=8,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type="DefaultSampler", shuffle=True),
    collate_fn=dict(type="sparse_collate"),
)
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type="DefaultSampler", shuffle=False),
    collate_fn=dict(type="sparse_collate"),
)
test_dataloader = val_dataloader
