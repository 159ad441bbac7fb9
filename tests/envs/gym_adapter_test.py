import gymnasium as gym
import numpy as np
import pytest

from keras_suite.envs import GymAdapter


def test_vector_env_matches_the_wrapped_env():
    env = GymAdapter("CartPole-v1", seed=5)
    reference = gym.make("CartPole-v1")
    obs = env.reset()
    expected, _ = reference.reset(seed=5)
    np.testing.assert_allclose(obs["vector"], expected)
    assert obs["is_first"] and env.num_actions == 2 and not env.continuous
    total = 0.0
    while True:
        obs = env.step(np.eye(2)[1])  # one-hot actions
        expected, reward, terminated, truncated, _ = reference.step(1)
        np.testing.assert_allclose(obs["vector"], expected)
        total += reward
        if terminated or truncated:
            break
    assert obs["is_last"] and obs["is_terminal"] and total > 0


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
    obs = env.reset()
    assert obs["pixels"].shape == (8, 8, 1) and obs["position"].shape == (2,)
    obs = env.step(np.array([-1.0, 0.5]))
    np.testing.assert_allclose(raw.last_action, [0.0, 3.0])
    assert obs["is_last"] and not obs["is_terminal"] and obs["reward"] == 1.0


def test_bad_action_space():
    class MultiEnv(gym.Env):
        observation_space = gym.spaces.Box(0, 1, (2,))
        action_space = gym.spaces.MultiDiscrete([2, 3])

    with pytest.raises(ValueError, match="action space"):
        GymAdapter(MultiEnv())
