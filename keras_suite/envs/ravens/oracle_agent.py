"""`OracleAgent`: the scripted, stochastic expert that makes Ravens demonstrations."""

import numpy as np


class OracleAgent:
    """The Ravens expert: reads privileged simulator state to solve the task's next goal.

    It picks the object farthest from a free target it may take, at a point drawn uniformly
    from the object's visible surface in the fused height map, and places it so that the object
    lands on the target (sweeping pushes instead). Demonstrations vary with the random pick
    point.

    Args:
        env: a `RavensEnv`.
        seed: seed of the agent's random choices. Each episode draws from a generator seeded
            with `(seed, episode seed)`, so an episode replays identically whatever ran before
            it, and the environment's own random stream is left untouched.

    Example:

    ```python
    env = ravens.make("block-insertion")
    agent = ravens.OracleAgent(env)
    obs, info = env.reset(seed=1)
    obs, reward, terminated, truncated, info = env.step(agent.act(obs, info))
    ```
    """

    def __init__(self, env, seed=0):
        self.env = env
        self.seed = seed
        self._rng = None
        self._episode = None

    def act(self, observation, info=None):
        """The next action `{"pose0": ..., "pose1": ...}`, or `None` when the task is done."""
        if self._episode != self.env.episodes:
            self._episode = self.env.episodes
            episode_seed = -1 if self.env.seed is None else self.env.seed
            self._rng = np.random.default_rng([int(self.seed), episode_seed + 1])
        return self.env.task.oracle_action(self.env, observation, self._rng)
