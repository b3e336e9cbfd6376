"""A training sample whose pipeline returns None is replaced reproducibly: the replacement index and its
augmentation come from (seed, epoch, index, attempt), never from the worker's global RNG; and object
samples draw their augmentation from their own generator like the scene datasets."""
import json

import numpy as np
import pytest
from mmengine.dataset import BaseDataset

from voxclip.datasets.base import PointCloudDataset
from voxclip.datasets.objects import ObjectClassification
from voxclip.datasets.objects.partseg_dataset import ShapeNetPartSegmentation
from voxclip.datasets.rgbd_pairs import RGBDPairs
from voxclip.datasets.samplers import SampleIndex, SeededRefetch, refetch_index
from voxclip.datasets.transforms.base import current_rng, sample_generator


class _Dropping(SeededRefetch, BaseDataset):
    """Samples 0..9; the pipeline returns None for the indices in `bad`, else (index, one random draw)."""

    def __init__(self, bad, **kw):
        self.bad = set(bad)
        super().__init__(ann_file="", serialize_data=False, **kw)

    def load_data_list(self):
        return [dict(i=i) for i in range(10)]

    def prepare_data(self, idx):
        from voxclip.datasets.samplers import generator_for_index
        from voxclip.datasets.transforms.base import use_sample_rng

        info = self.get_data_info(int(idx))
        with use_sample_rng(generator_for_index(idx)):
            return None if info["i"] in self.bad else (info["i"], float(current_rng().random()))


def test_refetched_sample_does_not_depend_on_the_global_rng():
    ds = _Dropping(bad=[3])
    idx = SampleIndex(3, seed=7, epoch=2)
    np.random.seed(0)
    first = ds[idx]
    np.random.seed(12345)  # mmengine's own refetch (np.random.randint) would now pick another sample
    assert ds[idx] == first
    # independently: the replacement is the index drawn from (7, 2, 3, attempt 1), with that sample's
    # own (seed, epoch, index) draw
    rng = np.random.default_rng(np.random.SeedSequence([7, 2, 3, 1]))
    j = int(rng.integers(0, 10))
    if j != 3:
        assert first == (j, float(sample_generator(7, 2, j).random()))


def test_refetch_tries_again_until_a_valid_sample_and_gives_up_with_a_message():
    ds = _Dropping(bad=range(9), max_refetch=200)
    assert ds[SampleIndex(0, 1, 0)][0] == 9  # the only good sample is found
    with pytest.raises(RuntimeError, match="no valid sample after 5 refetches"):
        _Dropping(bad=range(10), max_refetch=5)[SampleIndex(0, 1, 0)]


def test_refetch_index_varies_with_attempt_epoch_and_seed():
    idx = SampleIndex(4, 0, 0)
    draws = {int(refetch_index(idx, a, 1000)) for a in range(20)}
    assert len(draws) > 15  # not stuck on one replacement
    assert refetch_index(idx, 0, 1000) == refetch_index(SampleIndex(4, 0, 0), 0, 1000)
    assert refetch_index(idx, 0, 1000).epoch == 0 and refetch_index(idx, 0, 1000).seed == 0


def test_plain_int_indices_keep_mmengines_behaviour():
    ds = _Dropping(bad=[])
    assert ds[5][0] == 5


@pytest.mark.parametrize("cls", [PointCloudDataset, RGBDPairs, ObjectClassification, ShapeNetPartSegmentation])
def test_every_dataset_uses_the_seeded_refetch(cls):
    assert issubclass(cls, SeededRefetch) and cls.__mro__.index(SeededRefetch) < cls.__mro__.index(BaseDataset)


def test_object_augmentation_draws_from_the_sample_generator(tmp_path):
    root = tmp_path / "prep"
    root.mkdir()
    pts = np.random.default_rng(0).normal(size=(2, 64, 3)).astype(np.float32)
    np.save(root / "train_points.npy", pts)
    np.save(root / "train_labels.npy", np.array([0, 1]))
    (root / "train_ids.json").write_text(json.dumps(["a", "b"]))
    (root / "index.json").write_text(json.dumps(dict(classes=["x", "y"], splits={"train": {}})))
    ds = ObjectClassification(str(root), "train", pipeline=[dict(type="ScaleAndTranslate")])
    idx = SampleIndex(1, seed=3, epoch=5)
    np.random.seed(0)
    a = np.asarray(ds[idx]["points"])
    np.random.seed(99)
    b = np.asarray(ds[idx]["points"])
    np.testing.assert_array_equal(a, b)
    other_epoch = np.asarray(ds[SampleIndex(1, seed=3, epoch=6)]["points"])
    assert not np.allclose(a, other_epoch)
