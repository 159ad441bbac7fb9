import warnings

import ale_py
import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from PIL import Image

from keras_suite.envs.atari import make_atari


def by_hand(frames):
    """DreamerV2's observation from raw ALE frames: the maximum of the last two, resized to 64x64
    with Pillow's bilinear filter."""
    pooled = np.maximum(frames[-1], frames[-2]) if len(frames) > 1 else frames[-1]
    return np.asarray(Image.fromarray(pooled).resize((64, 64), Image.BILINEAR))[..., None]


def test_frames_match_raw_ale_with_noops_sticky_actions_and_frame_skip():
    env = make_atari("pong")
    reference = ale_py.env.AtariEnv(
        game="pong", obs_type="grayscale", frameskip=1, repeat_action_probability=0.25
    )
    obs, _ = env.reset(seed=3)
    frame, _ = reference.reset(seed=3)
    # `AtariPreprocessing` draws 1 to 30 no-ops from the emulator's generator after the reset.
    for _ in range(int(reference.np_random.integers(1, 31))):
        frame, *_ = reference.step(0)
    assert obs.shape == (64, 64, 1) and obs.dtype == np.uint8
    np.testing.assert_array_equal(obs, by_hand([frame]))
    rng = np.random.default_rng(0)
    for _ in range(60):
        action = int(rng.integers(env.action_space.n))
        obs, reward, terminated, truncated, info = env.step(action)
        frames, total = [], 0.0
        for _ in range(4):
            frame, r, *_ = reference.step(action)
            frames.append(frame)
            total += r
        np.testing.assert_array_equal(obs, by_hand(frames))
        assert reward == total and not terminated and not truncated
    # The emulator behind the wrappers is the reference's twin: the same console RAM.
    np.testing.assert_array_equal(env.unwrapped.ale.getRAM(), reference.ale.getRAM())


def test_passes_gymnasium_env_checker():
    env = make_atari("pong")
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*different from the unwrapped")
        check_env(env, skip_render_check=True)
    assert env.observation_space == gym.spaces.Box(0, 255, (64, 64, 1), np.uint8)
    assert env.action_space == gym.spaces.Discrete(6)


def test_same_seed_same_episode_other_seed_other_start():
    def play(seed):
        env = make_atari("pong")
        frames = [env.reset(seed=seed)[0]]
        for action in [2, 3, 1, 0, 5, 4] * 20:
            frames.append(env.step(action)[0])
        return np.stack(frames), env.unwrapped.ale.getRAM()

    (first, ram), (again, ram_again), (other, _) = play(7), play(7), play(8)
    np.testing.assert_array_equal(first, again)
    np.testing.assert_array_equal(ram, ram_again)
    assert not np.array_equal(first, other)


def test_life_loss_in_info_and_as_termination():
    env = make_atari("breakout", terminal_on_life_loss=False)
    _, info = env.reset(seed=0)
    lives, losses, steps = info["lives"], 0, 0
    assert lives == 5 and not info["life_loss"]
    while losses < 2:
        _, _, terminated, truncated, info = env.step(env.action_space.sample())
        steps += 1
        assert info["life_loss"] == (info["lives"] < lives)
        losses += info["life_loss"]
        lives = info["lives"]
        assert not terminated and not truncated and steps < 5000
    env = make_atari("breakout", terminal_on_life_loss=True)
    env.reset(seed=0)
    env.action_space.seed(0)
    terminated = False
    while not terminated:
        _, _, terminated, _, info = env.step(env.action_space.sample())
    assert info["life_loss"] and info["lives"] == 4


def test_time_limit_truncates_in_agent_steps():
    env = make_atari("pong", time_limit=5, grayscale=False, size=(32, 48))
    obs, _ = env.reset(seed=0)
    assert obs.shape == (32, 48, 3)
    for step in range(5):
        obs, _, terminated, truncated, info = env.step(1)
        assert truncated == (step == 4) and not terminated
    # 5 agent steps of 4 frames after the no-ops.
    assert info["episode_frame_number"] >= 20
    assert make_atari("pong").spec.max_episode_steps == 27000


def test_full_action_space_and_errors():
    assert make_atari("pong", full_action_space=True).action_space.n == 18
    with pytest.raises(ValueError, match="ROM id"):
        make_atari("not_a_game")
    with pytest.raises(ValueError, match="sticky_actions"):
        make_atari("pong", sticky_actions=2.0)
    with pytest.raises(ValueError, match="time_limit"):
        make_atari("pong", time_limit=0)
