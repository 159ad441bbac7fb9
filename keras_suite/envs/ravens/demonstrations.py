"""Collecting oracle demonstrations: one compressed file per episode, resumable."""

import os
import time

import numpy as np

from keras_suite.envs.ravens import cameras
from keras_suite.envs.ravens.arm import yaw_of

#: Arrays stored per episode (the fused maps, not the raw camera frames).
EPISODE_KEYS = (
    "colormap",
    "heightmap",
    "pick_pixel",
    "place_pixel",
    "pick_rotation",
    "place_rotation",
    "pose0",
    "pose1",
    "reward",
)
SPLITS = ("train", "test")


def episode_seed(split, index):
    """Ravens' seeds: even for training episodes, odd for test episodes."""
    if split not in SPLITS:
        raise ValueError(f"`split` must be one of {SPLITS}. Received: split={split!r}")
    return 2 * index + (0 if split == "train" else 1)


def episode_path(folder, seed):
    return os.path.join(folder, f"{seed:06d}.npz")


def _pose_array(pose):
    return np.concatenate([np.asarray(pose[0], np.float32), np.asarray(pose[1], np.float32)])


def run_episode(env, agent, seed, frames=None):
    """Runs one oracle episode; returns `(episode_dict, success)`.

    Args:
        env: a `RavensEnv`.
        agent: an agent with `act(observation, info)` (e.g. `OracleAgent`).
        seed: the episode seed.
        frames: an optional list that receives the front camera's images (for a GIF).
    """
    observation, info = env.reset(seed=seed)
    steps = {key: [] for key in EPISODE_KEYS}
    maps = [(observation["colormap"], observation["heightmap"])]
    if frames is not None:
        frames.append(observation["color"][0])
    success = False
    while True:
        action = agent.act(observation, info)
        if action is None:
            break
        observation, reward, terminated, truncated, info = env.step(action)
        steps["pick_pixel"].append(cameras.position_to_pixel(action["pose0"][0]))
        steps["place_pixel"].append(cameras.position_to_pixel(action["pose1"][0]))
        steps["pick_rotation"].append(yaw_of(action["pose0"][1]))
        steps["place_rotation"].append(yaw_of(action["pose1"][1]))
        steps["pose0"].append(_pose_array(action["pose0"]))
        steps["pose1"].append(_pose_array(action["pose1"]))
        steps["reward"].append(reward)
        maps.append((observation["colormap"], observation["heightmap"]))
        if frames is not None:
            frames.append(observation["color"][0])
        success = info["success"]
        if terminated or truncated:
            break
    n = len(steps["reward"])
    episode = {
        "colormap": np.stack([m[0] for m in maps]).astype(np.uint8),
        "heightmap": np.stack([m[1] for m in maps]).astype(np.float32),
        "pick_pixel": np.asarray(steps["pick_pixel"], np.int32).reshape(n, 2),
        "place_pixel": np.asarray(steps["place_pixel"], np.int32).reshape(n, 2),
        "pick_rotation": np.asarray(steps["pick_rotation"], np.float32),
        "place_rotation": np.asarray(steps["place_rotation"], np.float32),
        "pose0": np.asarray(steps["pose0"], np.float32).reshape(n, 7),
        "pose1": np.asarray(steps["pose1"], np.float32).reshape(n, 7),
        "reward": np.asarray(steps["reward"], np.float32),
    }
    return episode, bool(success)


def save_episode(path, episode, task, seed):
    """Writes one episode as a compressed `.npz`, atomically (temp file, then rename)."""
    folder = os.path.dirname(path) or "."
    os.makedirs(folder, exist_ok=True)
    temp = os.path.join(folder, f".{os.path.basename(path)}.{os.getpid()}.tmp")
    with open(temp, "wb") as f:
        np.savez_compressed(f, task=np.array(task), seed=np.array(seed, np.int64), **episode)
    os.replace(temp, path)


def load_episode(path):
    """Reads an episode file back into a dict of arrays (plus `task` and `seed`)."""
    with np.load(path) as data:
        episode = {key: data[key] for key in data.files}
    episode["task"] = str(episode["task"])
    episode["seed"] = int(episode["seed"])
    return episode


def list_episodes(folder):
    """Complete episode files in `folder` (temporary files of a killed run are ignored)."""
    if not os.path.isdir(folder):
        return []
    names = [n for n in os.listdir(folder) if n.endswith(".npz") and not n.startswith(".")]
    return sorted(os.path.join(folder, n) for n in names)


def collect(env, agent, n, out_dir, split="train", log=print, gif_path=None):
    """Collects `n` successful oracle demonstrations of `env`'s task into `out_dir/<task>/`.

    Episodes are named by seed (`000004.npz`); only successful ones are kept, as in Ravens.
    A run that is killed leaves at most a hidden temporary file, which is ignored, and a new run
    resumes after the highest seed already on disk, so no episode is duplicated or corrupt.

    Args:
        env: a `RavensEnv`.
        agent: the demonstrator (e.g. `OracleAgent(env)`).
        n: number of episodes wanted in the folder.
        out_dir: root folder; episodes go to `out_dir/<task name>/`.
        split: `"train"` (even seeds) or `"test"` (odd seeds).
        log: a function taking one line of progress text, or `None`.
        gif_path: if given, the first episode collected in this run is saved there as a GIF.

    Returns:
        A dict with `written`, `failed`, `existing` counts and `seconds`.
    """
    if n < 0:
        raise ValueError(f"`n` must be >= 0. Received: n={n}")
    folder = os.path.join(out_dir, env.task.name)
    parity = 0 if split == "train" else 1
    existing = [p for p in list_episodes(folder) if _seed_of(p) % 2 == parity]
    index = max(((_seed_of(p) - parity) // 2 + 1 for p in existing), default=0)
    have, written, failed = len(existing), 0, 0
    start = time.time()
    while have < n:
        seed = episode_seed(split, index)
        index += 1
        frames = [] if gif_path is not None and written == 0 else None
        episode, success = run_episode(env, agent, seed, frames=frames)
        if not success:
            failed += 1
            if log:
                log(f"{env.task.name} seed {seed}: the oracle failed; episode not kept")
            continue
        save_episode(episode_path(folder, seed), episode, env.task.name, seed)
        if frames:
            write_gif(frames, gif_path)
        have += 1
        written += 1
        if log:
            log(f"{env.task.name} seed {seed}: {len(episode['reward'])} steps ({have}/{n})")
    return {
        "written": written,
        "failed": failed,
        "existing": len(existing),
        "seconds": time.time() - start,
    }


def _seed_of(path):
    return int(os.path.basename(path).split(".")[0])


def write_gif(frames, path, scale=2, duration_ms=500):
    """Saves RGB `frames` as an animated GIF, each downsampled by `scale`."""
    from PIL import Image

    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    images = [Image.fromarray(np.asarray(f)[::scale, ::scale]) for f in frames]
    images[0].save(path, save_all=True, append_images=images[1:], duration=duration_ms, loop=0)
