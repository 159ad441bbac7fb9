import numpy as np
import pytest

from keras_suite.envs import GymAdapter, PixelCartPole
from keras_suite.envs.atari import make_atari
from keras_suite.zoo.dreamer import make_env


def test_names_give_the_environments_through_the_adapter():
    pong = make_env("atari:pong", time_limit=10, seed=4)
    assert isinstance(pong, GymAdapter) and pong.obs_shape == (64, 64, 1)
    assert pong.num_actions == 6 and pong.env.spec.max_episode_steps == 10
    reference = make_atari("pong", time_limit=10)
    np.testing.assert_array_equal(pong.reset()["image"], reference.reset(seed=4)[0])
    cartpole = make_env("cartpole_pixels", seed=2)
    assert isinstance(cartpole.env, PixelCartPole) and cartpole.obs_shape == (64, 64, 1)
    np.testing.assert_array_equal(cartpole.reset()["image"], PixelCartPole().reset(seed=2)[0])
    assert make_env("CartPole-v1").obs_shape == {"vector": (4,)}


def test_bad_names():
    with pytest.raises(ValueError, match="ALE ROM id"):
        make_env("atari:pongg")
    with pytest.raises(ValueError, match="registered gymnasium id"):
        make_env("cartpole-pixels")
    with pytest.raises(ValueError, match="Received: env=''"):
        make_env("")
