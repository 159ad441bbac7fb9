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
    "ravens_assembling_kits": "assembling-kits",
    "ravens_block_insertion": "block-insertion",
    "ravens_block_insertion_goal": "block-insertion",
    "ravens_manipulating_rope": "manipulating-rope",
    "ravens_packing_boxes": "packing-boxes",
    "ravens_palletizing_boxes": "palletizing-boxes",
    "ravens_place_red_in_green": "place-red-in-green",
    "ravens_stack_block_pyramid": "stack-block-pyramid",
    "ravens_sweeping_piles": "sweeping-piles",
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
@pytest.mark.tensorflow_only  # the recording is checked once; other backends give TF's outputs
@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_preset_replays_its_first_recorded_episode(name):
    recorded = preset_metadata(name)["evaluation"]
    model = TransporterNet.from_preset(name)
    result = evaluate_transporter(model, SHIPPED[name], episodes=1)
    assert result["seeds"] == recorded["seeds"][:1]
    assert result["successes"] == recorded["successes"][:1]
    assert result["rewards"] == pytest.approx(recorded["rewards"][:1], abs=1e-6)


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
        "pick_stats": (-8.83347, 5.30979, 7.25067),
        "pick_samples": (-2.29156, -8.83926, -7.73029, -10.35795, -4.54129),
        "place_stats": (-14.01118, 22.25367, -1.47754, -108.16151),
        "place_samples": (-2.43881, -20.42895, -31.23332, -2.11708, -4.3864),
        "labels": ((24, 51), (61.0, 57.0), 7),
    },
    "ravens_assembling_kits": {
        "pick_stats": (-17.83855, 6.22671, 5.27931),
        "pick_samples": (-7.03503, -27.83366, -22.19643, -26.41682, -25.50314),
        "place_stats": (-26.04957, 9.64584, 13.33338, -79.03883),
        "place_samples": (-8.84739, -41.07151, -42.99947, -25.49183, -33.91675),
        "labels": ((28, 38), (144.0, 42.0), 33),
    },
    "ravens_block_insertion": {
        "pick_stats": (-13.20181, 4.13041, 2.44022),
        "pick_samples": (-20.28129, -12.01788, -23.20387, -9.50598, -9.92214),
        "place_stats": (-4.32001, 0.90662, -2.8421, -7.80244),
        "place_samples": (-2.85311, -3.86373, -4.10912, -3.54482, -6.15666),
        "labels": ((144, 36), (49.0, 61.0), 10),
    },
    "ravens_block_insertion_goal": {
        "pick_stats": (-10.12999, 3.77345, 4.0649),
        "pick_samples": (-1.66535, -11.2409, -17.93206, -8.90567, -2.84631),
        "place_stats": (-3.8039, 0.69111, -1.73227, -5.08794),
        "place_samples": (-1.7392, -3.75879, -4.93557, -3.05784, -3.23571),
        "labels": ((140, 39), (138.0, 35.0), 1),
    },
    "ravens_manipulating_rope": {
        "pick_stats": (-26.77615, 7.87138, 5.4636),
        "pick_samples": (-7.55173, -36.52753, -15.47791, -32.71426, -26.11309),
        "place_stats": (1.35435, 3.20778, 16.09668, -8.73968),
        "place_samples": (-0.2803, -1.74385, -1.68065, -2.13338, 3.12737),
        "labels": ((57, 61), (118.0, 8.0), 1),
    },
    "ravens_packing_boxes": {
        "pick_stats": (-10.26258, 5.50161, 4.15718),
        "pick_samples": (-2.74965, -14.40009, -1.74698, -3.25065, -14.43321),
        "place_stats": (-10.81675, 5.93841, 8.09203, -35.90801),
        "place_samples": (-0.5989, -13.67503, -14.31075, -8.45953, -14.51817),
        "labels": ((147, 70), (139.0, 40.0), 13),
    },
    "ravens_palletizing_boxes": {
        "pick_stats": (-19.84256, 8.00818, -0.41218),
        "pick_samples": (-5.54194, -18.13928, -5.04308, -17.60482, -18.1942),
        "place_stats": (-1.46392, 1.31238, 0.1645, -8.44814),
        "place_samples": (0.16037, -0.65464, -4.8636, -0.61467, -0.52803),
        "labels": ((39, 36), (131.0, 52.0), 22),
    },
    "ravens_place_red_in_green": {
        "pick_stats": (-26.69112, 12.09718, 0.89221),
        "pick_samples": (-9.28694, -26.8772, -36.21307, -27.52943, -20.8061),
        "place_stats": (-4.78812, 3.04571, 0.78438, -23.32975),
        "place_samples": (-3.40049, -3.70215, -5.30935, -7.45275, -8.05177),
        "labels": ((122, 29), (71.0, 31.0), 28),
    },
    "ravens_stack_block_pyramid": {
        "pick_stats": (-31.51519, 11.83182, 4.12669),
        "pick_samples": (-12.96644, -29.43736, -40.78156, -28.86524, -63.76855),
        "place_stats": (-7.36254, 0.94862, -5.17644, -10.07257),
        "place_samples": (-6.96672, -6.57136, -9.14795, -6.46643, -9.26571),
        "labels": ((117, 8), (138.0, 40.0), 21),
    },
    "ravens_sweeping_piles": {
        "pick_stats": (-9.00276, 5.38565, 6.20169),
        "pick_samples": (-2.78685, -9.37051, -9.57139, -9.26303, -8.70397),
        "place_stats": (-138.51813, 29.20814, -25.42872, -175.55638),
        "place_samples": (-114.2261, -160.7765, -166.494, -140.80565, -157.21724),
        "labels": ((88, 21), (133.0, 46.0), 17),
    },
    "ravens_towers_of_hanoi": {
        "pick_stats": (-17.82068, 8.37129, 11.03291),
        "pick_samples": (-2.09359, -15.19955, -17.38725, -16.00027, -15.69104),
        "place_stats": (-4.98522, 2.84013, 4.76951, -6.91024),
        "place_samples": (-6.62845, -6.78291, -6.7191, -6.74482, -6.7751),
        "labels": ((112, 58), (136.92995381801575, 22.099746955048815), 11),
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
