"""towers-of-hanoi: move a stack of three ring disks to the third rod, Hanoi rules."""

import numpy as np

from keras_suite.envs.ravens import objects
from keras_suite.envs.ravens.tasks.task import Goal, Task, transform

# Geometry and colours of original Ravens assets/hanoi/stand.urdf and disk{0,1,2}.urdf/.obj,
# poses of its tasks/towers_of_hanoi.py.
#: The size the stand's pose is drawn for; its frame sits at half its height.
BASE_SIZE = (0.12, 0.36, 0.01)
#: Rod positions in the stand's frame (also the goal positions).
ROD_POSITIONS = ((0.0, -0.12, 0.03), (0.0, 0.0, 0.03), (0.0, 0.12, 0.03))
#: Rods: cylinders 5 mm in radius and 5 cm long, centred at the rod positions.
ROD_RADIUS = 0.005
ROD_LENGTH = 0.05
#: Disks: rings 1 cm thick with a 1.5 cm hole, smallest (disk 0, on top) first.
DISK_HEIGHT = 0.01
DISK_RADII = (0.03, 0.035, 0.04)
DISK_INNER_RADIUS = 0.015
DISK_COLORS = ("red", "yellow", "green")
#: The stand is brown; its pad under rod 0 (the source) light and under rod 2 (the goal)
#: dark, so the stand does not look the same turned by pi.
STAND_COLOR = "brown"
SOURCE_PAD_COLOR = (0.91764706, 0.68823529, 0.55882353)
GOAL_PAD_COLOR = (0.30588235, 0.22941176, 0.18627451)
#: The disks start 1.5 cm apart above rod 0, the largest 5 mm above the stand (the original
#: lays them so and shows them so before the first action).
DISK_SPACING = 0.015
DISK_CLASSES = ("disk_small", "disk_medium", "disk_large")


def hanoi_moves(n, source=0, target=2, spare=1):
    """The optimal move list `[(disk, from_rod, to_rod), ...]` for `n` disks (disk 0 smallest)."""
    if n == 0:
        return []
    return (
        hanoi_moves(n - 1, source, spare, target)
        + [(n - 1, source, target)]
        + hanoi_moves(n - 1, spare, target, source)
    )


def stand_parts():
    """The stand's three pads (rod 0's first) and three rods, in its frame."""
    pad_size = (BASE_SIZE[0], BASE_SIZE[1] / len(ROD_POSITIONS), BASE_SIZE[2])
    parts = [objects.box_part(pad_size, (x, y, 0.0)) for x, y, _ in ROD_POSITIONS]
    parts += [objects.cylinder_part(ROD_RADIUS, ROD_LENGTH, rod) for rod in ROD_POSITIONS]
    return parts


def disk_profile(radius):
    """The `(radius, z)` cross-section of a disk, centred in z."""
    low, high = -DISK_HEIGHT / 2, DISK_HEIGHT / 2
    return ((DISK_INNER_RADIUS, low), (radius, low), (radius, high), (DISK_INNER_RADIUS, high))


class TowersOfHanoi(Task):
    """Three disks on rod 0 of a stand; the seven Hanoi moves take them to rod 2 in order.

    Object classes: "stand", "disk_small", "disk_medium" and "disk_large".
    """

    name = "towers-of-hanoi"
    max_steps = 14
    settle_on_reset = False

    def build(self, env, rng):
        base_pose = env.random_pose(BASE_SIZE, rng)
        stand = objects.add_compound(env.client, stand_parts(), base_pose, STAND_COLOR, mass=0)
        for pad, color in ((0, SOURCE_PAD_COLOR), (len(ROD_POSITIONS) - 1, GOAL_PAD_COLOR)):
            env.client.changeVisualShape(stand, -1, shapeIndex=pad, rgbaColor=objects.rgba(color))
        self.classify("stand", stand)
        rod_world = [transform(base_pose, rod) for rod in ROD_POSITIONS]
        disks = []
        for i, radius in enumerate(DISK_RADII):
            position = rod_world[0] + [0.0, 0.0, DISK_SPACING * (len(DISK_RADII) - 2 - i)]
            parts = objects.ring_parts(DISK_INNER_RADIUS, radius, DISK_HEIGHT, segments=8)
            disk = objects.add_compound(
                env.client,
                parts,
                (position, base_pose[1]),
                DISK_COLORS[i],
                visual=objects.lathe(disk_profile(radius), segments=24),
            )
            disks.append(self.classify(DISK_CLASSES[i], env.add_movable(disk)))
        moves = hanoi_moves(len(disks))
        for disk, _, rod in moves:
            target = (rod_world[rod], np.array([0.0, 0.0, 0.0, 1.0]))
            self.goals.append(
                Goal([(disks[disk], 0.0)], np.ones((1, 1)), [target], max_reward=1 / len(moves))
            )
