"""stack-block-pyramid: build a 3-2-1 pyramid of six coloured blocks on a stand."""

import numpy as np

from keras_suite.envs.ravens import objects
from keras_suite.envs.ravens.tasks.task import Goal, Task, transform

BASE_SIZE = (0.05, 0.15, 0.005)
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


class StackBlockPyramid(Task):
    """Six blocks: purple, blue, green form the bottom row, yellow, orange the middle, red tops."""

    name = "stack-block-pyramid"
    max_steps = 12

    def build(self, env, rng):
        base_pose = env.random_pose(BASE_SIZE, rng)
        objects.add_box(env.client, BASE_SIZE, base_pose, "gray", mass=0)
        blocks = []
        for color in COLORS:
            pose = env.random_pose(BLOCK_SIZE, rng)
            blocks.append(env.add_movable(objects.add_box(env.client, BLOCK_SIZE, pose, color)))
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
