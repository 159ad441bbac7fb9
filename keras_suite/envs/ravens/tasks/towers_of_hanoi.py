"""towers-of-hanoi: move a stack of three ring disks to the third rod, Hanoi rules."""

import numpy as np

from keras_suite.envs.ravens import objects
from keras_suite.envs.ravens.tasks.task import Goal, Task, transform

BASE_SIZE = (0.12, 0.36, 0.01)
#: Rod positions in the stand's frame.
ROD_POSITIONS = ((0.0, -0.12, 0.03), (0.0, 0.0, 0.03), (0.0, 0.12, 0.03))
ROD_RADIUS = 0.007
ROD_HEIGHT = 0.07
DISK_HEIGHT = 0.015
#: Outer radii of the disks, smallest (disk 0, on top) first.
DISK_RADII = (0.028, 0.037, 0.046)
DISK_INNER_RADIUS = 0.015
DISK_COLORS = ("yellow", "orange", "blue")
#: Colours of the stand's end pads, under rod 0 (the source) and rod 2 (the goal), as in
#: Ravens' stand: without them the stand looks the same turned by pi, and a scene mid-way
#: through the moves looks like its mirror image, which needs a different move.
SOURCE_PAD_COLOR = (0.92, 0.69, 0.56)
GOAL_PAD_COLOR = (0.31, 0.23, 0.19)


def hanoi_moves(n, source=0, target=2, spare=1):
    """The optimal move list `[(disk, from_rod, to_rod), ...]` for `n` disks (disk 0 smallest)."""
    if n == 0:
        return []
    return (
        hanoi_moves(n - 1, source, spare, target)
        + [(n - 1, source, target)]
        + hanoi_moves(n - 1, spare, target, source)
    )


class TowersOfHanoi(Task):
    """Three disks on rod 0 of a stand; the seven Hanoi moves take them to rod 2 in order.

    As in Ravens, the stand's pad under rod 0 is light and the one under rod 2 dark.
    """

    name = "towers-of-hanoi"
    max_steps = 14

    def build(self, env, rng):
        base_pose = env.random_pose(BASE_SIZE, rng)
        base_pose = (np.array([*base_pose[0][:2], BASE_SIZE[2] / 2]), base_pose[1])
        # The base is three square pads, one under each rod; the end pads are coloured.
        pad_size = (BASE_SIZE[0], BASE_SIZE[1] / len(ROD_POSITIONS), BASE_SIZE[2])
        parts = [objects.box_part(pad_size, (x, y, 0.0)) for x, y, _ in ROD_POSITIONS]
        for x, y, _ in ROD_POSITIONS:
            # Square rods: box-box contacts cost a fraction of cylinder-box ones.
            size = (2 * ROD_RADIUS, 2 * ROD_RADIUS, ROD_HEIGHT)
            parts.append(objects.box_part(size, (x, y, BASE_SIZE[2] / 2 + ROD_HEIGHT / 2)))
        stand = objects.add_compound(env.client, parts, base_pose, "gray", mass=0)
        for pad, color in ((0, SOURCE_PAD_COLOR), (len(ROD_POSITIONS) - 1, GOAL_PAD_COLOR)):
            env.client.changeVisualShape(stand, -1, shapeIndex=pad, rgbaColor=objects.rgba(color))
        rod_world = [transform(base_pose, rod) for rod in ROD_POSITIONS]
        disks = []
        for i, radius in enumerate(DISK_RADII):
            level = len(DISK_RADII) - 1 - i  # the largest disk lies at the bottom
            position = rod_world[0].copy()
            position[2] = BASE_SIZE[2] + DISK_HEIGHT * (level + 0.5)
            parts = objects.ring_parts(DISK_INNER_RADIUS, radius, DISK_HEIGHT, segments=8)
            disk = objects.add_compound(env.client, parts, (position, base_pose[1]), DISK_COLORS[i])
            disks.append(env.add_movable(disk))
        moves = hanoi_moves(len(disks))
        for disk, _, rod in moves:
            target = (rod_world[rod], np.array([0.0, 0.0, 0.0, 1.0]))
            self.goals.append(
                Goal([(disks[disk], 0.0)], np.ones((1, 1)), [target], max_reward=1 / len(moves))
            )
