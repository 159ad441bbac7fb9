"""Plays greedy episodes with a DreamerV2 agent: its evaluation return."""

import numpy as np


def observation_batch(agent, observations):
    """The agent's policy input for a list of observation dicts (one per environment)."""
    keys = agent.world_model.obs_keys
    batch = {k: np.stack([np.asarray(o[k]) for o in observations]) for k in keys}
    batch["is_first"] = np.array([o["is_first"] for o in observations])
    return batch


def evaluate(agent, env, episodes=1, seed=0, time_limit=27000, progress=None):
    """Plays `episodes` greedy episodes with a DreamerV2 agent; returns their returns.

    Args:
        agent: a `DreamerV2`, or a preset name or folder (`DreamerV2.from_preset`).
        env: an environment with the observation-dict interface (`keras_suite.envs.GymAdapter`),
            or a name for `keras_suite.zoo.dreamer.make_env` such as `"atari:pong"` or
            `"cartpole_pixels"`.
        episodes: how many episodes to play.
        seed: seed of the first reset when `env` is a name.
        time_limit: the Atari episode limit in agent steps when `env` is a name.
        progress: optional `progress(done, total, **values)`, called after each episode with
            its `return`.

    Returns:
        A dict: `mean_return`, `returns` (one per episode) and `env_steps` (steps played).

    Example:

    ```python
    results = evaluate("tiny_cartpole_pixels", "cartpole_pixels", episodes=1)
    results["mean_return"]
    ```
    """
    from keras_suite.zoo.dreamer.dreamer_v2 import DreamerV2
    from keras_suite.zoo.dreamer.make_env import make_env

    if not isinstance(episodes, int) or episodes < 1:
        raise ValueError(f"`episodes` must be a positive integer. Received: episodes={episodes!r}")
    if isinstance(env, str):
        env = make_env(env, time_limit=time_limit, seed=seed)
    if isinstance(agent, str):
        agent = DreamerV2.from_preset(agent)
    if agent.num_actions != env.num_actions:
        raise ValueError(
            f"The agent acts with {agent.num_actions} actions but the environment has "
            f"{env.num_actions}: evaluate it on the environment it was trained on. "
            f"Received: num_actions={env.num_actions}"
        )
    returns, steps = [], 0
    for episode in range(episodes):
        obs, state, total = env.reset(), None, 0.0
        while not obs["is_last"]:
            action, state = agent.policy(observation_batch(agent, [obs]), state, training=False)
            obs = env.step(action[0])
            total += float(obs["reward"])
            steps += 1
        returns.append(total)
        if progress is not None:
            progress(episode + 1, episodes, **{"return": total})
    return {"mean_return": float(np.mean(returns)), "returns": returns, "env_steps": steps}
