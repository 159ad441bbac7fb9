"""MinAtar's five games (Young & Tian, 2019) as gymnasium environments."""

import gymnasium as gym
import numpy as np

# The games of the `minatar` package (`minatar/environments/`), in its order.
GAMES = ("asterix", "breakout", "freeway", "seaquest", "space_invaders")


class MinAtarEnv(gym.Env):
    """A MinAtar game as a gymnasium environment: 10x10 binary channels, minimal actions.

    MinAtar (Young & Tian, 2019, "MinAtar: An Atari-Inspired Testbed for Thorough and
    Reproducible Reinforcement Learning Experiments") shrinks five Atari games to a 10x10 grid
    whose channels each mark one kind of object (the paddle, the ball, a brick, ...). This
    environment plays `minatar.Environment` (one frame per step, no frame skip) with the
    paper's defaults: sticky actions (the previous action repeats with probability
    `sticky_action_prob`, 0.1) and difficulty ramping on. Observations are uint8 arrays of 0
    and 1 with shape (10, 10, channels): 4 channels for Asterix and Breakout, 7 for Freeway,
    10 for Seaquest, 6 for Space Invaders. Actions index the game's minimal action set
    (`minatar.Environment.minimal_action_set`: 3 actions for Breakout and Freeway, 4 for
    Space Invaders, 5 for Asterix, 6 for Seaquest). Episodes end only when the game does (a lost
    ball or life; Freeway after 2,500 frames).

    `reset(seed=s)` seeds the game's random state with `numpy.random.RandomState(s)`, as
    `minatar.Environment.seed(s)` does, so the episode is the one a fresh
    `minatar.Environment` plays after `seed(s)` with the same actions. Every reset starts
    the sticky actions from the no-op, as a fresh `minatar.Environment` does. `minatar`'s own
    `minatar.gym.register_envs()` registers `MinAtar/<Game>-v0` (all 6 actions) and `-v1`
    (minimal actions), but its `reset(seed=None)` leaves the game unseeded (operating-system
    entropy) and its sticky action carries over from the previous episode; this class seeds
    an unseeded first reset from gymnasium's `np_random` instead.

    Args:
        game: one of `GAMES`: "asterix", "breakout", "freeway", "seaquest", "space_invaders".
        sticky_action_prob: the probability that the previous action repeats.
        difficulty_ramping: whether the game speeds up as it goes on.

    Example:

    ```python
    env = MinAtarEnv("breakout")
    obs, info = env.reset(seed=0)
    obs, reward, terminated, truncated, info = env.step(env.action_space.sample())
    obs.shape, env.action_space.n  # ((10, 10, 4), 3)
    ```
    """

    metadata = {"render_modes": []}

    def __init__(self, game, sticky_action_prob=0.1, difficulty_ramping=True):
        from minatar import Environment

        if game not in GAMES:
            raise ValueError(
                f"`game` must be a MinAtar game: one of {', '.join(GAMES)}. Received: game={game!r}"
            )
        if not 0.0 <= sticky_action_prob <= 1.0:
            raise ValueError(
                "`sticky_action_prob` must be in [0, 1]. "
                f"Received: sticky_action_prob={sticky_action_prob!r}"
            )
        self.game = game
        self.sticky_action_prob = sticky_action_prob
        self.difficulty_ramping = difficulty_ramping
        self._env = Environment(game, sticky_action_prob, difficulty_ramping)
        self._seeded = False
        self.action_set = tuple(self._env.minimal_action_set())
        self.action_space = gym.spaces.Discrete(len(self.action_set))
        self.observation_space = gym.spaces.Box(0, 1, self._env.state_shape(), np.uint8)

    def _obs(self):
        return self._env.state().astype(np.uint8)

    def reset(self, seed=None, options=None):
        super().reset(seed=seed)
        if seed is not None or not self._seeded:
            self._env.seed(int(seed) if seed is not None else int(self.np_random.integers(2**31)))
            self._seeded = True
        self._env.last_action = 0
        self._env.reset()
        return self._obs(), {}

    def step(self, action):
        reward, terminated = self._env.act(self.action_set[int(action)])
        return self._obs(), float(reward), bool(terminated), False, {}


def make_minatar(game, sticky_action_prob=0.1, difficulty_ramping=True, time_limit=None):
    """A MinAtar game as a gymnasium environment, with the MinAtar paper's settings.

    Sticky actions 0.1 and difficulty ramping on are the defaults of Young & Tian (2019) and of
    `minatar.Environment`; see `MinAtarEnv`.

    Args:
        game: "asterix", "breakout", "freeway", "seaquest" or "space_invaders".
        sticky_action_prob: the probability that the previous action repeats.
        difficulty_ramping: whether the game speeds up as it goes on.
        time_limit: truncate episodes after this many frames (`None`: the game's own end).

    Returns:
        A `gymnasium.Env` with uint8 0/1 observations of shape (10, 10, channels) and the
        game's minimal action set.

    Example:

    ```python
    env = make_minatar("space_invaders")
    obs, info = env.reset(seed=0)
    obs.shape, env.action_space.n  # ((10, 10, 6), 4)
    ```
    """
    env = MinAtarEnv(game, sticky_action_prob, difficulty_ramping)
    if time_limit is None:
        return env
    if not isinstance(time_limit, int) or time_limit < 1:
        raise ValueError(
            f"`time_limit` must be a positive integer or None. Received: time_limit={time_limit!r}"
        )
    return gym.wrappers.TimeLimit(env, max_episode_steps=time_limit)
