"""palletizing-boxes: stack 18 boxes, arriving one at a time, on a pallet."""

import numpy as np

from keras_suite.envs.ravens import objects
from keras_suite.envs.ravens.tasks.task import Goal, Task, multiply, quat_from_yaw

#: The pallet's pose and its zone (original Ravens tasks/palletizing_boxes.py).
PALLET_POSE = (np.array([0.5, 0.25, 0.02]), np.array([0.0, 0.0, 0.0, 1.0]))
ZONE_SIZE = (0.3, 0.25, 0.25)
#: The pallet, 30 x 25 x 3.75 cm, light wood (original Ravens assets/pallet/pallet.urdf and
#: the geometry of its pallet.obj at scale 0.25): seven top slats across its width, three
#: runners along its length, five bottom slats; `(x0, x1)` of the slats in the pallet frame.
PALLET_SIZE = (0.3, 0.25, 0.0375)
PALLET_COLOR = (0.8706, 0.7216, 0.5294)
_TOP_SLATS = (
    (-0.15, -0.115),
    (-0.0975, -0.0725),
    (-0.055, -0.03),
    (-0.0125, 0.0125),
    (0.03, 0.055),
    (0.0725, 0.0975),
    (0.115, 0.15),
)
_BOTTOM_SLATS = (_TOP_SLATS[0], _TOP_SLATS[2], _TOP_SLATS[3], _TOP_SLATS[4], _TOP_SLATS[6])
_RUNNERS = ((-0.125, -0.115), (-0.005, 0.005), (0.115, 0.125))
_DECK = 0.005
STACK_SIZE = np.array([0.19, 0.19, 0.19])
STACK_DIMS = (2, 3, 3)
MARGIN = 0.01
#: Where a new box appears, on the empty half of the table.
SPAWN_POSITION = (0.5, -0.25, 0.1)
#: A box on the pallet that has drifted this far (x, y; metres) from its target is placed again
#: before the next box, while nothing rests on it.
REPAIR_DISTANCE = 0.015


def pallet_parts():
    """Box parts of the pallet (`PALLET_SIZE`), frame at its centre."""
    top = PALLET_SIZE[2] / 2 - _DECK / 2
    parts = [
        objects.box_part((x1 - x0, PALLET_SIZE[1], _DECK), ((x0 + x1) / 2, 0.0, z))
        for slats, z in ((_TOP_SLATS, top), (_BOTTOM_SLATS, -top))
        for x0, x1 in slats
    ]
    runner_height = PALLET_SIZE[2] - 2 * _DECK
    parts += [
        objects.box_part((PALLET_SIZE[0], y1 - y0, runner_height), (0.0, (y0 + y1) / 2, 0.0))
        for y0, y1 in _RUNNERS
    ]
    return parts


def box_points(size, spacing=0.02):
    """A grid of points inside a box of `size` (its frame), for the zone metric."""
    axes = [np.arange(-s / 2, s / 2, spacing) + spacing / 2 for s in size]
    grid = np.meshgrid(*axes, indexing="ij")
    return np.stack([g.reshape(-1) for g in grid], axis=1)


def is_covered(env, body, bodies, overlap=0.005):
    """Whether another of `bodies` rests on `body` (lies above it, footprints overlapping)."""
    low, high = (np.asarray(v) for v in env.client.getAABB(body))
    for other in bodies:
        if other == body:
            continue
        other_low, other_high = (np.asarray(v) for v in env.client.getAABB(other))
        shared = np.minimum(high[:2], other_high[:2]) - np.maximum(low[:2], other_low[:2])
        if other_low[2] > high[2] - 0.01 and np.all(shared > overlap):
            return True
    return False


