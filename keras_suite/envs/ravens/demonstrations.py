"""Oracle demonstrations on disk: collecting them (resumable), listing and reading them back.

Each episode is one compressed `.npz` file named by its seed in `<folder>/<task>/`; even seeds
are training episodes and odd seeds test episodes, as in Ravens. `demonstration_paths` and
`load_episode` are the one way the library reads them: Transporter training and the `ravens`
TFDS builder both go through them. They also read the datasets of the original Ravens, whose
`<folder>/<task>-train/` and `<folder>/<task>-test/` folders hold pickled camera images (see
`original_format`): a split with none of our episodes is read from the original's folder.
"""

import hashlib
import os
import time

import numpy as np

from keras_suite.envs.ravens import original_format

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


def _action_arrays(actions):
    """The stored form of pick-and-place actions: pixels and yaws of both poses, and the poses."""
    from keras_suite.envs.ravens import cameras
    from keras_suite.envs.ravens.arm import yaw_of

    n = len(actions)
    arrays = {}
    for name, key in (("pick", "pose0"), ("place", "pose1")):
        poses = [action[key] for action in actions]
        pixels = [cameras.position_to_pixel(pose[0]) for pose in poses]
        arrays[f"{name}_pixel"] = np.asarray(pixels, np.int32).reshape(n, 2)
        arrays[f"{name}_rotation"] = np.asarray([yaw_of(pose[1]) for pose in poses], np.float32)
        arrays[key] = np.asarray([_pose_array(pose) for pose in poses], np.float32).reshape(n, 7)
    return arrays


