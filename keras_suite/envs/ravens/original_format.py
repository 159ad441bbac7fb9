"""Demonstrations written by the original Ravens (google-research/ravens): layout and reading.

The original's `Dataset` (ravens/dataset.py) keeps one folder per task and split, named
`<task>-train` and `<task>-test` by its collection script (ravens/demos.py, `--data_dir`), with
one sub-folder per field, each holding one pickle per episode named
`{episode index:06d}-{seed}.pkl`. An episode of `steps` actions is `steps + 1` records
`(observation, action, reward, info)`, one before each action and one after the last
(ravens/demos.py), stored field by field:

- `color/`: uint8 `(steps + 1, 3, 480, 640, 3)`, the front, left and right camera images;
- `depth/`: float32 `(steps + 1, 3, 480, 640)`, metres along each camera's optical axis;
- `action/`: a list of `steps + 1` dicts `{"pose0": (position, quaternion), "pose1": ...}`
  with quaternions `(x, y, z, w)` as pybullet's; the last is `None`;
- `reward/`: a list of `steps + 1` floats: 0, then the reward of each action in turn;
- `info/`: a list of `None` then dicts of object poses (not read here).

Training on them needs the fused top-down maps, which the original computes from the camera
images when it trains (ravens/utils/utils.py, `get_fused_heightmap`). Here they are fused by
`cameras.fuse_heightmaps` with `cameras.DEFAULT_CAMERAS`, whose image size, intrinsics, poses and
depth range are the original's `RealSenseD415` configuration (ravens/tasks/cameras.py), so that
the maps are the ones `RavensEnv` shows a trained model. Heights agree with the original's
fusion (the highest point seen); colours can differ where several cameras see a cell: the
original averages the cameras' colours, here the highest point gives the colour. The actions
are kept as poses; `demonstrations.load_episode` labels them as `collect` labels its own (the
pixel whose cell holds the position, where the original's agents round to the nearest pixel,
ravens/utils/utils.py `xyz_to_pix`).

Pickles can run code when loaded: read only datasets you trust.
"""

import os
import pickle

import numpy as np

#: The fields read per episode, each a sub-folder of the split folder.
FIELDS = ("action", "color", "depth", "reward")
#: The cameras of every observation (front, left, right) and their image size `(height, width)`
#: (ravens/tasks/cameras.py).
NUM_CAMERAS = 3
IMAGE_SIZE = (480, 640)


def split_folder(folder, task, split):
    """The original's folder of one task and split under its `--data_dir` `folder`."""
    return os.path.join(folder, f"{task}-{split}")


def is_episode_path(path):
    """Whether `path` names an original episode: its pickle in the `action/` folder."""
    return path.endswith(".pkl") and os.path.basename(os.path.dirname(path)) == "action"


def list_episodes(folder):
    """The episodes of an original split folder, in the order written (by episode index).

    An episode is named by its `action/` pickle, as the original counts its episodes
    (ravens/dataset.py); one whose colour, depth or reward pickle is missing is left out.

    Args:
        folder: a split folder, e.g. `data/block-insertion-train`.

    Returns:
        A sorted list of paths `folder/action/{index:06d}-{seed}.pkl` (empty when `folder` is
        not an original split folder).
    """
    actions = os.path.join(folder, "action")
    if not os.path.isdir(actions):
        return []
    names = sorted(n for n in os.listdir(actions) if n.endswith(".pkl") and not n.startswith("."))
    return [
        os.path.join(actions, name)
        for name in names
        if all(os.path.isfile(os.path.join(folder, field, name)) for field in FIELDS)
    ]


def episode_files(path):
    """The pickles read for the episode `path`, as `{"<field>/<name>": file path}`."""
    folder, name = os.path.dirname(os.path.dirname(path)), os.path.basename(path)
    return {f"{field}/{name}": os.path.join(folder, field, name) for field in FIELDS}


def episode_seed(path):
    """The seed of the episode `path`, from its name `{index:06d}-{seed}.pkl`."""
    name = os.path.basename(path)
    return int(name[name.index("-") + 1 : -len(".pkl")])


def episode_task(path):
    """The task of the episode `path`, from its split folder's name `<task>-<split>`."""
    return os.path.basename(os.path.dirname(os.path.dirname(path))).rsplit("-", 1)[0]


def read_episode(path):
    """Reads an original episode and fuses its camera images into top-down maps.

    Args:
        path: an episode's `action/` pickle (see `list_episodes`).

    Returns:
        A dict: `colormap` uint8 `(steps + 1, 320, 160, 3)` and `heightmap` float32
        `(steps + 1, 320, 160)`, the map before each action and after the last; `actions`, the
        `steps` pick-and-place dicts; `reward` float32 `(steps,)`, the reward of each action;
        `task` and `seed`.

    Raises:
        ValueError: when a field does not have the original's structure.

    Example:

    ```python
    episode = read_episode("data/block-insertion-train/action/000000-0.pkl")
    episode["heightmap"].shape  # (2, 320, 160)
    ```
    """
    from keras_suite.envs.ravens import cameras

    files = {key.split("/")[0]: file for key, file in episode_files(path).items()}
    fields = {}
    for field, file in files.items():
        with open(file, "rb") as f:
            fields[field] = pickle.load(f)
    actions, rewards = list(fields["action"]), list(fields["reward"])
    # The record after the last action carries no action (ravens/demos.py).
    steps = next((i for i, action in enumerate(actions) if action is None), len(actions))
    color, depth = np.asarray(fields["color"]), np.asarray(fields["depth"])
    expected = {
        "color": ((NUM_CAMERAS, *IMAGE_SIZE, 3), np.uint8, color),
        "depth": ((NUM_CAMERAS, *IMAGE_SIZE), np.float32, depth),
    }
    for field, (shape, dtype, array) in expected.items():
        if array.dtype != dtype or array.shape[1:] != shape or len(array) < steps + 1:
            raise ValueError(
                f"The original Ravens `{field}` of an episode of {steps} actions must be "
                f"{np.dtype(dtype).name} of shape ({steps + 1}, {', '.join(map(str, shape))}) "
                f"(the three RealSense D415 cameras of ravens/tasks/cameras.py). Received: "
                f"{array.dtype} {array.shape} in {files[field]}"
            )
    for action in actions[:steps]:
        if not isinstance(action, dict) or not {"pose0", "pose1"} <= set(action):
            raise ValueError(
                "Only pick-and-place actions `{'pose0': ..., 'pose1': ...}` (the original's "
                f"`Environment`) can be read. Received: action={action!r} in {path}"
            )
    if len(rewards) < steps + 1:
        raise ValueError(
            f"The original Ravens `reward` of an episode of {steps} actions must hold "
            f"{steps + 1} values. Received: {len(rewards)} in {files['reward']}"
        )
    maps = [
        cameras.fuse_heightmaps(
            [(c, d, None) for c, d in zip(color[t], depth[t])], cameras.DEFAULT_CAMERAS
        )
        for t in range(steps + 1)
    ]
    return {
        "colormap": np.stack([m[0] for m in maps]),
        "heightmap": np.stack([m[1] for m in maps]),
        "actions": actions[:steps],
        "reward": np.asarray(rewards[1 : steps + 1], np.float32),
        "task": episode_task(path),
        "seed": episode_seed(path),
    }
