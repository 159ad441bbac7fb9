"""sweeping-piles: push a pile of 50 small blocks into a square zone with a spatula."""

import numpy as np

from keras_suite.envs.ravens import cameras, objects
from keras_suite.envs.ravens.tasks.palletizing_boxes import box_points
from keras_suite.envs.ravens.tasks.task import Goal, Task, _rotation_matrix, quat_from_yaw

ZONE_SIZE = (0.12, 0.12, 0.0)
N_BLOCKS = 50
BLOCK_SIZE = (0.01, 0.01, 0.01)
#: Half the spatula blade's width (see `arm.Arm`).
_BLADE_HALF_WIDTH = 0.06
#: A block pushed by the blade ends this far ahead of the blade's centre line.
_BLADE_AHEAD = 0.01
#: The oracle counts on a pushed block ending at least this far inside the zone's edge.
_INSIDE_MARGIN = 0.008
#: A push starts this far behind the last block in its way and, as in Ravens, ends this far
#: short of the zone's centre.
_PUSH_BACKOFF = 0.02
_PUSH_SHORT = 0.05
#: How far behind the chosen block the oracle looks for blocks to take along.
_PUSH_REACH = 0.1
#: The blade lands no closer than this to a block's centre (half its thickness + a block).
_LANDING_CLEARANCE = 0.015


#: The zone's outline: a 6 mm wide, 1 mm thick frame of pure green inside the 12 cm square
#: (original Ravens assets/zone/zone.urdf and its zone.obj at scale 0.006).
ZONE_COLOR = (0.0, 1.0, 0.0)


def zone_parts(size, width=0.006, height=0.001):
    """A flat square outline of side `size` (its outer edge)."""
    half = size / 2 - width / 2
    return [
        objects.box_part((size, width, height), (0, half, 0)),
        objects.box_part((size, width, height), (0, -half, 0)),
        objects.box_part((width, size, height), (half, 0, 0)),
        objects.box_part((width, size, height), (-half, 0, 0)),
    ]


