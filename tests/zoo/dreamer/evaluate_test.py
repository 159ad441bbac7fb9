import numpy as np
import pytest

from keras_suite.envs import GymAdapter, PixelCartPole
from keras_suite.envs.minatar import make_minatar
from keras_suite.zoo import DreamerV2
from keras_suite.zoo.dreamer import evaluate


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


def test_named_environments_play_each_episode_on_its_own_evaluation_seed():
    agent = DreamerV2.from_hparams(
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


def test_errors():
    with pytest.raises(ValueError, match="6 actions but the environment has 2"):
        evaluate("pong_world_model", "cartpole_pixels")
    with pytest.raises(ValueError, match="episodes"):
        evaluate("tiny_cartpole_pixels", "cartpole_pixels", episodes=0)
