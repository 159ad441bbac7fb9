"""align-box-corner: push-free pick-and-place of a random box into a marked corner."""

import numpy as np

from keras_suite.envs.ravens import objects
from keras_suite.envs.ravens.arm import yaw_of
from keras_suite.envs.ravens.tasks.task import Goal, Task, multiply, quat_from_yaw


def corner_parts(box_size, length=0.055, width=0.005, height=0.001):
    """Two thin bars tracing a box's (+x, +y) corner, in the box frame (Ravens' corner mark).

    Each bar runs `length` along one side of the box's footprint, just outside it, and ends
    `width` past the corner.
    """
    sx, sy = box_size[0] / 2, box_size[1] / 2
    return [
        objects.box_part((length, width, height), (sx + width - length / 2, sy + width / 2, 0)),
        objects.box_part((width, length, height), (sx + width / 2, sy + width - length / 2, 0)),
    ]


#: The corner mark's colour: Ravens' pure green, not the palette's duller one.
CORNER_COLOR = (0.0, 1.0, 0.0)


class AlignBoxCorner(Task):
    """A brown box of random size must cover a marked corner (4 equivalent poses)."""

    name = "align-box-corner"
    max_steps = 3

    def build(self, env, rng):
        size = (rng.uniform(0.05, 0.15), rng.uniform(0.05, 0.15), rng.uniform(0.01, 0.06))
        corner_pose = env.random_pose((size[0], size[1], 0.0), rng)
        corner_pose = (np.array([*corner_pose[0][:2], 0.0005]), corner_pose[1])
        objects.add_compound(
            env.client, corner_parts(size), corner_pose, CORNER_COLOR, mass=0, collision=False
        )
        yaw = yaw_of(corner_pose[1])
        flipped = (corner_pose[0], np.asarray(quat_from_yaw(yaw + np.pi)))
        offset = np.array([size[0] / 2 - size[1] / 2, size[1] / 2 - size[0] / 2, 0.0])
        turned_a = multiply(corner_pose, (offset, quat_from_yaw(np.pi / 2)))
        turned_b = multiply(corner_pose, (offset, quat_from_yaw(3 * np.pi / 2)))
        targets = [corner_pose, flipped, turned_a, turned_b]
        box_pose = env.random_pose(size, rng)
        shade = rng.uniform(0.5, 1.5)
        color = np.clip(np.array(objects.COLORS["brown"]) * shade, 0, 1)
        box = env.add_movable(objects.add_box(env.client, size, box_pose, color))
        self.goals.append(Goal([(box, 2 * np.pi)], np.ones((1, 4)), targets))
