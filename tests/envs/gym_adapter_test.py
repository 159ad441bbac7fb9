import gymnasium as gym
import numpy as np
import pytest

from keras_suite.envs import GymAdapter, PixelCartPole
from keras_suite.envs.atari import make_atari


def test_vector_env_matches_the_wrapped_env():
    env = GymAdapter("CartPole-v1", seed=5)
    reference = gym.make("CartPole-v1")
    obs = env.reset()
    expected, _ = reference.reset(seed=5)
    np.testing.assert_allclose(obs["vector"], expected)
    assert obs["is_first"] and env.num_actions == 2 and not env.continuous
    assert env.obs_shape == {"vector": (4,)} and "life_loss" not in obs
    total = 0.0
    while True:
        obs = env.step(np.eye(2)[1])  # one-hot actions
        expected, reward, terminated, truncated, _ = reference.step(1)
        np.testing.assert_allclose(obs["vector"], expected)
        total += reward
        if terminated or truncated:
            break
    assert obs["is_last"] and obs["is_terminal"] and total > 0


def test_pixel_cartpole_images_pass_unchanged():
    env = GymAdapter(PixelCartPole(), size=(64, 64), grayscale=True, seed=3)
    reference = PixelCartPole()
    assert env.obs_shape == (64, 64, 1)
    np.testing.assert_array_equal(env.reset()["image"], reference.reset(seed=3)[0])
    for action in [0, 1, 1, 0, 1]:
        np.testing.assert_array_equal(env.step(action)["image"], reference.step(action)[0])


def test_atari_frames_life_losses_game_over_and_time_limit():
    env = GymAdapter(make_atari("breakout"), size=(64, 64), grayscale=True, seed=0)
    reference = make_atari("breakout")
    assert env.obs_shape == (64, 64, 1) and env.num_actions == 4
    obs = env.reset()
    frame, _ = reference.reset(seed=0)
    np.testing.assert_array_equal(obs["image"], frame)
    assert obs["life_loss"] is False
    rng = np.random.default_rng(0)
    losses = 0
    while not obs["is_last"]:
        action = int(rng.integers(4))
        obs = env.step(action)
        frame, reward, terminated, truncated, info = reference.step(action)
        np.testing.assert_array_equal(obs["image"], frame)
        assert obs["reward"] == reward and obs["life_loss"] == info["life_loss"]
        losses += obs["life_loss"]
    # Game over: all five lives lost, the episode is terminal.
    assert terminated and obs["is_terminal"] and losses == 5
    env = GymAdapter(make_atari("breakout", time_limit=20), seed=0)
    obs, steps = env.reset(), 0
    while not obs["is_last"]:
        obs, steps = env.step(0), steps + 1
    # The time limit truncates: the episode is over but not terminal.
    assert steps == 20 and not obs["is_terminal"]


def test_continuous_actions_are_rescaled_and_dict_observations_kept():
    class DictEnv(gym.Env):
        observation_space = gym.spaces.Dict(
            {
                "pixels": gym.spaces.Box(0, 255, (10, 12, 3), np.uint8),
                "position": gym.spaces.Box(-1, 1, (2,)),
            }
        )
        action_space = gym.spaces.Box(0.0, 4.0, (2,))

        def reset(self, seed=None, options=None):
            return {"pixels": np.full((10, 12, 3), 200, np.uint8), "position": np.zeros(2)}, {}

        def step(self, action):
            self.last_action = action
            obs, _ = self.reset()
            return obs, 1.0, False, True, {}

    raw = DictEnv()
    env = GymAdapter(raw, size=(8, 8), grayscale=True)
    assert env.continuous and env.num_actions == 2
    assert env.obs_shape == {"pixels": (8, 8, 1), "position": (2,)}
    obs = env.reset()
    assert obs["pixels"].shape == (8, 8, 1) and obs["position"].shape == (2,)
    obs = env.step(np.array([-1.0, 0.5]))
    np.testing.assert_allclose(raw.last_action, [0.0, 3.0])
    assert obs["is_last"] and not obs["is_terminal"] and obs["reward"] == 1.0


def test_errors():
    class MultiEnv(gym.Env):
        observation_space = gym.spaces.Box(0, 1, (2,))
        action_space = gym.spaces.MultiDiscrete([2, 3])

    with pytest.raises(ValueError, match="action space"):
        GymAdapter(MultiEnv())
    with pytest.raises(ValueError, match="registered gymnasium id.*NotAnEnv-v0"):
        GymAdapter("NotAnEnv-v0")
