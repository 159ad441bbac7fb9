"""manipulating-rope: straighten a rope along the open side of a three-sided square."""

import dataclasses

import numpy as np

from keras_suite.envs.ravens import objects
from keras_suite.envs.ravens.tasks.task import Goal, Task, transform

N_BEADS = 20
BEAD_RADIUS = 0.005
#: Rope length: Ravens' 2 r n sqrt(2).
LENGTH = 2 * BEAD_RADIUS * N_BEADS * np.sqrt(2)


def square_parts(length, width=0.005, height=0.001):
    """Three thin bars of a square of side `length`, open on its +y side."""
    half = length / 2
    return [
        objects.box_part((length, width, height), (0, -half, 0)),
        objects.box_part((width, length, height), (-half, 0, 0)),
        objects.box_part((width, length, height), (half, 0, 0)),
    ]


class ManipulatingRope(Task):
    """A 20-bead rope dropped in a heap; lay it along the open side of a square outline."""

    name = "manipulating-rope"
    max_steps = 20
    pos_eps = 0.02
    carry_height = 0.02
    carry_speed = 0.3
    pick_erosion = 0

    def build(self, env, rng):
        square_pose = env.random_pose((LENGTH, LENGTH, 0.0), rng)
        square_pose = (np.array([*square_pose[0][:2], 0.0005]), square_pose[1])
        objects.add_compound(
            env.client, square_parts(LENGTH), square_pose, "green", mass=0, collision=False
        )
        corner0 = transform(square_pose, (LENGTH / 2, LENGTH / 2, 0.0))
        corner1 = transform(square_pose, (-LENGTH / 2, LENGTH / 2, 0.0))
        step = (corner1 - corner0) / N_BEADS
        targets = [
            (corner0 + step * (i + 0.5) + [0, 0, BEAD_RADIUS], np.array([0.0, 0.0, 0.0, 1.0]))
            for i in range(N_BEADS)
        ]
        # Dropped as a vertical column from a free spot, the rope falls into a random heap.
        spot, _ = env.random_pose((0.1, 0.1, 0.0), rng)
        gap = np.linalg.norm(step)
        start = np.array([spot[0], spot[1], gap])
        end = start + np.array([0.0, 0.0, gap * (N_BEADS - 1)])
        jitter = rng.normal(0, 0.002, 2)
        end[:2] += jitter
        beads = objects.add_rope(env.client, start, end, N_BEADS, BEAD_RADIUS)
        for bead in beads:
            env.add_movable(bead)
        env.settle(max_steps=480)
        matches = np.clip(np.eye(N_BEADS) + np.eye(N_BEADS)[::-1], 0, 1)
        self.goals.append(Goal([(b, 0.0) for b in beads], matches, targets, rotations=False))

    def oracle_action(self, env, observation, rng):
        """The generic oracle, held to one direction of the rope along the line.

        Either end may go to either corner; the direction whose bead-to-target distances sum
        lower is kept for this action, so the expert does not drag the rope back and forth
        between the two.
        """
        if not self.goals:
            return None
        goal = self.goals[0]
        beads = np.array([env.pose(body)[0] for body, _ in goal.objects])
        targets = np.array([target[0] for target in goal.targets])
        forward = np.linalg.norm(beads - targets, axis=1).sum()
        backward = np.linalg.norm(beads - targets[::-1], axis=1).sum()
        matches = np.eye(N_BEADS) if forward <= backward else np.eye(N_BEADS)[::-1]
        return self.plan_pick_and_place(
            env, observation, rng, dataclasses.replace(goal, matches=matches)
        )
