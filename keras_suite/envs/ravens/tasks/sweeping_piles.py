"""sweeping-piles: push a pile of 50 small blocks into a square zone with a spatula."""

import numpy as np

from keras_suite.envs.ravens import objects
from keras_suite.envs.ravens.tasks.palletizing_boxes import box_points
from keras_suite.envs.ravens.tasks.task import Goal, Task, quat_from_yaw

ZONE_SIZE = (0.12, 0.12, 0.0)
N_BLOCKS = 50
BLOCK_SIZE = (0.01, 0.01, 0.01)


def zone_parts(size, width=0.005, height=0.001):
    """A flat square outline of side `size`."""
    half = size / 2
    return [
        objects.box_part((size, width, height), (0, half, 0)),
        objects.box_part((size, width, height), (0, -half, 0)),
        objects.box_part((width, size, height), (half, 0, 0)),
        objects.box_part((width, size, height), (-half, 0, 0)),
    ]


class SweepingPiles(Task):
    """50 one-centimetre blocks in a pile; sweep them all into a 12 cm zone (spatula pushes)."""

    name = "sweeping-piles"
    max_steps = 20
    tool = "spatula"

    def build(self, env, rng):
        # The pile takes x 0.4..0.6, y -0.1..0.1: keep the zone off it.
        env.reserve((0.5, 0.0), (0.2, 0.2))
        zone_pose = env.random_pose(ZONE_SIZE, rng)
        zone_pose = (np.array([*zone_pose[0][:2], 0.0005]), zone_pose[1])
        objects.add_compound(
            env.client, zone_parts(ZONE_SIZE[0]), zone_pose, "green", mass=0, collision=False
        )
        blocks, points = [], {}
        for _ in range(N_BLOCKS):
            position = (rng.uniform(0.4, 0.6), rng.uniform(-0.1, 0.1), 0.01)
            pose = (position, quat_from_yaw(rng.uniform(0, 2 * np.pi)))
            block = env.add_movable(
                objects.add_box(env.client, BLOCK_SIZE, pose, "red", mass=0.001)
            )
            blocks.append(block)
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

    def oracle_action(self, env, observation, rng):
        """Pushes from just behind a block outside the zone through to the zone's centre.

        The block is drawn at random among the farthest third of the blocks still outside the
        zone, so the spatula, 12 cm wide, also sweeps the blocks around it.
        """
        if not self.goals:
            return None
        centre = np.asarray(self.zone[0][:2])
        outside = []
        half = ZONE_SIZE[0] / 2 - 0.01
        for body, _ in self.goals[0].objects:
            xy = env.pose(body)[0][:2]
            local = xy - centre
            yaw = -2 * np.arctan2(self.zone[1][2], self.zone[1][3])
            c, s = np.cos(yaw), np.sin(yaw)
            local = np.array([c * local[0] - s * local[1], s * local[0] + c * local[1]])
            if np.any(np.abs(local) > half):
                outside.append((np.linalg.norm(xy - centre), xy))
        if not outside:
            return None
        outside.sort(key=lambda item: -item[0])
        far = outside[: max(1, len(outside) // 3)]
        _, start = far[int(rng.integers(len(far)))]
        direction = (centre - start) / max(np.linalg.norm(centre - start), 1e-6)
        start = start - 0.02 * direction
        end = centre - 0.03 * direction
        z = np.zeros(1)
        quaternion = np.asarray(quat_from_yaw(float(np.arctan2(direction[1], direction[0]))))
        return {
            "pose0": (np.concatenate([start, z]), quaternion),
            "pose1": (np.concatenate([end, z]), quaternion),
        }
