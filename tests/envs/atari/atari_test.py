import ale_py
import numpy as np
import pytest
from PIL import Image

from keras_suite.envs.atari import Atari


def test_step_is_max_of_last_two_frames_resized_with_summed_rewards():
    env = Atari("pong", action_repeat=4, sticky_actions=0.0, noops=0, seed=3)
    reference = ale_py.env.AtariEnv(
        game="pong", obs_type="grayscale", frameskip=1, repeat_action_probability=0.0
    )
    obs = env.reset()
    frame, _ = reference.reset(seed=int(np.random.default_rng(3).integers(2**31)))
    assert obs["is_first"] and obs["image"].shape == (64, 64, 1) and obs["image"].dtype == np.uint8
    for action in [0, 2, 3, 1, 2, 2, 3]:
        obs = env.step(action)
        frames, reward = [], 0.0
        for _ in range(4):
            frame, r, *_ = reference.step(action)
            frames.append(frame)
            reward += r
        expected = Image.fromarray(np.maximum(frames[-1], frames[-2])).resize(
            (64, 64), Image.BILINEAR
        )
        np.testing.assert_array_equal(obs["image"][..., 0], np.asarray(expected))
        assert obs["reward"] == reward
    assert not obs["is_first"]
    # The emulator behind the wrapper is the reference's twin: the same console RAM.
    np.testing.assert_array_equal(env.ale.getRAM(), reference.ale.getRAM())


def test_time_limit_ends_without_terminal_and_one_hot_actions():
    env = Atari("pong", time_limit=5, seed=0, grayscale=False, size=(32, 48))
    obs = env.reset()
    assert obs["image"].shape == (32, 48, 3)
    for _ in range(5):
        obs = env.step(np.eye(env.num_actions)[1])
    assert obs["is_last"] and not obs["is_terminal"]
    with pytest.raises(RuntimeError, match="reset"):
        env.step(0)


def test_full_action_space_and_errors():
    assert Atari("pong", full_action_space=True).num_actions == 18
    with pytest.raises(ValueError, match="ROM"):
        Atari("not_a_game")
    with pytest.raises(ValueError, match="sticky_actions"):
        Atari("pong", sticky_actions=2.0)
    env = Atari("pong")
    env.reset()
    with pytest.raises(ValueError, match="action"):
        env.step(6)
