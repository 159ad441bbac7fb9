"""manipulating-rope: straighten a rope along the open side of a three-sided square."""

import dataclasses

import numpy as np
import pybullet as p

from keras_suite.envs.ravens import objects
from keras_suite.envs.ravens.tasks.task import Goal, Task, invert, transform
from keras_suite.envs.ravens.workspace import BOUNDS

N_BEADS = 20
BEAD_RADIUS = 0.005
#: Rope length: Ravens' 2 r n sqrt(2).
LENGTH = 2 * BEAD_RADIUS * N_BEADS * np.sqrt(2)


#: The outline: 1 cm wide, 1 mm thick bars of pure green, their centre lines 5 mm inside the
#: square (original Ravens assets/square/square-template.urdf, HALF = length / 2 - 0.005).
SQUARE_COLOR = (0.0, 1.0, 0.0)
#: The rope's two end beads keep pybullet's default colour, white (original Ravens
#: tasks/manipulating_rope.py colours only the inner beads red).
END_COLOR = (1.0, 1.0, 1.0)


def add_rope(client, bottom, top, n_beads=N_BEADS, radius=BEAD_RADIUS):
    """Adds a rope hanging as a column of `n_beads` beads from `bottom` to `top` (metres).

    As the original Ravens' rope (tasks/manipulating_rope.py): cube beads of side `2 radius`
    drawn as spheres of radius `1.5 radius`, 0.1 kg each; each bead hangs on a ball joint at
    its own centre, one spacing along the local z axis of the bead before it (max force 100);
    neighbouring beads collide, which keeps the fallen rope from coiling tightly. The inner
    beads are red, the two ends `END_COLOR`.

    Returns:
        The bead body ids, from the `bottom` end.
    """
    bottom, top = np.asarray(bottom, np.float64), np.asarray(top, np.float64)
    spacing = float(np.linalg.norm(top - bottom)) / (n_beads - 1)
    collision = client.createCollisionShape(p.GEOM_BOX, halfExtents=[radius] * 3)
    beads = []
    for i in range(n_beads):
        color = END_COLOR if i in (0, n_beads - 1) else "red"
        visual = client.createVisualShape(
            p.GEOM_SPHERE, radius=1.5 * radius, rgbaColor=objects.rgba(color)
        )
        position = bottom + (top - bottom) * i / (n_beads - 1)
        bead = client.createMultiBody(0.1, collision, visual, basePosition=position.tolist())
        if beads:
            constraint = client.createConstraint(
                parentBodyUniqueId=beads[-1],
                parentLinkIndex=-1,
                childBodyUniqueId=bead,
                childLinkIndex=-1,
                jointType=p.JOINT_POINT2POINT,
                jointAxis=(0, 0, 0),
                parentFramePosition=(0, 0, spacing),
                childFramePosition=(0, 0, 0),
            )
            client.changeConstraint(constraint, maxForce=100)
        beads.append(bead)
    return beads


#: The rope drops half the diagonal of a 10 cm square away from anything (original Ravens
#: tasks/manipulating_rope.py samples a free pose for a 10 x 10 cm object).
DROP_CLEARANCE = 0.05 * np.sqrt(2)


def rope_spot(square_pose, rng):
    """Where the rope is dropped: `DROP_CLEARANCE` away from the workspace's edges and from
    the outline's bars, inside the square or out (in the original only the bars' pixels are
    taken).
    """
    clearance = DROP_CLEARANCE
    half = LENGTH / 2 - 0.005
    bars = [((-half, -half), (half, -half)), ((-half, -half), (-half, half))]
    bars.append(((half, -half), (half, half)))
    to_square = invert(square_pose)
    for _ in range(1000):
        spot = rng.uniform(BOUNDS[:2, 0] + clearance, BOUNDS[:2, 1] - clearance)
        local = transform(to_square, (*spot, square_pose[0][2]))[:2]
        distances = []
        for a, b in bars:
            a, b = np.asarray(a), np.asarray(b)
            t = np.clip(np.dot(local - a, b - a) / np.dot(b - a, b - a), 0.0, 1.0)
            distances.append(np.linalg.norm(local - a - t * (b - a)))
        if min(distances) > clearance + 0.005:
            return spot
    raise RuntimeError("No free spot left for the rope.")


def square_parts(length, width=0.01, height=0.001):
    """Three thin bars of a square of side `length`, open on its +y side."""
    half = length / 2 - width / 2
    return [
        objects.box_part((length, width, height), (0, -half, 0)),
        objects.box_part((width, length, height), (-half, 0, 0)),
        objects.box_part((width, length, height), (half, 0, 0)),
    ]


class ManipulatingRope(Task):
    """A 20-bead rope dropped in a heap; lay it along the open side of a square outline.

    As in the original Ravens (tasks/manipulating_rope.py): 20 beads, 2 cm tolerance, 20
    steps. Object classes: "square" and "rope".
    """

    name = "manipulating-rope"
    max_steps = 20
    pos_eps = 0.02
    carry_height = 0.02
    carry_speed = 0.3
    pick_erosion = 0

    def build(self, env, rng):
        square_pose = env.random_pose((LENGTH, LENGTH, 0.0), rng)
        square_pose = (np.array([*square_pose[0][:2], 0.0005]), square_pose[1])
        square = objects.add_compound(
            env.client, square_parts(LENGTH), square_pose, SQUARE_COLOR, mass=0, collision=False
        )
        self.classify("square", square)
        corner0 = transform(square_pose, (LENGTH / 2, LENGTH / 2, 0.0))
        corner1 = transform(square_pose, (-LENGTH / 2, LENGTH / 2, 0.0))
        step = (corner1 - corner0) / N_BEADS
        targets = [
            (corner0 + step * (i + 0.5) + [0, 0, BEAD_RADIUS], np.array([0.0, 0.0, 0.0, 1.0]))
            for i in range(N_BEADS)
        ]
        # Dropped as a column from 5 cm over a free spot (as the original's), the rope falls
        # into a random heap; its top leans up to about 1 cm, which spreads the heap as much
        # as the original's (17 visible pixels per bead in the fused map).
        spot = rope_spot(square_pose, rng)
        gap = np.linalg.norm(step)
        start = np.array([spot[0], spot[1], 0.05 + gap])
        end = start + np.array([0.0, 0.0, gap * (N_BEADS - 1)])
        end[:2] += rng.normal(0, 0.01, 2)
        beads = add_rope(env.client, start, end)
        for bead in beads:
            self.classify("rope", env.add_movable(bead))
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
