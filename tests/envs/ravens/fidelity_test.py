"""Our Ravens scenes look, in the fused maps, as the original Ravens' do.

The reference values in `fidelity/<task>.json` are the original's (google-research/ravens),
measured by `benchmarks/ravens_fidelity.py` from its scenes on the same seeds, fused with the
same cameras. Each object class is checked against them:

- mean colour within 12 of 255 levels per channel: the spread of one colour's rendered mean
  over the lighting of its visible faces is a few levels, and the nearest two colours that
  matter (the stand's brown and the box's, or two distractor colours) differ by 20 or more;
- colour histogram (8 bins of 32 levels per channel): earth mover's distance below one bin per
  channel. It is the histogram's shape that this checks (a two-tone object against a one-tone
  one moves mass across several bins); a shift of a few levels that carries a colour over a
  bin edge, which a bin-wise distance would count in full, moves it by one bin at most;
- footprint within 15 % (a 2 mm border around a 4 cm block is 20 %);
- highest point within 3 mm (one pixel of a 3.125 mm grid seen at a slant).

Classes whose look is drawn at random per episode are checked on what does not depend on the
draw: the box of align-box-corner (size uniform in 5-15 x 5-15 x 1-6 cm, a random shade of
one brown) by its hue (colour mean over its sum, within 0.03) and its footprint and height
within the drawn ranges; the distractors of place-red-in-green (a random mix of the palette) by
footprint and height as above and mean colour within 25 levels.
"""

import glob
import json
import os

import numpy as np
import pytest

from keras_suite.envs import ravens
from keras_suite.envs.ravens.appearance import appearance_statistics
from keras_suite.envs.ravens.environment import RavensEnv
from keras_suite.envs.ravens.tasks import Task
from keras_suite.envs.ravens.workspace import PIXEL_SIZE

REFERENCES = sorted(glob.glob(os.path.join(os.path.dirname(__file__), "fidelity", "*.json")))
MIXED = {("place-red-in-green", "distractor_block"), ("place-red-in-green", "distractor_bowl")}
RANDOM_BOX = ("align-box-corner", "box")


class _Workspace(Task):
    name = "workspace"

    def build(self, env, rng):
        del env, rng


def _our_statistics(task, seeds):
    env = RavensEnv(_Workspace()) if task == "workspace" else ravens.make(task)
    try:
        per_seed = []
        for seed in seeds:
            observation, _ = env.reset(seed=seed)
            per_seed.append(
                appearance_statistics(
                    observation["colormap"],
                    observation["heightmap"],
                    env.segmentation,
                    env.task.object_classes,
                )
            )
    finally:
        env.close()
    names = {name for stats in per_seed for name in stats}
    return {
        name: {
            key: np.mean([s[name][key] for s in per_seed if name in s], axis=0)
            for key in ("footprint_pixels", "color_mean", "color_histogram", "height_max")
        }
        for name in names
    }


def _earth_movers_bins(got, expected):
    """Per channel: how far (in bins) histogram mass must move to turn one into the other."""
    difference = np.cumsum(got["color_histogram"], axis=1) - np.cumsum(
        expected["color_histogram"], axis=1
    )
    return np.abs(difference).sum(axis=1)


def test_earth_movers_distance_of_a_hand_worked_shift():
    one = {"color_histogram": np.array([[1.0, 0, 0, 0, 0, 0, 0, 0]] * 3)}
    half_moved = {"color_histogram": np.array([[0.5, 0, 0.5, 0, 0, 0, 0, 0]] * 3)}
    # Half the mass moves two bins: one bin on average.
    np.testing.assert_allclose(_earth_movers_bins(half_moved, one), [1.0, 1.0, 1.0])


def test_there_is_a_reference_per_task():
    tasks = [os.path.basename(path)[: -len(".json")] for path in REFERENCES]
    assert tasks == sorted([*ravens.TASKS, "workspace"])


@pytest.mark.parametrize("path", REFERENCES, ids=lambda p: os.path.basename(p)[:-5])
def test_the_fused_maps_look_as_the_original_s(path):
    with open(path) as f:
        reference = json.load(f)
    ours = _our_statistics(reference["task"], reference["seeds"])
    if "background" not in reference["classes"]:  # measured on the workspace's own reference
        ours.pop("background", None)
    assert sorted(ours) == sorted(reference["classes"])
    for name, expected in reference["classes"].items():
        got = ours[name]
        where = f"{reference['task']}/{name}: ours {got}, original {expected}"
        if (reference["task"], name) == RANDOM_BOX:
            hue = got["color_mean"] / got["color_mean"].sum()
            expected_hue = np.array(expected["color_mean"]) / sum(expected["color_mean"])
            np.testing.assert_allclose(hue, expected_hue, atol=0.03, err_msg=where)
            assert (0.05 / PIXEL_SIZE) ** 2 <= got["footprint_pixels"] <= (0.15 / PIXEL_SIZE) ** 2
            assert 0.01 - 0.003 <= got["height_max"] <= 0.06 + 0.003, where
            continue
        colour_tolerance = 25 if (reference["task"], name) in MIXED else 12
        np.testing.assert_allclose(
            got["color_mean"], expected["color_mean"], atol=colour_tolerance, err_msg=where
        )
        if (reference["task"], name) not in MIXED:
            assert np.all(_earth_movers_bins(got, expected) < 1.0), where
        assert got["footprint_pixels"] == pytest.approx(expected["footprint_pixels"], rel=0.15), (
            where
        )
        assert got["height_max"] == pytest.approx(expected["height_max"], abs=0.003), where