def stack_layout():
    """`(size, position)` of every box of the 2 x 3 x 3 stack, in the pallet frame.

    Layers alternate between 2 x 3 and 3 x 2 boxes so that they interlock.
    """
    dims = np.array(STACK_DIMS)
    size = (STACK_SIZE - (dims - 1) * MARGIN) / dims
    layout = []
    for z in range(dims[2]):
        dims[0], dims[1] = dims[1], dims[0]
        size[0], size[1] = size[1], size[0]
        for y in range(dims[1]):
            for x in range(dims[0]):
                position = (np.array([x, y, z]) + 0.5) * size
                position += np.array([x, y, z]) * MARGIN
                position -= np.array([STACK_SIZE[0] / 2, STACK_SIZE[1] / 2, 0.0])
                # Layers rest on each other: the original keeps 1 cm between them and drops
                # the boxes, which nudges the boxes under them.
                position[2] += PALLET_SIZE[2] / 2 - z * MARGIN
                layout.append((size.copy(), position))
    return layout


class PalletizingBoxes(Task):
    """Boxes arrive one by one on the right half of the table; stack them all on the pallet.

    The 18 boxes' target poses are a tight interlocking stack. Success: every box lies inside
    the pallet's zone (the zone metric counts each box's points) within 30 steps, as in the
    original Ravens (tasks/palletizing_boxes.py). Object classes: "pallet" and "box".

    The oracle never picks a box that another box rests on (lifting it topples the stack), and
    places again any uncovered box on the pallet that has drifted more than `REPAIR_DISTANCE`
    from its target (placements nudge their neighbours) before it brings the next box.
    """

    name = "palletizing-boxes"
    max_steps = 30

    def build(self, env, rng):
        pallet = objects.add_compound(env.client, pallet_parts(), PALLET_POSE, PALLET_COLOR, mass=0)
        self.classify("pallet", pallet)
        env.reserve(PALLET_POSE[0], PALLET_SIZE)
        boxes, targets, points = [], [], {}
        for i, (size, position) in enumerate(stack_layout()):
            target = multiply(PALLET_POSE, (position, np.array([0.0, 0.0, 0.0, 1.0])))
            parked = (np.array([2.0 + 0.15 * i, -10.0, size[2] / 2]), target[1])
            # A random shade of brown (original Ravens tasks/task.py, color_random_brown).
            color = np.clip(np.array(objects.COLORS["brown"]) * rng.uniform(0.5, 1.5), 0, 1)
            box = env.add_movable(objects.add_box(env.client, size, parked, color))
            self.classify("box", box)
            boxes.append(box)
            targets.append(target)
            points[box] = box_points(size)
        # Boxes arrive bottom layer first (the reverse of unstacking from the top).
        self.queue = list(boxes)
        self.goals.append(
            Goal(
                [(b, 0.0) for b in boxes],
                np.eye(len(boxes)),
                targets,
                metric="zone",
                zones=[(PALLET_POSE, ZONE_SIZE)],
                points=points,
            )
        )
        self.spawn(env, rng)

    def unmatched(self, env, goal):
        """The generic candidates without covered boxes; drifted boxes on the pallet first."""
        bodies = [b for b, _ in goal.objects]
        candidates = [
            c for c in super().unmatched(env, goal) if not is_covered(env, bodies[c[1]], bodies)
        ]
        drifts = {}
        for _, index, target in candidates:
            position = np.asarray(env.pose(bodies[index])[0])
            if 0.0 < position[1] and position[0] < 1.0:  # on the pallet's half of the table
                drift = np.linalg.norm(position[:2] - goal.targets[target][0][:2])
                if drift > REPAIR_DISTANCE:
                    drifts[index] = drift
        repairs = sorted((c for c in candidates if c[1] in drifts), key=lambda c: -drifts[c[1]])
        return repairs + [c for c in candidates if c[1] not in drifts]

    def spawn(self, env, rng):
        """Brings the next box in when no box waits on the table."""
        if not self.goals or not self.queue:
            return
        waiting = [
            b
            for b, _ in self.goals[0].objects
            if -0.5 < env.pose(b)[0][1] < 0.0 and env.pose(b)[0][0] < 1.0
        ]
        if waiting:
            return
        box = self.queue.pop(0)
        yaw = rng.uniform(0, 2 * np.pi)
        env.client.resetBasePositionAndOrientation(box, SPAWN_POSITION, quat_from_yaw(yaw))
        env.settle()

    def after_step(self, env, rng):
        self.spawn(env, rng)
