import json
import os

import numpy as np
import pytest

from keras_suite.zoo import DreamerV2
from keras_suite.zoo.dreamer import train

LOOP = dict(
    batch_size=2, seq_len=5, train_every=10, log_every=10, eval_every=10**9, checkpoint_every=10**9
)


def test_tiny_pixel_cartpole_run_reports_what_ran_and_resumes(tmp_path):
    calls = []
    results = train(
        "cartpole_pixels",
        tmp_path / "run",
        config="tiny",
        steps=40,
        prefill=20,
        loop=LOOP,
        progress=lambda done, total, **values: calls.append((done, total, values)),
    )
    assert results["env_steps"] == results["new_env_steps"] == 40
    assert results["prefill_done"] and results["updates"] >= 1
    # One progress call per environment step; the updates shown are those that ran.
    assert [c[0] for c in calls] == list(range(1, 41)) and {c[1] for c in calls} == {40}
    assert calls[-1][2]["updates"] == results["updates"]
    assert "loss" in calls[-1][2] and "return" in calls[-1][2]
    # With `log_every` = `train_every`, every update is logged at once in metrics.jsonl.
    rows = [json.loads(line) for line in open(results["metrics"])]
    assert results["updates"] == sum("train/loss" in r for r in rows)
    for key in ("losses_plot", "video"):
        assert os.path.isfile(results[key])
    agent = DreamerV2.from_preset(results["preset"])
    assert agent.world_model.obs_keys == ("image",)
    again = train(
        "cartpole_pixels", tmp_path / "run", config="tiny", steps=50, prefill=20, loop=LOOP
    )
    assert again["env_steps"] == 50 and again["new_env_steps"] == 10
    assert again["updates"] == results["updates"] + again["new_updates"]


def test_minatar_run_logs_its_learning_curve_against_frames(tmp_path):
    from keras_suite.zoo.dreamer.learning_curve import learning_curve

    loop = dict(LOOP, eval_every=60, eval_episodes=1)
    results = train("minatar:breakout", tmp_path, config="minatar", steps=80, prefill=40, loop=loop)
    assert results["frames"] == results["env_steps"] == 80 and results["updates"] >= 1
    rows = [json.loads(line) for line in open(results["metrics"])]
    episodes = [r for r in rows if "episode/return" in r]
    # Each finished episode is logged at the step where it ended, with its length.
    assert episodes and np.cumsum([r["episode/length"] for r in episodes]).tolist() == [
        r["step"] for r in episodes
    ]
    curve = learning_curve(results["metrics"], window=2)
    assert curve["frames"].tolist() == [r["step"] for r in episodes]
    returns = [r["episode/return"] for r in episodes]
    assert curve["mean_returns"][-1] == pytest.approx(np.mean(returns[-2:]))
    assert len(curve["eval_returns"]) == 1 and curve["eval_frames"].tolist() == [60]
    for key in ("losses_plot", "learning_curve", "video"):
        assert os.path.isfile(results[key])
    metadata = DreamerV2.preset_metadata(results["preset"])
    assert (metadata["frames"], metadata["updates"]) == (80, results["updates"])
    assert metadata["train_every"] == 10 and 0 <= metadata["train_hours"] < 1


def test_no_update_while_the_prefill_runs(tmp_path):
    results = train("CartPole-v1", tmp_path, config="tiny", steps=30, prefill=1000, loop=LOOP)
    assert (results["env_steps"], results["updates"], results["prefill_done"]) == (30, 0, False)
    assert results["video"] is None


def test_bad_arguments_fail_before_any_folder_is_made(tmp_path):
    with pytest.raises(ValueError, match="`steps` must be a positive integer"):
        train("cartpole_pixels", tmp_path / "a", steps=0)
    with pytest.raises(ValueError, match="registered gymnasium id.*NotAnEnv-v0"):
        train("NotAnEnv-v0", tmp_path / "b", steps=10)
    with pytest.raises(ValueError, match="ALE ROM id"):
        train("atari:not_a_game", tmp_path / "c", steps=10)
    with pytest.raises(ValueError, match="config"):
        train("cartpole_pixels", tmp_path / "d", config="huge", steps=10)
    with pytest.raises(ValueError, match="seed"):
        train("cartpole_pixels", tmp_path / "f", steps=10, seed=1_000_000)
    with pytest.raises(ValueError, match="unknown keys"):
        train("cartpole_pixels", tmp_path / "e", steps=10, loop={"train_evry": 3})
    assert os.listdir(tmp_path) == []


def test_a_new_run_starts_from_a_presets_weights(tmp_path):
    from keras import ops

    preset = DreamerV2.from_preset("tiny_cartpole_pixels")
    # No update runs (the prefill is longer than the run): the agent is the preset's.
    results = train(
        "cartpole_pixels",
        tmp_path / "run",
        config="tiny",
        steps=10,
        prefill=20,
        loop=LOOP,
        from_preset="tiny_cartpole_pixels",
    )
    assert results["updates"] == 0
    agent = DreamerV2.from_preset(results["preset"])
    assert len(agent.weights) == len(preset.weights)
    for ours, theirs in zip(agent.weights, preset.weights):
        np.testing.assert_array_equal(ops.convert_to_numpy(ours), ops.convert_to_numpy(theirs))
    metadata = DreamerV2.preset_metadata(results["preset"])
    assert metadata["from_preset"] == "tiny_cartpole_pixels"
    assert metadata["description"] == (
        "DreamerV2 agent from tiny_cartpole_pixels on cartpole_pixels: 10 steps, 0 updates."
    )
    with pytest.raises(ValueError, match="from_preset.*6 actions"):
        train("cartpole_pixels", tmp_path / "pong", from_preset="pong_world_model", steps=5)
