import warnings

import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from minatar import Environment

from keras_suite.envs.minatar import GAMES, MinAtarEnv, make_minatar


def _raw_episode(game, seed, actions):
    """States and rewards of a fresh `minatar.Environment` seeded with `seed`."""
    env = Environment(game)
    env.seed(seed)
    env.reset()
    minimal = env.minimal_action_set()
    states, rewards = [env.state().astype(np.uint8)], []
    for action in actions:
        reward, done = env.act(minimal[action])
        states.append(env.state().astype(np.uint8))
        rewards.append(float(reward))
        if done:
            break
    return states, rewards


@pytest.mark.parametrize("game", GAMES)
def test_episodes_match_the_raw_minatar_environment(game):
    env = make_minatar(game)
    rng = np.random.default_rng(3)
    actions = rng.integers(0, env.action_space.n, 300)
    for seed in (5, 6):
        states, rewards = _raw_episode(game, seed, actions)
        obs, _ = env.reset(seed=seed)
        got_states, got_rewards = [obs], []
        for action in actions[: len(rewards)]:
            obs, reward, terminated, truncated, _ = env.step(action)
            got_states.append(obs)
            got_rewards.append(reward)
        assert obs.dtype == np.uint8 and set(np.unique(obs)) <= {0, 1}
        np.testing.assert_array_equal(np.stack(got_states), np.stack(states))
        assert got_rewards == rewards
        assert terminated == (len(rewards) < len(actions)) and not truncated


def test_spaces_seeding_and_checker():
    shapes = {"asterix": 4, "breakout": 4, "freeway": 7, "seaquest": 10, "space_invaders": 6}
    actions = {"asterix": 5, "breakout": 3, "freeway": 3, "seaquest": 6, "space_invaders": 4}
    for game in GAMES:
        env = MinAtarEnv(game)
        assert env.observation_space.shape == (10, 10, shapes[game])
        assert env.action_space.n == actions[game]
    # The same seed replays the same episode; another seed plays another.
    a, b = MinAtarEnv("asterix"), MinAtarEnv("asterix")
    a.reset(seed=9)
    first = [a.step(0)[0] for _ in range(30)]
    a.reset(seed=9)
    assert all(np.array_equal(x, a.step(0)[0]) for x in first)
    b.reset(seed=10)
    assert not all(np.array_equal(x, b.step(0)[0]) for x in first)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check_env(MinAtarEnv("seaquest"), skip_render_check=True)


def test_time_limit_and_errors():
    env = make_minatar("freeway", time_limit=5)
    env.reset(seed=0)
    truncated = [env.step(1)[3] for _ in range(5)]
    assert truncated == [False] * 4 + [True]
    with pytest.raises(ValueError, match="asterix, breakout, freeway, seaquest, space_invaders"):
        make_minatar("pong")
    with pytest.raises(ValueError, match="sticky_action_prob"):
        make_minatar("breakout", sticky_action_prob=1.5)
    with pytest.raises(ValueError, match="time_limit"):
        make_minatar("breakout", time_limit=0)
