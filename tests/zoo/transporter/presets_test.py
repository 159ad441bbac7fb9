import json
import os

import numpy as np
import pytest

from keras_suite.zoo import GoalTransporterNet, TransporterNet
from keras_suite.zoo.transporter.evaluation import evaluate_transporter, preset_metadata
from keras_suite.zoo.transporter.map_scaling import map_scale_factor

#: The presets that ship, trained and evaluated by `keras-suite ravens train` / `eval --record`.
SHIPPED = {
    "ravens_align_box_corner": "align-box-corner",
    "ravens_block_insertion": "block-insertion",
    "ravens_block_insertion_goal": "block-insertion",
    "ravens_place_red_in_green": "place-red-in-green",
    "ravens_towers_of_hanoi": "towers-of-hanoi",
}


def test_the_shipped_presets_are_listed():
    assert set(TransporterNet.presets) == set(SHIPPED)
    # A subclass lists its own presets only: the others would not load as one.
    assert set(GoalTransporterNet.presets) == {"ravens_block_insertion_goal"}
    with pytest.raises(ValueError, match="Unknown preset for `GoalTransporterNet`"):
        GoalTransporterNet.from_preset("ravens_block_insertion")


@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_preset_loads_offline_with_its_measured_success(name):
    metadata = preset_metadata(name)
    assert metadata["task"] == SHIPPED[name]
    assert 0 < len(metadata["description"]) < 100 and "\n" not in metadata["description"]
    evaluation = metadata["evaluation"]
    assert evaluation["episodes"] >= 20 and len(evaluation["successes"]) == evaluation["episodes"]
    assert all(seed % 2 == 1 for seed in evaluation["seeds"])  # unseen test scenes
    rate = 100.0 * sum(evaluation["successes"]) / evaluation["episodes"]
    assert metadata["success_rate"] == pytest.approx(rate)
    # The score (the paper's metric) gives partial credit; an episode is solved when its
    # rewards reach 1.
    rewards = evaluation["rewards"]
    assert metadata["score"] == pytest.approx(100.0 * np.mean(rewards), abs=0.01)
    assert [reward > 0.99 for reward in rewards] == evaluation["successes"]
    folder = os.path.join(TransporterNet.preset_dir, name)
    size = sum(os.path.getsize(os.path.join(folder, f)) for f in os.listdir(folder))
    assert size <= 10 * 2**20
    model = TransporterNet.from_preset(name)
    assert model.count_params() == metadata["parameter_count"]
    # The success was measured as the preset acts, with its own test-time turns.
    assert evaluation.get("test_time_turns", 1) == model.test_time_turns
    with open(os.path.join(folder, "config.json")) as f:
        assert json.load(f)["config"]["pixel_size"] == model.pixel_size
    # The preset acts on a full-size Ravens map, shrunk to its own grid.
    assert map_scale_factor((320, 160, 4), model.bounds, model.pixel_size) == metadata["map_scale"]
    # Presets trained before `downsampling` existed used the paper's 8.
    assert model.downsampling == metadata.get("downsampling", 8)
    transport_downsampling = metadata.get("transport_downsampling", model.downsampling)
    assert model.transport_downsampling == transport_downsampling
    image = np.zeros((320, 160, 4), "float32")
    goal = {"goal": {"image": image}} if isinstance(model, GoalTransporterNet) else {}
    assert bool(goal) == metadata.get("goal_conditioned", False)
    action = model.act({"image": image}, **goal)
    for key in ("pose0", "pose1"):
        position, quaternion = action[key]
        assert model.bounds[0][0] <= position[0] <= model.bounds[0][1]
        assert model.bounds[1][0] <= position[1] <= model.bounds[1][1]
        assert np.linalg.norm(quaternion) == pytest.approx(1.0)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_preset_replays_its_first_recorded_episode(name):
    recorded = preset_metadata(name)["evaluation"]
    model = TransporterNet.from_preset(name)
    result = evaluate_transporter(model, SHIPPED[name], episodes=1)
    assert result["seeds"] == recorded["seeds"][:1]
    assert result["successes"] == recorded["successes"][:1]


#: Sampled pick-logit pixels `(row, col)` and place-logit entries `(row, col, rotation)`.
PICK_SAMPLES = ((0, 0), (20, 10), (40, 30), (77, 5), (60, 70))
PLACE_SAMPLES = ((0, 0, 0), (20, 10, 3), (40, 30, 12), (77, 5, 24), (60, 70, 35))