class SweepingPiles(Task):
    """50 one-centimetre blocks in a pile; sweep them all into a 12 cm zone (spatula pushes).

    As in Ravens, the pile is drawn over x 0.4..0.6 m, y -0.1..0.1 m, the zone anywhere;
    the reward is the share of the blocks' points inside the zone and success needs 99 % of
    them (every block) within 20 pushes. The blocks weigh a gram and, like Ravens' small block,
    get a huge rotational inertia: they slide in front of the blade rather than tip under it.
    Object classes: "zone" and "pile".
    """

    name = "sweeping-piles"
    max_steps = 20
    tool = "spatula"
    # The original drops the blocks from 1 cm (centres) and shows them so at first.
    settle_on_reset = False

    def build(self, env, rng):
        # The zone is drawn first, anywhere, and the pile over x 0.4..0.6, y -0.1..0.1 m
        # (original Ravens tasks/sweeping_piles.py): the two may overlap.
        zone_pose = env.random_pose(ZONE_SIZE, rng)
        zone_pose = (np.array([*zone_pose[0][:2], 0.0005]), zone_pose[1])
        zone = objects.add_compound(
            env.client, zone_parts(ZONE_SIZE[0]), zone_pose, ZONE_COLOR, mass=0, collision=False
        )
        self.classify("zone", zone)
        blocks, points = [], {}
        for _ in range(N_BLOCKS):
            position = (rng.uniform(0.4, 0.6), rng.uniform(-0.1, 0.1), 0.01)
            pose = (position, quat_from_yaw(rng.uniform(0, 2 * np.pi)))
            block = env.add_movable(
                objects.add_box(env.client, BLOCK_SIZE, pose, "red", mass=0.001)
            )
            # Ravens' small block: a gram, with a huge inertia so that it slides in front of
            # the blade instead of tipping under it.
            env.client.changeDynamics(
                block,
                -1,
                lateralFriction=0.5,
                rollingFriction=1e-4,
                localInertiaDiagonal=[1.0, 1.0, 1.0],
            )
            blocks.append(self.classify("pile", block))
            points[block] = box_points(BLOCK_SIZE, spacing=0.005)
        self.zone = zone_pose
        self.goals.append(
            Goal(
                [(b, 0.0) for b in blocks],
                np.ones((N_BLOCKS, 1)),
                [zone_pose],
                replace=True,
                rotations=False,
                metric="zone",
                zones=[(zone_pose, ZONE_SIZE)],
                points=points,
            )
        )

    def blocks_outside(self, env):
        """Positions `(n, 2)` of the blocks that have a point outside the zone (as scored)."""
        goal = self.goals[0]
        zone_rotation = _rotation_matrix(self.zone[1])
        outside = []
        for body, points in goal.points.items():
            position, quaternion = env.pose(body)
            world = np.asarray(points) @ _rotation_matrix(quaternion).T + position
            local = (world - self.zone[0]) @ zone_rotation
            if np.any(np.abs(local[:, :2]) >= ZONE_SIZE[0] / 2):
                outside.append(position[:2])
        return np.array(outside).reshape(-1, 2)

    def oracle_action(self, env, observation, rng):
        """Pushes a line of blocks that are (partly) outside the zone into it.

        Every block outside the zone proposes a push along the line from it to the zone's
        centre; the push starts 2 cm behind the last block the blade would meet on that line
        and, as Ravens' push primitive, ends 5 cm short of the centre. A proposal scores the
        blocks outside the zone that it would leave inside; one is drawn at random among those
        that score at least three quarters of the best, so demonstrations vary while each push
        gathers as much of the pile as it can.
        """
        if not self.goals:
            return None
        outside = self.blocks_outside(env)
        if len(outside) == 0:
            return None
        blocks = np.array([env.pose(body)[0][:2] for body, _ in self.goals[0].objects])
        proposals = [self._push_proposal(block, outside, blocks) for block in outside]
        best = max(score for score, _, _ in proposals)
        chosen = [(start, end) for score, start, end in proposals if score >= 0.75 * best]
        start, end = chosen[int(rng.integers(len(chosen)))]
        direction = end - start
        quaternion = np.asarray(quat_from_yaw(float(np.arctan2(direction[1], direction[0]))))
        return {
            "pose0": (np.array([*start, 0.0]), quaternion),
            "pose1": (np.array([*end, 0.0]), quaternion),
        }

    def _push_proposal(self, block, outside, blocks):
        """`(score, start, end)` of a push from behind `block` towards the zone's centre."""
        centre = np.asarray(self.zone[0][:2], dtype=np.float64)
        direction = centre - block
        length = max(float(np.linalg.norm(direction)), 1e-6)
        direction = direction / length
        normal = np.array([-direction[1], direction[0]])
        along, across = (blocks - block) @ direction, np.abs((blocks - block) @ normal)
        # Start behind the last block under the blade on this line, clear of any block the
        # blade would land on.
        under = across < _BLADE_HALF_WIDTH + 0.005
        behind = under & (along > -_PUSH_REACH) & (along < 0)
        start = float(np.min(along[behind], initial=0.0)) - _PUSH_BACKOFF
        landing = under & (np.abs(along - start) < _LANDING_CLEARANCE)
        while np.any(landing):
            start = float(np.min(along[landing])) - _PUSH_BACKOFF
            landing = under & (np.abs(along - start) < _LANDING_CLEARANCE)
        start_xy = block + start * direction
        low, high = cameras.BOUNDS[:2, 0], cameras.BOUNDS[:2, 1]
        for _ in range(200):  # keep the start in the workspace: slide it towards the zone
            if np.all(start_xy >= low) and np.all(start_xy <= high):
                break
            start_xy = start_xy + 0.005 * direction
        stop = length - _PUSH_SHORT  # where the blade stops, along the line from `block`
        # Where the outside blocks in the blade's path end up: just ahead of the blade.
        along, offset = (outside - block) @ direction, (outside - block) @ normal
        path = (np.abs(offset) < _BLADE_HALF_WIDTH) & (along > start) & (along < stop)
        final = block + np.outer(np.maximum(along, stop + _BLADE_AHEAD), direction)
        final += np.outer(offset, normal)
        local = (final - centre) @ _rotation_matrix(self.zone[1])[:2, :2]
        inside = np.all(np.abs(local) < ZONE_SIZE[0] / 2 - _INSIDE_MARGIN, axis=1)
        return int(np.sum(path & inside)), start_xy, block + stop * direction
