"""Plays episodes with a DreamerV2 agent: evaluation scores, and a GIF of one episode."""

import json
import os

import numpy as np

from keras_suite.presets.preset_mixin import METADATA_FILE, write_metadata

# Seeds of the evaluation episodes: `evaluate` seeds episode i of a named environment with
# EVAL_SEED + i. `train` seeds its environment with its `seed` (below EVAL_SEED) and its
# evaluations during training with TRAIN_EVAL_SEED + seed, so no seed is shared.
EVAL_SEED = 1_000_000
TRAIN_EVAL_SEED = 2_000_000
#: The `evaluate` fields that `record_evaluation` keeps (beside the environment and episodes).
RECORDED = ("mean_return", "std_return", "returns", "seeds", "policy", "frames")


def observation_batch(agent, observations):
    """The agent's policy input for a list of observation dicts (one per environment)."""
    keys = agent.world_model.obs_keys
    batch = {k: np.stack([np.asarray(o[k]) for o in observations]) for k in keys}
    batch["is_first"] = np.array([o["is_first"] for o in observations])
    return batch


def evaluate(agent, env, episodes=1, seed=EVAL_SEED, time_limit=27000, sample=False, progress=None):
    """Plays `episodes` episodes with a DreamerV2 agent; returns their mean, std and returns.

    The protocol: the policy is greedy (the actor's most likely action, as DreamerV2 evaluates)
    unless `sample`, when actions are sampled from the actor as in training. When `env` is a
    name, episode i is played on a fresh environment whose reset is seeded with `seed + i`,
    seeds that `train` never uses with the default `seed` (see `EVAL_SEED`); an environment
    object plays its episodes one after another from its own random state.

    Args:
        agent: a `DreamerV2`, or a preset name or folder (`DreamerV2.from_preset`).
        env: an environment with the observation-dict interface (`keras_suite.envs.GymAdapter`),
            or a name for `keras_suite.zoo.dreamer.make_env` such as `"minatar:breakout"`,
            `"atari:pong"` or `"cartpole_pixels"`.
        episodes: how many episodes to play.
        seed: seed of the first episode when `env` is a name.
        time_limit: the Atari and MinAtar episode limit in agent steps when `env` is a name.
        sample: sample actions instead of taking the most likely one.
        progress: optional `progress(done, total, **values)`, called after each episode with
            its `return`.

    Returns:
        A dict: `mean_return`, `std_return`, `returns` (one per episode), `env_steps` (agent
        steps played), `frames` (environment frames played), `policy` (`"greedy"` or
        `"sampled"`), `seeds` (one per episode; `None` for an environment object), and the
        agent's training `train_frames` and `train_updates` (from a preset's metadata as
        `train` writes it; `None` when unknown).

    Example:

    ```python
    results = evaluate("tiny_cartpole_pixels", "cartpole_pixels", episodes=2)
    results["mean_return"], results["std_return"], results["seeds"]  # ..., [1000000, 1000001]
    ```
    """
    from keras_suite.zoo.dreamer.dreamer_v2 import DreamerV2
    from keras_suite.zoo.dreamer.make_env import frames_per_step, make_env

    if not isinstance(episodes, int) or episodes < 1:
        raise ValueError(f"`episodes` must be a positive integer. Received: episodes={episodes!r}")
    metadata = {}
    if isinstance(agent, str):
        metadata = DreamerV2.preset_metadata(agent)
        agent = DreamerV2.from_preset(agent)
    name = env if isinstance(env, str) else None
    seeds = [seed + i for i in range(episodes)] if name else None
    first = make_env(name, time_limit=time_limit, seed=seeds[0]) if name else env
    if agent.num_actions != first.num_actions:
        raise ValueError(
            f"The agent acts with {agent.num_actions} actions but the environment has "
            f"{first.num_actions}: evaluate it on the environment it was trained on. "
            f"Received: num_actions={first.num_actions}"
        )
    returns, steps = [], 0
    for episode in range(episodes):
        if name and episode:
            env = make_env(name, time_limit=time_limit, seed=seeds[episode])
        else:
            env = first
        total, length, _ = play_episode(agent, env, sample=sample)
        returns.append(total)
        steps += length
        if progress is not None:
            progress(episode + 1, episodes, **{"return": total})
    return {
        "mean_return": float(np.mean(returns)),
        "std_return": float(np.std(returns)),
        "returns": returns,
        "env_steps": steps,
        "frames": steps * frames_per_step(name) if name else None,
        "policy": "sampled" if sample else "greedy",
        "seeds": seeds,
        "train_frames": metadata.get("frames"),
        "train_updates": metadata.get("updates"),
    }


