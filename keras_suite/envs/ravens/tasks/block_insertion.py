"""block-insertion: pick up an L-shaped block and insert it into an L-shaped fixture."""

import numpy as np

from keras_suite.envs.ravens import objects
from keras_suite.envs.ravens.tasks.task import Goal, Task

#: The size both poses are drawn for (original Ravens tasks/block_insertion.py).
BLOCK_SIZE = (0.1, 0.1, 0.04)
#: The fixture walls' colour: the palette's grey (original Ravens assets/insertion/fixture.urdf).
FIXTURE_COLOR = "gray"


def ell_parts(height=BLOCK_SIZE[2]):
    """Box parts of the L block, in its frame (original Ravens assets/insertion/ell.urdf).

    Two 3 cm wide arms, 8 cm long along +x and +y, meet over the frame's origin; the second
    arm is 0.1 mm lower, as in the original.
    """
    return [
        objects.box_part((0.08, 0.03, height), (0.025, 0.0, 0.0)),
        objects.box_part((0.03, 0.08, height - 0.0001), (0.0, 0.025, 0.0)),
    ]


def fixture_parts(height=BLOCK_SIZE[2]):
    """The fixture's six 2 mm walls tracing the L's outline with 1 cm clearance, in its frame.

    Geometry of original Ravens assets/insertion/fixture.urdf: the L block in the same frame
    fits inside with 1 cm to spare on every side.
    """
    walls = [  # (size x, size y), (x, y)
        ((0.1, 0.002), (0.025, -0.025)),
        ((0.05, 0.002), (0.0, 0.075)),
        ((0.05, 0.002), (0.05, 0.025)),
        ((0.002, 0.105), (-0.025, 0.025)),
        ((0.002, 0.055), (0.025, 0.05)),
        ((0.002, 0.055), (0.075, 0.0)),
    ]
    return [objects.box_part((sx, sy, height), (x, y, 0.0)) for (sx, sy), (x, y) in walls]


class BlockInsertion(Task):
    """Insert an L-shaped block into a fixed L-shaped fixture (one action; 3 steps allowed).

    Object classes: "block" and "fixture".
    """

    name = "block-insertion"
    max_steps = 3

    def build(self, env, rng):
        block_pose = env.random_pose(BLOCK_SIZE, rng)
        block = objects.add_compound(env.client, ell_parts(), block_pose, "red")
        self.classify("block", env.add_movable(block))
        # The target is the fixture's own pose: the block's frame there fits the walls.
        fixture_pose = env.random_pose(BLOCK_SIZE, rng)
        fixture = objects.add_compound(
            env.client, fixture_parts(), fixture_pose, FIXTURE_COLOR, mass=0
        )
        self.classify("fixture", fixture)
        self.goals.append(Goal([(block, 2 * np.pi)], np.ones((1, 1)), [fixture_pose]))
