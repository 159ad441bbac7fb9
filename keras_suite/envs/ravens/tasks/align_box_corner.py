"""align-box-corner: push-free pick-and-place of a random box into a marked corner."""

import numpy as np

from keras_suite.envs.ravens import objects
from keras_suite.envs.ravens.arm import yaw_of
from keras_suite.envs.ravens.tasks.task import Goal, Task, multiply, quat_from_yaw


def corner_parts(box_size, length=0.055, width=0.005, height=0.001):
    """Two thin bars tracing a box's (+x, +y) corner, in the box frame.

    Each bar runs `length` along one side of the box's footprint, just outside it, and ends
    `width` past the corner (original Ravens assets/corner/corner-template.urdf and the bar
    offsets of its tasks/align_box_corner.py).
    """
    sx, sy = box_size[0] / 2, box_size[1] / 2
    return [
        objects.box_part((length, width, height), (sx + width - length / 2, sy + width / 2, 0)),
        objects.box_part((width, length, height), (sx + width / 2, sy + width - length / 2, 0)),
    ]


#: The corner mark's colour: pure green (original Ravens assets/corner/corner-template.urdf).
CORNER_COLOR = (0.0, 1.0, 0.0)


class AlignBoxCorner(Task):
    """A brown box of random size must cover a marked corner (4 equivalent poses).

    Sizes, the shade of brown and the goal poses follow original Ravens
    tasks/align_box_corner.py. Object classes: "box" and "corner".
    """

    name = "align-box-corner"
    max_steps = 3

    def build(self, env, rng):
        size = (rng.uniform(0.05, 0.15), rng.uniform(0.05, 0.15), rng.uniform(0.01, 0.06))
        # The mark's bars are centred on the table's surface, as the original's (frame at z 0).
        corner_pose = env.random_pose((size[0], size[1], 0.0), rng)
        corner = objects.add_compound(
            env.client, corner_parts(size), corner_pose, CORNER_COLOR, mass=0, collision=False
        )
        self.classify("corner", corner)
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
        self.classify("box", box)
        self.goals.append(Goal([(box, 2 * np.pi)], np.ones((1, 4)), targets))
