"""Ravens demonstration episodes -> TransporterNet training examples."""

import numpy as np

from keras_suite.zoo.transporter.action_coding import angle_to_rotation_bin


def episode_examples(episode, num_rotations):
    """The training examples of one Ravens episode (a dict of arrays, as the collector saves).

    Each step gives the map seen before the action (`colormap` and `heightmap` stacked into
    `(H, W, 4)`), the pick and place pixels, and the rotation bin of the place yaw relative to
    the pick yaw.

    Args:
        episode: a dict with `colormap` `(steps + 1, H, W, 3)`, `heightmap` `(steps + 1, H, W)`,
            `pick_pixel`, `place_pixel` `(steps, 2)`, `pick_rotation`, `place_rotation`
            `(steps,)` (radians).
        num_rotations: the model's number of rotation bins.

    Returns:
        `(images (steps, H, W, 4) float32, pick_pixels, place_pixels, rotation_bins)`.
    """
    maps = _episode_maps(episode, ("place_pixel", "pick_rotation", "place_rotation"))
    images = maps[: len(episode["pick_pixel"])]  # the map before each action
    delta = np.asarray(episode["place_rotation"]) - np.asarray(episode["pick_rotation"])
    bins = angle_to_rotation_bin(delta, num_rotations)
    return (
        images,
        np.asarray(episode["pick_pixel"], np.int32),
        np.asarray(episode["place_pixel"], np.int32),
        bins.astype(np.int32),
    )


def episode_goal_images(episode):
    """The goal map of each step of a Ravens episode: its last map, `(steps, H, W, 4)` float32.

    The collector saves the scene after the last action too, so the last map shows the task done
    (in a successful episode), the goal a `GoalTransporterNet` is trained to reach.
    """
    goal = _episode_maps(episode)[-1]
    return np.repeat(goal[None], len(episode["pick_pixel"]), axis=0)


def _episode_maps(episode, required=()):
    """Every map of an episode, colour and height stacked: `(steps + 1, H, W, 4)` float32.

    Checks first that the episode has its maps, its pick pixels and the `required` keys.
    """
    missing = [
        key for key in ("colormap", "heightmap", "pick_pixel", *required) if key not in episode
    ]
    if missing:
        raise ValueError(
            f"`episode` lacks {missing}: pass an episode saved by the Ravens collector. "
            f"Received keys: {sorted(episode)}"
        )
    color = np.asarray(episode["colormap"], np.float32)
    height = np.asarray(episode["heightmap"], np.float32)[..., None]
    return np.concatenate([color, height], axis=-1)


def load_goal_images(paths):
    """The goal maps matching `load_examples(paths, ...)`'s images, example for example."""
    from keras_suite.envs.ravens.demonstrations import load_episode

    if not paths:
        raise ValueError(f"No demonstration episodes to load. Received: paths={paths!r}")
    return np.concatenate([episode_goal_images(load_episode(path)) for path in paths])


def load_examples(paths, num_rotations):
    """Concatenates the examples of several episode files (`.npz` from the Ravens collector)."""
    from keras_suite.envs.ravens.demonstrations import load_episode

    parts = [episode_examples(load_episode(path), num_rotations) for path in paths]
    if not parts:
        raise ValueError(f"No demonstration episodes to load. Received: paths={paths!r}")
    return tuple(np.concatenate([part[i] for part in parts]) for i in range(4))
