"""stack-block-pyramid: build a 3-2-1 pyramid of six coloured blocks on a stand."""

import numpy as np
import pybullet as p

from keras_suite.envs.ravens import objects
from keras_suite.envs.ravens.tasks.task import Goal, Task, transform

BASE_SIZE = (0.05, 0.15, 0.005)
#: The stand: three 5 x 5 x 0.5 cm tiles along its y axis, each its own shade of brown
#: (original Ravens assets/stacking/stand.urdf: links at y 0, -0.05, 0.05, rgba brown
#: 0.612 0.459 0.373, lightbrown 0.918 0.688 0.559, darkbrown 0.306 0.229 0.186).
TILE_SIZE = (0.05, 0.05, 0.005)
TILES = (
    (0.0, (0.61176471, 0.45882353, 0.37254902)),
    (-0.05, (0.91764706, 0.68823529, 0.55882353)),
    (0.05, (0.30588235, 0.22941176, 0.18627451)),
)
BLOCK_SIZE = (0.04, 0.04, 0.04)
#: Block positions in the stand frame: bottom row, middle row, top.
PLACES = (
    (0.0, -0.05, 0.03),
    (0.0, 0.0, 0.03),
    (0.0, 0.05, 0.03),
    (0.0, -0.025, 0.08),
    (0.0, 0.025, 0.08),
    (0.0, 0.0, 0.13),
)
COLORS = ("purple", "blue", "green", "yellow", "orange", "red")


def add_stand(client, pose):
    """Adds the fixed three-tile stand (`TILES`) as one body: a base tile and two linked tiles."""
    half = [s / 2 for s in TILE_SIZE]
    collision = client.createCollisionShape(p.GEOM_BOX, halfExtents=half)
    visual = client.createVisualShape(p.GEOM_BOX, halfExtents=half)
    offsets = [[0.0, y, 0.0] for y, _ in TILES[1:]]
    body = client.createMultiBody(
        baseMass=0,
        baseCollisionShapeIndex=collision,
        baseVisualShapeIndex=visual,
        basePosition=list(pose[0]),
        baseOrientation=list(pose[1]),
        linkMasses=[0] * len(offsets),
        linkCollisionShapeIndices=[collision] * len(offsets),
        linkVisualShapeIndices=[visual] * len(offsets),
        linkPositions=offsets,
        linkOrientations=[[0, 0, 0, 1]] * len(offsets),
        linkInertialFramePositions=[[0, 0, 0]] * len(offsets),
        linkInertialFrameOrientations=[[0, 0, 0, 1]] * len(offsets),
        linkParentIndices=[0] * len(offsets),
        linkJointTypes=[p.JOINT_FIXED] * len(offsets),
        linkJointAxis=[[0, 0, 1]] * len(offsets),
    )
    for link, (_, color) in enumerate(TILES, start=-1):
        client.changeVisualShape(body, link, rgbaColor=objects.rgba(color))
    return body


class StackBlockPyramid(Task):
    """Six blocks: purple, blue, green form the bottom row, yellow, orange the middle, red tops.

    As in the original Ravens (tasks/stack_block_pyramid.py): 4 cm blocks, a three-tile stand,
    rewards 1/2, 1/3 and 1/6 per row, 12 steps. Object classes: "stand" and "block".
    """

    name = "stack-block-pyramid"
    max_steps = 12

    def build(self, env, rng):
        base_pose = env.random_pose(BASE_SIZE, rng)
        self.classify("stand", add_stand(env.client, base_pose))
        blocks = []
        for color in COLORS:
            pose = env.random_pose(BLOCK_SIZE, rng)
            block = objects.add_box(env.client, BLOCK_SIZE, pose, color)
            blocks.append(self.classify("block", env.add_movable(block)))
        targets = [(transform(base_pose, place), base_pose[1]) for place in PLACES]
        rows = [(0, 3, 1 / 2), (3, 5, 1 / 3), (5, 6, 1 / 6)]
        for start, stop, share in rows:
            n = stop - start
            self.goals.append(
                Goal(
                    [(b, np.pi / 2) for b in blocks[start:stop]],
                    np.ones((n, n)),
                    targets[start:stop],
                    max_reward=share,
                )
            )