def record_evaluation(preset_folder, results, env):
    """Writes an `evaluate` result into a preset folder's `metadata.json`, under `evaluation`
    (the environment, policy, every episode's return and seed, the mean and spread); returns
    the path written.

    Args:
        preset_folder: a folder written by `DreamerV2.save_to_preset`.
        results: the dict `evaluate` returned.
        env: the environment name the episodes were played on.

    Example:

    ```python
    results = evaluate("runs/pong/preset", "atari:pong", episodes=10)
    record_evaluation("runs/pong/preset", results, "atari:pong")
    ```
    """
    path = os.path.join(preset_folder, METADATA_FILE)
    if not os.path.isfile(path):
        raise ValueError(
            f"`preset_folder` must be a preset folder with a {METADATA_FILE}. "
            f"Received: preset_folder={preset_folder!r}"
        )
    with open(path) as f:
        metadata = json.load(f)
    evaluation = {key: results.get(key) for key in RECORDED}
    evaluation.update(env=env, episodes=len(results["returns"]))
    metadata["evaluation"] = evaluation
    return write_metadata(preset_folder, metadata)


def play_episode(agent, env, sample=False, record=False):
    """Plays one episode of `env` (an observation-dict environment) with `agent`.

    Returns `(total_reward, steps, frames)`: `frames` holds the episode's `image`
    observations (first to last, uint8 in [0, 255]; MinAtar's binary cells as 0 or 255) when
    `record`, else `None`."""
    binary = agent.world_model.image_dist == "bernoulli"
    obs, state, total, steps, frames = env.reset(), None, 0.0, 0, []
    while True:
        if record:
            frame = np.asarray(obs["image"], np.uint8)
            frames.append(frame * 255 if binary else frame)
        if obs["is_last"]:
            break
        action, state = agent.policy(observation_batch(agent, [obs]), state, training=sample)
        obs = env.step(action[0])
        total += float(obs["reward"])
        steps += 1
    return total, steps, (np.stack(frames) if record else None)


def save_episode_gif(
    agent, env, path, seed=EVAL_SEED, time_limit=27000, sample=False, max_frames=1000, fps=15
):
    """Plays one episode with `agent` and saves what it saw as a GIF at `path`.

    The episode is the first one `evaluate` plays with the same `env`, `seed`, `time_limit`
    and `sample`; the GIF shows its observations (MinAtar's channels in colour, enlarged 4
    times) up to `max_frames` of them.

    Args:
        agent: a `DreamerV2`, or a preset name or folder.
        env: an environment name for `keras_suite.zoo.dreamer.make_env` with image
            observations, e.g. `"minatar:breakout"` or `"atari:pong"`.
        path: where to write the GIF.
        seed: seed of the episode.
        time_limit: the Atari and MinAtar episode limit in agent steps.
        sample: sample actions instead of taking the most likely one.
        max_frames: the most frames the GIF holds (the episode still plays to its end).
        fps: frames per second of the GIF.

    Returns:
        A dict: `path`, `return` (the episode's), `env_steps` and `frames` (in the GIF).

    Example:

    ```python
    save_episode_gif("tiny_cartpole_pixels", "cartpole_pixels", "cartpole.gif")["return"]
    ```
    """
    from keras_suite.zoo.dreamer.dreamer_v2 import DreamerV2
    from keras_suite.zoo.dreamer.make_env import make_env
    from keras_suite.zoo.dreamer.video import display_frames, save_gif

    if isinstance(agent, str):
        agent = DreamerV2.from_preset(agent)
    if not isinstance(max_frames, int) or max_frames < 1:
        raise ValueError(
            f"`max_frames` must be a positive integer. Received: max_frames={max_frames!r}"
        )
    if "image" not in agent.world_model.obs_keys:
        raise ValueError(
            "`agent` must see `image` observations to draw its episode. "
            f"Received: an agent observing {list(agent.world_model.obs_keys)}"
        )
    env = make_env(env, time_limit=time_limit, seed=seed)
    total, steps, frames = play_episode(agent, env, sample=sample, record=True)
    frames = display_frames(frames[:max_frames])
    return {
        "path": save_gif(frames, path, fps=fps),
        "return": total,
        "env_steps": steps,
        "frames": len(frames),
    }
