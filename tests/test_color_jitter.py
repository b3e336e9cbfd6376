"""RandomColorJitter: a scene-wide offset plus per-point noise on uint8 rgb, checked statistically."""
import numpy as np
import pytest

from voxclip.datasets.transforms import NormalizeColor, RandomColorJitter


def _grey(n=20000):
    return {"colors": np.full((n, 3), 128, np.uint8)}


def test_translation_is_one_offset_for_the_scene_within_the_ratio():
    for seed in range(20):
        out = RandomColorJitter(translate_ratio=0.1, prob_translate=1.0, prob_noise=0.0,
                                rng=np.random.default_rng(seed))(_grey(100))["colors"].astype(int)
        assert (out == out[0]).all()  # every point moved by the same offset
        assert (np.abs(out[0] - 128) <= 26).all()  # |t| <= 0.1 * 255 (+ rounding)


def test_noise_has_the_requested_spread_and_no_bias():
    out = RandomColorJitter(noise_std=0.05, prob_translate=0.0, prob_noise=1.0,
                            rng=np.random.default_rng(0))(_grey())["colors"].astype(np.float64)
    assert abs(out.mean() - 128) < 0.2
    assert abs(out.std() - 0.05 * 255) < 0.3  # 12.75, rounding adds ~1/12 variance


def test_clipped_to_uint8_range_and_off_when_probabilities_are_zero():
    data = {"colors": np.array([[0, 255, 3], [250, 1, 128]], np.uint8)}
    out = RandomColorJitter(translate_ratio=1.0, noise_std=1.0, prob_translate=1.0, prob_noise=1.0,
                            rng=np.random.default_rng(1))(dict(data))["colors"]
    assert out.dtype == np.uint8 and out.min() >= 0 and out.max() <= 255
    same = RandomColorJitter(prob_translate=0.0, prob_noise=0.0)(dict(data))["colors"]
    np.testing.assert_array_equal(same, data["colors"])


def test_refuses_normalised_colours():
    sample = NormalizeColor()(_grey(4))
    with pytest.raises(RuntimeError, match="before NormalizeColor"):
        RandomColorJitter()(sample)
