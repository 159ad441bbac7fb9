"""packing-boxes: pack boxes of random sizes into a container they exactly fill."""

import numpy as np

from keras_suite.envs.ravens import objects
from keras_suite.envs.ravens.tasks.palletizing_boxes import box_points
from keras_suite.envs.ravens.tasks.task import Goal, Task, invert, multiply, transform

MARGIN = 0.01
MIN_SIZE = 0.05
#: The container: a 2 mm floor and 2 mm walls as tall as the container, centred on its
#: outline, brown (original Ravens assets/container/container-template.urdf).
WALL = 0.002
#: Box colours: every named colour but brown (original Ravens tasks/packing_boxes.py).
COLORS = ("blue", "red", "green", "orange", "yellow", "purple", "pink", "cyan", "gray")


def split_space(low, high, rng):
    """Cuts the box `[low, high]` recursively (a k-d tree) into boxes no side under 5 cm.

    A side longer than twice the minimum may be cut, at a random place, leaving `MARGIN`
    between the halves. Returns a list of `(low, high)` corners.
    """
    size = high - low
    can_split = size > 2 * MIN_SIZE
    if not np.any(can_split):
        return [(low, high)]
    axis = int(rng.choice(np.flatnonzero(can_split)))
    cut = low[axis] + MIN_SIZE + rng.random() * (size[axis] - 2 * MIN_SIZE)
    high_a, low_b = high.copy(), low.copy()
    high_a[axis] = cut - MARGIN / 2
    low_b[axis] = cut + MARGIN / 2
    return split_space(low, high_a, rng) + split_space(low_b, high, rng)


def container_parts(size):
    """The floor and four walls of an open container of `size`, frame at its floor centre."""
    sx, sy, height = size[0] / 2, size[1] / 2, size[2]
    z = height / 2
    return [
        objects.box_part((size[0], size[1], WALL), (0, 0, 0)),
        objects.box_part((size[0], WALL, height), (0, sy, z)),
        objects.box_part((size[0], WALL, height), (0, -sy, z)),
        objects.box_part((WALL, size[1], height), (sx, 0, z)),
        objects.box_part((WALL, size[1], height), (-sx, 0, z)),
    ]


class PackingBoxes(Task):
    """A container of random size and the boxes that tile it (with 1 cm gaps), scattered.

    As in the original Ravens (tasks/packing_boxes.py): a 5 cm deep container 5 to 30 cm on
    a side, boxes at least 5 cm on a side, 20 steps. Object classes: "container" and "box".
    """

    name = "packing-boxes"
    max_steps = 20

    def build(self, env, rng):
        zone_size = np.array([rng.uniform(0.05, 0.3), rng.uniform(0.05, 0.3), 0.05])
        zone_pose = env.random_pose(zone_size, rng)
        zone_pose = (np.array([*zone_pose[0][:2], 0.0]), zone_pose[1])
        container = objects.add_compound(
            env.client, container_parts(zone_size), zone_pose, "brown", mass=0
        )
        self.classify("container", container)
        stack = zone_size - np.array([0.01, 0.01, 0.0])
        cells = split_space(np.array([0.01, 0.01, 0.0]), stack, rng)
        boxes, targets, points = [], [], {}
        for low, high in cells:
            size = high - low
            centre = low + size / 2 - np.array([zone_size[0] / 2, zone_size[1] / 2, 0.0])
            targets.append(multiply(zone_pose, (centre, np.array([0.0, 0.0, 0.0, 1.0]))))
            pose = env.random_pose(size, rng)
            color = COLORS[int(rng.integers(len(COLORS)))]
            box = env.add_movable(objects.add_box(env.client, size, pose, color))
            boxes.append(self.classify("box", box))
            points[box] = box_points(size)
        self.goals.append(
            Goal(
                [(b, 0.0) for b in boxes],
                np.eye(len(boxes)),
                targets,
                metric="zone",
                zones=[(zone_pose, zone_size)],
                points=points,
            )
        )

    def unmatched(self, env, goal):
        """As `Task.unmatched`, but a box that sticks out of the container is never done.

        A box within the 1 cm pose tolerance of its target can still overhang the container's
        wall (the boxes tile it with 1 cm gaps), which the zone metric does not count: the
        oracle places such a box again.
        """
        candidates = super().unmatched(env, goal)
        listed = {index for _, index, _ in candidates}
        zone_pose, zone_size = goal.zones[0]
        to_zone = invert(zone_pose)
        for index, (body, _) in enumerate(goal.objects):
            if index in listed:
                continue
            pose = env.pose(body)
            local = np.array([transform(to_zone, transform(pose, q)) for q in goal.points[body]])
            if np.any(np.abs(local[:, :2]) >= np.asarray(zone_size[:2]) / 2):
                target = int(np.flatnonzero(goal.matches[index])[0])
                distance = float(np.linalg.norm(pose[0] - goal.targets[target][0]))
                candidates.append((max(distance, 1e-6), index, target))
        candidates.sort(reverse=True)
        return candidates
