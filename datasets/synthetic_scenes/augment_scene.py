"""Random turns, mirrors and horizontal scalings of generated scenes, for training."""

import numpy as np


def augment_scene(scene, rng):
    """A copy of `scene` turned about the up axis, maybe mirrored and scaled horizontally.

    The points turn about the room's centre by a multiple of 90 degrees plus up to 0.2 rad,
    are mirrored in x with probability 1/2 and scaled in x and y by a factor in [0.9, 1.1];
    heights, colours and labels are unchanged (the boxes are not moved: use it for semantic and
    instance training, whose targets come from the points).

    Args:
        scene: a dict from `generate_scene`.
        rng: a `numpy.random.Generator`.

    Returns:
        The scene dict with new `points`.

    Example:

    ```python
    scene = generate_scene(0, num_points=1000)
    turned = augment_scene(scene, np.random.default_rng(0))
    ```
    """
    points = scene["points"].copy()
    centre = (points.min(0) + points.max(0)) / 2
    angle = rng.integers(4) * np.pi / 2 + rng.uniform(-0.2, 0.2)
    c, s = np.cos(angle), np.sin(angle)
    xy = (points[:, :2] - centre[:2]) @ np.array([[c, -s], [s, c]]).T
    if rng.uniform() < 0.5:
        xy[:, 0] = -xy[:, 0]
    points[:, :2] = xy * rng.uniform(0.9, 1.1) + centre[:2]
    return dict(scene, points=points.astype("float32"))
