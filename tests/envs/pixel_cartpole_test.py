import warnings

import gymnasium as gym
import numpy as np
from gymnasium.utils.env_checker import check_env

from keras_suite.envs import PixelCartPole


def test_images_follow_the_wrapped_state():
    env = PixelCartPole()
    reference = gym.make("CartPole-v1")
    obs, _ = env.reset(seed=4)
    state, _ = reference.reset(seed=4)
    assert obs.shape == (64, 64, 1) and obs.dtype == np.uint8
    for _ in range(8):
        obs, *_ = env.step(0)  # push left: the cart drifts left, the pole tips right
        state, *_ = reference.step(0)
    np.testing.assert_array_equal(obs, PixelCartPole.render_state(state))
    cart_columns = np.nonzero(obs[47, :, 0] == 255)[0]
    # The cart's box spans 12 pixels centred on 32 + x / 2.4 * 28.
    assert abs(cart_columns.mean() - (32 + state[0] / 2.4 * 28)) <= 1.0
    assert len(cart_columns) in (12, 13)


def test_episode_ends_when_the_pole_falls():
    env = PixelCartPole()
    env.reset(seed=0)
    steps, terminated = 0, False
    while not terminated:
        _, _, terminated, truncated, _ = env.step(1)
        steps += 1
        assert not truncated
    assert steps < 100


def test_passes_gymnasium_env_checker():
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*different from the unwrapped")
        check_env(PixelCartPole(), skip_render_check=True)
