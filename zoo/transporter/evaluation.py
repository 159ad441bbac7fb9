"""Evaluating Transporter Networks on unseen Ravens scenes, as the paper scores them.

A score is the mean over test episodes of each episode's total reward, which gives partial
credit (Ravens' `test.py` and `plot.py`): a towers-of-hanoi episode that makes 6 of its 7 moves
scores 6/7. On single-goal tasks (block-insertion, align-box-corner) it is the success rate.
Test scenes are the odd seeds; even seeds are the training scenes.
"""

import functools
import json
import os

from keras_suite.presets.preset_mixin import CONFIG_FILE, METADATA_FILE, write_metadata


def evaluate_transporter(
    model, task, episodes=10, first_seed=1, max_steps=None, gif_path=None, progress=None
):
    """Runs `model.act` on `episodes` unseen Ravens scenes: odd seeds `first_seed`, +2, ...

    A `GoalTransporterNet` is shown, as its goal, the last observation of the oracle's episode
    on the same seed.

    Args:
        model: a `TransporterNet` (or anything with `act(obs, info)`, `test_time_turns` and
            `subpixel_place`).
        task: the Ravens task name.
        episodes: number of test episodes.
        first_seed: the first seed, odd.
        max_steps: overrides the task's step limit.
        gif_path: if given, the first episode is saved there as a GIF (front camera).
        progress: called as `progress(done, episodes, reward=..., score=...)` after each
            episode (the episode's total reward, the running score in %).

    Returns:
        A dict: `score` (the paper's metric: the mean episode reward, in %), `success_rate`
        (%, episodes that reach every goal), `mean_reward`, `episodes`, `seeds`, `successes`,
        `rewards` (each episode's total, rounded to 4 decimals) and the model's
        `test_time_turns` and `subpixel_place`.

    Example:

    ```python
    model = TransporterNet.from_preset("ravens_block_insertion")
    result = evaluate_transporter(model, "block-insertion", episodes=3)
    result["rewards"]  # [1.0, 1.0, 1.0]
    ```
    """
    if episodes < 1:
        raise ValueError(f"`episodes` must be a positive integer. Received: episodes={episodes}")
    if first_seed < 1 or first_seed % 2 == 0:
        raise ValueError(
            "`first_seed` must be odd and positive (even seeds are training scenes). "
            f"Received: first_seed={first_seed}"
        )
    from keras_suite.envs import ravens
    from keras_suite.envs.ravens.demonstrations import run_episode, write_gif
    from keras_suite.zoo.transporter.goal_transporter_net import GoalTransporterNet

    env = ravens.make(task, max_steps=max_steps)
    successes, rewards, seeds = [], [], []
    act = model.act
    try:
        for index in range(episodes):
            seed = first_seed + 2 * index
            if isinstance(model, GoalTransporterNet):
                oracle_episode, _ = run_episode(env, ravens.OracleAgent(env), seed)
                goal = {key: oracle_episode[key][-1] for key in ("colormap", "heightmap")}
                act = functools.partial(model.act, goal=goal)
            obs, info = env.reset(seed=seed)
            frames = [obs["color"][0]] if gif_path and index == 0 else None
            total = 0.0
            while True:
                obs, reward, terminated, truncated, info = env.step(act(obs, info))
                total += reward
                if frames is not None:
                    frames.append(obs["color"][0])
                if terminated or truncated:
                    break
            if frames is not None:
                write_gif(frames, gif_path)
            successes.append(bool(info["success"]))
            rewards.append(total)
            seeds.append(seed)
            if progress:
                progress(
                    index + 1, episodes, reward=total, score=100.0 * sum(rewards) / len(rewards)
                )
    finally:
        env.close()
    mean_reward = float(sum(rewards) / len(rewards))
    return {
        "score": 100.0 * mean_reward,
        "success_rate": 100.0 * sum(successes) / len(successes),
        "mean_reward": mean_reward,
        "episodes": len(successes),
        "seeds": seeds,
        "successes": successes,
        "rewards": [round(reward, 4) for reward in rewards],
        "test_time_turns": model.test_time_turns,
        "subpixel_place": model.subpixel_place,
    }


