import json

import numpy as np
import pytest

from keras_suite.zoo import GoalTransporterNet, TransporterNet
from keras_suite.zoo.transporter import evaluation
from keras_suite.zoo.transporter.action_coding import PIXEL_SIZE


class _SevenGoals:
    """A task of 7 goals: episode `seed` earns its first `moves[seed]` of them."""

    moves = {3: 7, 5: 6}

    def reset(self, seed):
        self.seed, self.done = seed, 0
        return {}, {}

    def step(self, action):
        self.done += 1
        solved = self.done == 7
        info = {"success": solved, "steps": self.done}
        truncated = not solved and self.done == self.moves[self.seed]
        return {}, 1 / 7, solved, truncated, info

    def close(self):
        pass


class _Agent:
    test_time_turns, subpixel_place = 1, False

    def act(self, obs, info):
        return None


def test_evaluation_scores_partial_credit_as_the_paper_does(monkeypatch):
    from keras_suite.envs import ravens

    monkeypatch.setattr(ravens, "make", lambda task, max_steps=None: _SevenGoals())
    calls = []
    result = evaluation.evaluate_transporter(
        _Agent(),
        "towers-of-hanoi",
        2,
        first_seed=3,
        progress=lambda done, total, **values: calls.append((done, total, values)),
    )
    assert result["seeds"] == [3, 5] and result["successes"] == [True, False]
    assert result["rewards"] == [pytest.approx(1.0), pytest.approx(6 / 7, abs=1e-4)]
    assert result["success_rate"] == 50.0
    assert result["score"] == pytest.approx(100 * (1 + 6 / 7) / 2)
    assert [(done, total) for done, total, _ in calls] == [(1, 2), (2, 2)]
    assert calls[1][2]["reward"] == pytest.approx(6 / 7)
    assert calls[1][2]["score"] == pytest.approx(result["score"])
    with pytest.raises(ValueError, match="`first_seed` must be odd and positive"):
        evaluation.evaluate_transporter(_Agent(), "towers-of-hanoi", 1, first_seed=4)


def test_a_goal_conditioned_model_is_shown_the_oracles_last_map(monkeypatch):
    from keras_suite.envs import ravens
    from keras_suite.envs.ravens.demonstrations import run_episode

    env = ravens.make("block-insertion")
    try:
        oracle_episode, _ = run_episode(env, ravens.OracleAgent(env), 1)
    finally:
        env.close()
    small = (4, 4, 8, 8, 8, 4, 4, 4)
    model = GoalTransporterNet(
        crop_size=8,
        num_rotations=4,
        attention_filters=small,
        transport_filters=small,
        pixel_size=8 * PIXEL_SIZE,
        downsampling=1,
    )
    goals = []
    act = GoalTransporterNet.act

    def spy(self, obs, info=None, goal=None):
        goals.append(goal)
        return act(self, obs, info, goal=goal)

    monkeypatch.setattr(GoalTransporterNet, "act", spy)
    result = evaluation.evaluate_transporter(model, "block-insertion", 1, max_steps=1)
    assert result["episodes"] == 1 and len(goals) == 1
    # The goal is the last observation of the oracle's episode on the same (first odd) seed.
    np.testing.assert_array_equal(goals[0]["colormap"], oracle_episode["colormap"][-1])
    np.testing.assert_array_equal(goals[0]["heightmap"], oracle_episode["heightmap"][-1])


def test_a_preset_without_task_metadata_is_refused(tmp_path):
    folder = tmp_path / "preset"
    folder.mkdir()
    (folder / "config.json").write_text("{}")
    (folder / "metadata.json").write_text(json.dumps({"parameter_count": 1}))
    with pytest.raises(ValueError, match="must name its `task` and `n_demos`"):
        evaluation.evaluate_preset(str(folder))
    with pytest.raises(ValueError, match="Built-in presets: .*ravens_block_insertion.*nowhere"):
        evaluation.evaluate_preset(str(tmp_path / "nowhere"))


def test_record_evaluation_writes_the_result_into_the_metadata(tmp_path):
    folder = tmp_path / "preset"
    folder.mkdir()
    (folder / "config.json").write_text("{}")
    (folder / "metadata.json").write_text(json.dumps({"task": "block-insertion", "n_demos": 10}))
    result = {
        "score": 50.0,
        "success_rate": 50.0,
        "mean_reward": 0.5,
        "episodes": 2,
        "seeds": [1, 3],
        "successes": [True, False],
        "rewards": [1.0, 0.0],
        "test_time_turns": 4,
        "subpixel_place": True,
    }
    path = evaluation.record_evaluation(str(folder), result)
    metadata = json.loads(open(path).read())
    assert metadata["success_rate"] == 50.0 and metadata["n_demos"] == 10
    assert metadata["score"] == 50.0
    assert metadata["evaluation"]["seeds"] == [1, 3]
    assert metadata["evaluation"]["rewards"] == [1.0, 0.0]
    assert metadata["evaluation"]["successes"] == [True, False]
    assert metadata["evaluation"]["test_time_turns"] == 4
    assert metadata["evaluation"]["subpixel_place"] is True


@pytest.mark.slow
def test_the_block_insertion_preset_scores_its_recorded_rewards_on_seeds_1_3_5():
    recorded = evaluation.preset_metadata("ravens_block_insertion")["evaluation"]
    model = TransporterNet.from_preset("ravens_block_insertion")
    result = evaluation.evaluate_transporter(model, "block-insertion", 3)
    assert result["seeds"] == [1, 3, 5] == recorded["seeds"][:3]
    assert result["rewards"] == recorded["rewards"][:3]
    assert result["successes"] == recorded["successes"][:3]
