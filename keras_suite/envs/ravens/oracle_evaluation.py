"""`evaluate_oracle`: the Ravens oracle's success rate and speed on unseen (odd) seeds."""

import time

from keras_suite.envs.ravens import demonstrations


def evaluate_oracle(task, episodes=10, first_seed=1, gif_path=None, agent_seed=0, progress=None):
    """Runs the Ravens oracle on `episodes` test scenes: odd seeds `first_seed`, +2, ...

    Args:
        task: a Ravens task name (see `keras_suite.envs.ravens.TASKS`).
        episodes: number of episodes.
        first_seed: the first seed, odd (even seeds are training scenes).
        gif_path: if given, the first episode is saved there as a GIF (front camera).
        agent_seed: seed of the oracle's random choices.
        progress: called as `progress(done, episodes, success_rate=...)` after each episode.

    Returns:
        A dict: `seeds`, `successes` and `steps` (per episode), `success_rate` (%),
        `steps_per_episode`, `seconds` (wall time), `demos_per_minute` and
        `cpu_seconds_per_episode`.

    Example:

    ```python
    result = evaluate_oracle("block-insertion", episodes=2)
    result["success_rate"]  # 100.0
    ```
    """
    from keras_suite.envs import ravens

    if episodes < 1:
        raise ValueError(f"`episodes` must be a positive integer. Received: episodes={episodes}")
    if first_seed < 1 or first_seed % 2 == 0:
        raise ValueError(
            "`first_seed` must be odd and positive (even seeds are training scenes). "
            f"Received: first_seed={first_seed}"
        )
    env = ravens.make(task)
    seeds, successes, steps = [], [], []
    wall, cpu = time.perf_counter(), time.process_time()
    try:
        for index in range(episodes):
            seed = first_seed + 2 * index
            frames = [] if gif_path is not None and index == 0 else None
            agent = ravens.OracleAgent(env, seed=agent_seed)
            episode, success = demonstrations.run_episode(env, agent, seed, frames)
            if frames:
                demonstrations.write_gif(frames, gif_path)
            seeds.append(seed)
            successes.append(bool(success))
            steps.append(len(episode["reward"]))
            if progress:
                progress(index + 1, episodes, success_rate=100.0 * sum(successes) / (index + 1))
    finally:
        env.close()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return {
        "seeds": seeds,
        "successes": successes,
        "steps": steps,
        "success_rate": 100.0 * sum(successes) / episodes,
        "steps_per_episode": sum(steps) / episodes,
        "seconds": wall,
        "demos_per_minute": episodes / max(wall, 1e-9) * 60.0,
        "cpu_seconds_per_episode": cpu / episodes,
    }