def run_episode(env, agent, seed, frames=None):
    """Runs one oracle episode; returns `(episode_dict, success)`.

    Args:
        env: a `RavensEnv`.
        agent: an agent with `act(observation, info)` (e.g. `OracleAgent`).
        seed: the episode seed.
        frames: an optional list that receives the front camera's images (for a GIF).
    """
    observation, info = env.reset(seed=seed)
    actions, rewards = [], []
    maps = [(observation["colormap"], observation["heightmap"])]
    if frames is not None:
        frames.append(observation["color"][0])
    success = False
    while True:
        action = agent.act(observation, info)
        if action is None:
            break
        observation, reward, terminated, truncated, info = env.step(action)
        actions.append(action)
        rewards.append(reward)
        maps.append((observation["colormap"], observation["heightmap"]))
        if frames is not None:
            frames.append(observation["color"][0])
        success = info["success"]
        if terminated or truncated:
            break
    episode = {
        "colormap": np.stack([m[0] for m in maps]).astype(np.uint8),
        "heightmap": np.stack([m[1] for m in maps]).astype(np.float32),
        **_action_arrays(actions),
        "reward": np.asarray(rewards, np.float32),
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
    """Reads an episode back into a dict of arrays (`EPISODE_KEYS`, plus `task` and `seed`).

    Args:
        path: a path from `demonstration_paths`: an `.npz` episode, or the `action/` pickle of
            an original Ravens episode, whose camera images are then fused into the maps and
            whose actions are stored as `collect` stores its own.

    Returns:
        A dict with the `EPISODE_KEYS` arrays, `task` (str) and `seed` (int).
    """
    if original_format.is_episode_path(path):
        episode = original_format.read_episode(path)
        episode.update(_action_arrays(episode.pop("actions")))
        return episode
    with open(path, "rb") as f, np.load(f) as data:
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


def _split_episodes(folder, task, split):
    """`(episode paths, the folder holding them)` of one task and split, in either format.

    Our `.npz` episodes in `<folder>/<task>/` come first; without any of the split, the
    original Ravens' `<folder>/<task>-<split>/` folder is read.
    """
    task_folder = os.path.join(folder, task)
    parity = SPLITS.index(split)
    paths = [p for p in list_episodes(task_folder) if seed_of(p) % 2 == parity]
    if paths:
        return paths, task_folder
    original = original_format.split_folder(folder, task, split)
    paths = original_format.list_episodes(original)
    return paths, (original if paths else task_folder)


def demonstration_paths(folder, task, split="train", count=None):
    """The episodes of one task and split, checked to be there.

    `folder` holds either our episodes (`<task>/<seed>.npz`, from `collect_demonstrations`),
    taken in seed order, or the original Ravens' split folders (`<task>-train/`,
    `<task>-test/`, from its `demos.py --data_dir=folder`), taken in the order written.

    Args:
        folder: the root folder of `collect_demonstrations` or the original's `--data_dir`.
        task: the Ravens task name.
        split: `"train"` (even seeds) or `"test"` (odd seeds).
        count: how many episodes are needed (the first `count`); `None`: all.

    Returns:
        A list of paths for `load_episode`: `.npz` files, or the original episodes' `action/`
        pickles.

    Raises:
        FileNotFoundError: when the folder holds no episode of the split.
        ValueError: when it holds fewer than `count`.

    Example:

    ```python
    paths = demonstration_paths("demos", "block-insertion", "train", count=10)
    episodes = [load_episode(path) for path in paths]
    ```
    """
    if split not in SPLITS:
        raise ValueError(f"`split` must be one of {SPLITS}. Received: split={split!r}")
    paths, found_in = _split_episodes(folder, task, split)
    command = f"`keras-suite ravens collect --task {task} --n {count or 10} --out {folder}"
    command += " --split test`" if split == "test" else "`"
    if not paths:
        raise FileNotFoundError(
            f"No {split} episodes of {task} in {found_in} (nor an original Ravens dataset in "
            f"{original_format.split_folder(folder, task, split)}): collect them with "
            f"{command}. Received: folder={folder!r}"
        )
    if original_format.is_episode_path(paths[0]):
        # The original's collection script and its flags (original Ravens, ravens/demos.py).
        command = (
            "the original Ravens' `python ravens/demos.py --assets_root=./ravens/environments/"
            f"assets/ --data_dir={folder} --task={task} --mode={split} --n={count}`"
        )
    if count is not None and len(paths) < count:
        raise ValueError(
            f"{count} {split} episodes of {task} are needed but {found_in} holds "
            f"{len(paths)}: collect more with {command}. Received: count={count}"
        )
    return paths[:count]


def task_episodes(folder, task):
    """Every episode of `task` in `folder`, both splits, each read as `demonstration_paths` does."""
    return [path for split in SPLITS for path in _split_episodes(folder, task, split)[0]]


def demonstrations_fingerprint(paths):
    """A hex digest of the names, sizes and modification times of episode files.

    It changes when an episode is added, removed or rewritten, so that data prepared from the
    files can tell it is stale. An original Ravens episode counts all the pickles it is read
    from.
    """
    digest = hashlib.sha256()
    for path in sorted(paths):
        if original_format.is_episode_path(path):
            files = original_format.episode_files(path)
        else:
            files = {os.path.basename(path): path}
        for name, file in files.items():
            stat = os.stat(file)
            digest.update(f"{name}:{stat.st_size}:{stat.st_mtime_ns};".encode())
    return digest.hexdigest()


def collect(env, agent, n, out_dir, split="train", log=None, gif_path=None, progress=None):
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
        log: a function taking one line of text (each episode's outcome), or `None`.
        gif_path: if given, the first episode collected in this run is saved there as a GIF.
        progress: called as `progress(have, n, failed=...)` after each episode run.

    Returns:
        A dict with `written`, `failed`, `existing` counts and `seconds`.
    """
    if n < 0:
        raise ValueError(f"`n` must be >= 0. Received: n={n}")
    folder = os.path.join(out_dir, env.task.name)
    parity = 0 if split == "train" else 1
    existing = [p for p in list_episodes(folder) if seed_of(p) % 2 == parity]
    index = max(((seed_of(p) - parity) // 2 + 1 for p in existing), default=0)
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
            if progress:
                progress(have, n, failed=failed)
            continue
        save_episode(episode_path(folder, seed), episode, env.task.name, seed)
        if frames:
            write_gif(frames, gif_path)
        have += 1
        written += 1
        if log:
            log(f"{env.task.name} seed {seed}: {len(episode['reward'])} steps ({have}/{n})")
        if progress:
            progress(have, n, failed=failed)
    return {
        "written": written,
        "failed": failed,
        "existing": len(existing),
        "seconds": time.time() - start,
    }


def collect_demonstrations(
    task, n, out_dir, split="train", gif_path=None, agent_seed=0, progress=None, log=None
):
    """Collects `n` successful oracle demonstrations of `task` into `out_dir/<task>/`.

    Makes the task's environment and its `OracleAgent`, then runs `collect` (resumable: episodes
    already in the folder count towards `n`).

    Args:
        task: a Ravens task name (see `keras_suite.envs.ravens.TASKS`).
        n: episodes wanted in the folder.
        out_dir: root folder; episodes go to `out_dir/<task>/<seed>.npz`.
        split: `"train"` (even seeds) or `"test"` (odd seeds).
        gif_path: if given, the first episode collected is saved there as a GIF.
        agent_seed: seed of the oracle's random choices.
        progress: called as `progress(have, n, failed=...)` after each episode run.
        log: a function taking one line of text per episode, or `None`.

    Returns:
        A dict with `written`, `failed`, `existing` counts, `seconds`, `folder` (the episodes'
        folder) and `demos_per_minute` (episodes written per minute of this run).

    Example:

    ```python
    stats = collect_demonstrations("block-insertion", 2, "demos")
    stats["folder"]  # "demos/block-insertion"
    ```
    """
    from keras_suite.envs import ravens

    if split not in SPLITS:
        raise ValueError(f"`split` must be one of {SPLITS}. Received: split={split!r}")
    if n < 0:
        raise ValueError(f"`n` must be >= 0. Received: n={n}")
    env = ravens.make(task)
    try:
        stats = collect(
            env,
            ravens.OracleAgent(env, seed=agent_seed),
            n,
            out_dir,
            split=split,
            log=log,
            gif_path=gif_path,
            progress=progress,
        )
    finally:
        env.close()
    minutes = max(stats["seconds"], 1e-9) / 60.0
    return dict(
        stats, folder=os.path.join(out_dir, task), demos_per_minute=stats["written"] / minutes
    )


def seed_of(path):
    """The seed of the episode `path` (from `demonstration_paths`), read from its name."""
    if original_format.is_episode_path(path):
        return original_format.episode_seed(path)
    return int(os.path.basename(path).split(".")[0])


def write_gif(frames, path, scale=2, duration_ms=500):
    """Saves RGB `frames` as an animated GIF, each downsampled by `scale`."""
    from PIL import Image

    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    images = [Image.fromarray(np.asarray(f)[::scale, ::scale]) for f in frames]
    images[0].save(path, save_all=True, append_images=images[1:], duration=duration_ms, loop=0)