def preset_folder(preset):
    """The folder of a `TransporterNet` preset: a built-in name or a preset folder.

    Raises:
        ValueError: when `preset` is neither.
    """
    from keras_suite.zoo.transporter.transporter_net import TransporterNet

    builtin = os.path.join(TransporterNet.preset_dir, str(preset))
    for folder in (builtin, str(preset)):
        if os.path.isfile(os.path.join(folder, CONFIG_FILE)):
            return folder
    names = sorted(
        name
        for name in os.listdir(TransporterNet.preset_dir)
        if os.path.isfile(os.path.join(TransporterNet.preset_dir, name, CONFIG_FILE))
    )
    raise ValueError(
        "`preset` must be a built-in Transporter preset or a preset folder (with "
        f"{CONFIG_FILE}). Built-in presets: {', '.join(names)}. Received: {preset}"
    )


def preset_metadata(preset):
    """The `metadata.json` of a `TransporterNet` preset (a built-in name or a folder), a dict."""
    path = os.path.join(preset_folder(preset), METADATA_FILE)
    if not os.path.isfile(path):
        return {}
    with open(path) as f:
        return json.load(f)


def evaluate_preset(
    preset, episodes=10, first_seed=1, test_time_turns=None, subpixel_place=None, progress=None
):
    """Evaluates a Transporter preset on the task its metadata names (`evaluate_transporter`).

    Args:
        preset: a built-in preset name or a preset folder written by `train_transporter`.
        episodes: number of test episodes.
        first_seed: the first test seed, odd.
        test_time_turns: overrides the preset's own setting (1, 2 or 4), or `None`.
        subpixel_place: overrides the preset's own setting, or `None`.
        progress: passed to `evaluate_transporter`.

    Returns:
        The dict of `evaluate_transporter`, plus `model` (the preset), `task`, `n_demos` and
        `goal_conditioned`.

    Example:

    ```python
    result = evaluate_preset("ravens_block_insertion", episodes=3)
    result["score"]  # 100.0
    ```
    """
    from keras_suite.zoo.transporter.transporter_net import TransporterNet

    metadata = check_preset_metadata(preset)
    overrides = {
        option: value
        for option, value in (
            ("test_time_turns", test_time_turns),
            ("subpixel_place", subpixel_place),
        )
        if value is not None
    }
    model = TransporterNet.from_preset(preset, **overrides)
    result = evaluate_transporter(
        model, metadata["task"], episodes, first_seed=first_seed, progress=progress
    )
    return dict(
        result,
        model=preset,
        task=metadata["task"],
        n_demos=metadata["n_demos"],
        goal_conditioned=bool(metadata.get("goal_conditioned", False)),
    )


def check_preset_metadata(preset):
    """The preset's metadata, checked to name the `task` and `n_demos` an evaluation needs."""
    metadata = preset_metadata(preset)
    if metadata.get("task") is None or metadata.get("n_demos") is None:
        raise ValueError(
            "The preset's metadata.json must name its `task` and `n_demos` (presets written "
            f"by `train_transporter` do). Received: preset={preset!r}"
        )
    return metadata


def record_evaluation(preset, result):
    """Writes an evaluation into the preset's `metadata.json` (`score`, `success_rate` and,
    under `evaluation`, the seeds and each episode's outcome and reward).

    Args:
        preset: a built-in preset name or a preset folder.
        result: a dict returned by `evaluate_preset` or `evaluate_transporter`.

    Returns:
        The path of the `metadata.json` written.
    """
    metadata = preset_metadata(preset)
    metadata["score"] = round(result["score"], 2)
    metadata["success_rate"] = result["success_rate"]
    metadata["evaluation"] = {
        "success_rate": result["success_rate"],
        "mean_reward": round(result["mean_reward"], 6),
        "episodes": result["episodes"],
        "seeds": result["seeds"],
        "successes": result["successes"],
        "rewards": result["rewards"],
        "test_time_turns": result["test_time_turns"],
        "subpixel_place": result["subpixel_place"],
    }
    return write_metadata(preset_folder(preset), metadata)
