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


def test_minatar_grids_pass_unchanged():
    from keras_suite.envs.minatar import make_minatar
    from keras_suite.zoo.dreamer.make_env import frames_per_step

    env = make_env("minatar:seaquest", time_limit=7, seed=3)
    assert env.obs_shape == (10, 10, 10) and env.num_actions == 6
    reference = make_minatar("seaquest", time_limit=7)
    obs, frames = env.reset(), [reference.reset(seed=3)[0]]
    steps = [obs]
    while not obs["is_last"]:
        obs = env.step(2)
        steps.append(obs)
        frames.append(reference.step(2)[0])
    assert len(steps) == 8 and obs["is_terminal"] is False
    np.testing.assert_array_equal(np.stack([o["image"] for o in steps]), np.stack(frames))
    assert (frames_per_step("minatar:seaquest"), frames_per_step("atari:pong")) == (1, 4)


def test_bad_names():
    with pytest.raises(ValueError, match="ALE ROM id"):
        make_env("atari:pongg")
    with pytest.raises(ValueError, match="registered gymnasium id"):
        make_env("cartpole-pixels")
    with pytest.raises(ValueError, match="Received: env=''"):
        make_env("")
    with pytest.raises(ValueError, match="asterix, breakout, freeway, seaquest, space_invaders"):
        make_env("minatar:pong")
