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
