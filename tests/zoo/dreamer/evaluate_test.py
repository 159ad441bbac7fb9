import json

import numpy as np
import pytest
from PIL import Image

from keras_suite.envs import GymAdapter, PixelCartPole
from keras_suite.envs.minatar import make_minatar
from keras_suite.zoo import DreamerV2
from keras_suite.zoo.dreamer import evaluate, save_episode_gif
from keras_suite.zoo.dreamer.evaluate import record_evaluation


def test_returns_match_a_greedy_loop_by_hand():
    agent = DreamerV2.from_preset("tiny_cartpole_pixels")
    calls = []
    results = evaluate(
        agent,
        GymAdapter(PixelCartPole(), seed=7),
        episodes=2,
        progress=lambda done, total, **values: calls.append((done, total, values["return"])),
    )
    env = PixelCartPole()
    expected, seed = [], 7
    for _ in range(2):
        image, _ = env.reset(seed=seed)
        seed, state, total, first, done = None, None, 0.0, True, False
        while not done:
            batch = {"image": image[None], "is_first": np.array([first])}
            action, state = agent.policy(batch, state, training=False)
            image, reward, terminated, truncated, _ = env.step(int(np.argmax(action[0])))
            total, first, done = total + reward, False, terminated or truncated
        expected.append(total)
    assert results["returns"] == expected
    assert results["mean_return"] == pytest.approx(np.mean(expected))
    assert calls == [(1, 2, expected[0]), (2, 2, expected[1])]


def _small_minatar_agent():
    return DreamerV2.from_hparams(
        "minatar",
        (10, 10, 4),
        3,
        deter_size=8,
        stoch_size=2,
        num_classes=2,
        hidden_size=8,
        mlp_units=8,
        mlp_layers=1,
        seed=0,
    )


def test_named_environments_play_each_episode_on_its_own_evaluation_seed():
    agent = _small_minatar_agent()
    results = evaluate(agent, "minatar:breakout", episodes=3, seed=40)
    assert results["seeds"] == [40, 41, 42] and results["policy"] == "greedy"
    expected = []
    for seed in (40, 41, 42):
        env = make_minatar("breakout")
        (grid, _), state, total, first, done = env.reset(seed=seed), None, 0.0, True, False
        while not done:
            batch = {"image": grid[None], "is_first": np.array([first])}
            action, state = agent.policy(batch, state, training=False)
            grid, reward, terminated, truncated, _ = env.step(int(np.argmax(action[0])))
            total, first, done = total + reward, False, terminated or truncated
        expected.append(total)
    assert results["returns"] == expected
    assert results["std_return"] == pytest.approx(np.std(expected))
    assert results["frames"] == results["env_steps"] > 0
    assert results["train_frames"] is None and results["train_updates"] is None
    assert evaluate(agent, "minatar:breakout", episodes=1, sample=True)["policy"] == "sampled"


def test_episode_gif_shows_the_evaluated_episode_in_colour(tmp_path):
    agent = _small_minatar_agent()
    path = str(tmp_path / "breakout.gif")
    played = save_episode_gif(agent, "minatar:breakout", path, seed=40)
    assert played["return"] == evaluate(agent, "minatar:breakout", seed=40)["returns"][0]
    env = make_minatar("breakout")
    grids = [env.reset(seed=40)[0]]
    agent_frames = []
    with Image.open(path) as gif:
        assert gif.n_frames == played["frames"] == played["env_steps"] + 1
        for index in range(gif.n_frames):
            gif.seek(index)
            agent_frames.append(np.asarray(gif.convert("RGB")))
    first = agent_frames[0]
    assert first.shape == (40, 40, 3)
    # Each 10x10 cell is a 4x4 block: black where no channel is on, coloured where one is.
    cells = first[::4, ::4]
    assert np.array_equal(cells.any(axis=-1), grids[0].any(axis=-1))
    assert np.array_equal(first, np.repeat(np.repeat(cells, 4, axis=0), 4, axis=1))
    short = save_episode_gif(agent, "minatar:breakout", path, seed=40, max_frames=3)
    assert short["frames"] == 3 and short["env_steps"] == played["env_steps"]


def test_errors():
    with pytest.raises(ValueError, match="6 actions but the environment has 2"):
        evaluate("pong_world_model", "cartpole_pixels")
    with pytest.raises(ValueError, match="episodes"):
        evaluate("tiny_cartpole_pixels", "cartpole_pixels", episodes=0)
    with pytest.raises(ValueError, match="max_frames"):
        save_episode_gif("tiny_cartpole_pixels", "cartpole_pixels", "x.gif", max_frames=0)


@pytest.mark.backend_independent
def test_record_evaluation_keeps_the_protocol(tmp_path):
    with open(tmp_path / "metadata.json", "w") as f:
        json.dump({"frames": 100}, f)
    results = {
        "mean_return": 2.0,
        "std_return": 1.0,
        "returns": [1.0, 3.0],
        "seeds": [5, 6],
        "policy": "greedy",
        "frames": 40,
        "env_steps": 40,
    }
    record_evaluation(str(tmp_path), results, "minatar:breakout")
    metadata = json.load(open(tmp_path / "metadata.json"))
    assert metadata["frames"] == 100
    expected = {key: value for key, value in results.items() if key != "env_steps"}
    assert metadata["evaluation"] == dict(expected, env="minatar:breakout", episodes=2)
    with pytest.raises(ValueError, match="preset_folder"):
        record_evaluation(str(tmp_path / "missing"), results, "minatar:breakout")