def preset_outputs(name):
    """A preset's outputs on the first test scene of its task (`env.reset(seed=1)`).

    The goal preset is given that observation as its goal too. Place logits are those of a
    pick at the map's centre.

    Returns:
        A dict of Python numbers and tuples: pick and place logit statistics and samples, and
        the `predict_labels` action.
    """
    from keras import ops

    from keras_suite.envs import ravens

    env = ravens.make(SHIPPED[name])
    obs, _ = env.reset(seed=1)
    env.close()
    model = TransporterNet.from_preset(name)
    image = model.observation_map(obs)[None].astype("float32")
    maps = {"goal": image} if isinstance(model, GoalTransporterNet) else {}
    inputs = {key: ops.convert_to_tensor(value) for key, value in {"image": image, **maps}.items()}
    pick = ops.convert_to_numpy(model.pick_logits(inputs))[0, ..., 0].astype("float64")
    centre = ops.convert_to_tensor([[image.shape[1] // 2, image.shape[2] // 2]], "int32")
    place = ops.convert_to_numpy(model.place_logits(inputs, centre))[0].astype("float64")
    pick_pixels, place_pixels, bins = model.predict_labels(image, **maps)
    height, width = pick.shape

    def clip(pixel):
        return tuple(min(p, s - 1) for p, s in zip(pixel, (height, width, place.shape[-1])))

    return {
        "pick_stats": (pick.mean(), pick.std(), pick.max()),
        "pick_samples": tuple(pick[clip(p)] for p in PICK_SAMPLES),
        "place_stats": (place.mean(), place.std(), place.max(), place.min()),
        "place_samples": tuple(place[clip(p)] for p in PLACE_SAMPLES),
        "labels": (
            tuple(int(v) for v in pick_pixels[0]),
            tuple(float(v) for v in place_pixels[0]),
            int(bins[0]),
        ),
    }


#: `preset_outputs` of each preset under TensorFlow, rounded to 5 decimals; made with
#: `KERAS_BACKEND=tensorflow python tests/zoo/transporter/presets_test.py`.
TENSORFLOW_OUTPUTS = {
    "ravens_align_box_corner": {
        "pick_stats": (-15.10204, 21.5149, 6.96609),
        "pick_samples": (-2.8366, -11.45212, -8.92239, -10.40528, -9.88419),
        "place_stats": (-5.04771, 6.22683, -0.0093, -29.04754),
        "place_samples": (-0.25569, -4.58448, -8.57639, -1.06494, -2.55103),
        "labels": ((24, 50), (50.0, 54.0), 15),
    },
    "ravens_block_insertion": {
        "pick_stats": (-20.31005, 3.41906, -0.37493),
        "pick_samples": (-19.09696, -20.3812, -21.93369, -17.8278, -19.21502),
        "place_stats": (-4.44845, 0.92033, -1.13568, -6.61565),
        "place_samples": (-1.21538, -4.62706, -5.159, -3.81726, -3.76345),
        "labels": ((136, 37), (54.0, 63.0), 10),
    },
    "ravens_block_insertion_goal": {
        "pick_stats": (-10.64591, 2.88364, 3.71315),
        "pick_samples": (-2.34458, -12.03211, -12.34385, -10.329, -9.72619),
        "place_stats": (-6.03694, 1.38295, -0.52895, -10.07625),
        "place_samples": (-2.98447, -5.50292, -6.36338, -4.75191, -6.25757),
        "labels": ((133, 39), (138.0, 38.0), 33),
    },
    "ravens_place_red_in_green": {
        "pick_stats": (-13.82854, 5.36389, 1.38255),
        "pick_samples": (-6.80917, -14.15818, -16.25132, -14.98018, -12.33686),
        "place_stats": (-2.48261, 1.16813, 1.16506, -8.61859),
        "place_samples": (-0.83068, -1.32529, -2.08054, -0.74922, -2.10714),
        "labels": ((122, 28), (33.0, 62.0), 4),
    },
    "ravens_towers_of_hanoi": {
        "pick_stats": (-29.93462, 10.46509, 14.53248),
        "pick_samples": (-4.15707, -32.0067, -32.45037, -29.69925, -32.83353),
        "place_stats": (3.97731, 1.26237, 5.74287, -0.15375),
        "place_samples": (1.45874, 4.17346, 5.44599, 3.73056, 4.2715),
        "labels": ((114, 53), (133.35344966397872, 21.019933901525896), 8),
    },
}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_preset_gives_tensorflows_outputs_on_every_backend(name):
    outputs, expected = preset_outputs(name), TENSORFLOW_OUTPUTS[name]
    for key in ("pick_stats", "pick_samples", "place_stats", "place_samples"):
        np.testing.assert_allclose(outputs[key], expected[key], rtol=1e-4, atol=1e-3, err_msg=key)
    (pick, place, rotation), (expected_pick, expected_place, expected_rotation) = (
        outputs["labels"],
        expected["labels"],
    )
    assert pick == expected_pick and rotation == expected_rotation
    np.testing.assert_allclose(place, expected_place, atol=1e-3)


if __name__ == "__main__":
    for preset in sorted(SHIPPED):
        print(f"{preset!r}: {preset_outputs(preset)!r},")
