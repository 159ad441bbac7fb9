"""place-red-in-green: put each red block into a different green bowl, among distractors."""

import numpy as np

from keras_suite.envs.ravens import objects
from keras_suite.envs.ravens.tasks.task import Goal, Task

BLOCK_SIZE = (0.04, 0.04, 0.04)
BOWL_SIZE = (0.12, 0.12, 0.0)


def bowl_parts():
    """A shallow bowl 12 cm across: a floor disk and a ring wall, frame at its bottom."""
    return [objects.cylinder_part(0.06, 0.006, (0, 0, 0.003))] + objects.ring_parts(
        0.052, 0.06, 0.03, segments=8, z=0.015
    )


class PlaceRedInGreen(Task):
    """1-3 green bowls, 1-3 red blocks (no more than bowls) and up to 10 distractors."""

    name = "place-red-in-green"
    max_steps = 10
    pos_eps = 0.05

    def build(self, env, rng):
        n_bowls = int(rng.integers(1, 4))
        n_blocks = int(rng.integers(1, n_bowls + 1))
        bowls = []
        for _ in range(n_bowls):
            pose = env.random_pose(BOWL_SIZE, rng)
            objects.add_compound(env.client, bowl_parts(), pose, "green", mass=0)
            bowls.append(pose)
        blocks = []
        for _ in range(n_blocks):
            pose = env.random_pose(BLOCK_SIZE, rng)
            blocks.append(env.add_movable(objects.add_box(env.client, BLOCK_SIZE, pose, "red")))
        self.goals.append(Goal([(b, 0.0) for b in blocks], np.ones((n_blocks, n_bowls)), bowls))
        bowl_colors = [c for c in objects.COLORS if c != "green"]
        block_colors = [c for c in objects.COLORS if c != "red"]
        for i in range(10):
            is_block = rng.random() > 0.5
            size = BLOCK_SIZE if is_block else BOWL_SIZE
            pose = env.random_pose(size, rng, required=False)
            if pose is None:
                continue
            if is_block:
                color = block_colors[i % len(block_colors)]
                env.add_movable(objects.add_box(env.client, size, pose, color))
            else:
                color = bowl_colors[i % len(bowl_colors)]
                env.add_movable(objects.add_compound(env.client, bowl_parts(), pose, color))
