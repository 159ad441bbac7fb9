"""block-insertion: pick up an L-shaped block and insert it into an L-shaped fixture."""

import numpy as np

from keras_suite.envs.ravens import objects
from keras_suite.envs.ravens.tasks.task import Goal, Task

#: The L block: two 3 cm wide arms inside a 10 x 10 cm square, 4 cm tall.
BLOCK_SIZE = (0.1, 0.1, 0.04)
_ARM = 0.03
_CLEARANCE = 0.006


def ell_parts(height):
    """Box parts of the L: arms along the -y and -x edges of a 10 cm square."""
    half = BLOCK_SIZE[0] / 2
    return [
        objects.box_part((2 * half, _ARM, height), (0.0, -half + _ARM / 2, 0.0)),
        objects.box_part((_ARM, 2 * half - _ARM, height), (-half + _ARM / 2, _ARM / 2, 0.0)),
    ]


def fixture_parts(height):
    """The fixture: a 15 cm square plate with the L cut out (with clearance), as boxes."""
    outer = 0.075
    h = BLOCK_SIZE[0] / 2 + _CLEARANCE  # half-extent of the grown L
    inner = -BLOCK_SIZE[0] / 2 + _ARM + _CLEARANCE  # the L's inner corner, grown
    z = height / 2
    rects = [
        (-outer, -outer, outer, -h),  # below the bottom arm
        (-outer, -h, -h, outer),  # left of the left arm
        (h, -h, outer, outer),  # right of the bottom arm
        (-h, h, h, outer),  # above the left arm
        (inner, inner, h, h),  # the notch inside the L
    ]
    return [
        objects.box_part((x1 - x0, y1 - y0, height), ((x0 + x1) / 2, (y0 + y1) / 2, z))
        for x0, y0, x1, y1 in rects
    ]


class BlockInsertion(Task):
    """Insert an L-shaped block into a fixed L-shaped fixture (one action; 3 steps allowed)."""

    name = "block-insertion"
    max_steps = 3

    def build(self, env, rng):
        block_pose = env.random_pose(BLOCK_SIZE, rng)
        block = env.add_movable(
            objects.add_compound(env.client, ell_parts(BLOCK_SIZE[2]), block_pose, "red")
        )
        fixture_pose = env.random_pose((0.15, 0.15, 0.0), rng)
        objects.add_compound(env.client, fixture_parts(0.02), fixture_pose, "green", mass=0)
        target = (fixture_pose[0] + np.array([0, 0, BLOCK_SIZE[2] / 2]), fixture_pose[1])
        self.goals.append(Goal([(block, 2 * np.pi)], np.ones((1, 1)), [target]))
