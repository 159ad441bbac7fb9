"""assembling-kits: put five shapes into the matching silhouettes of a kit."""

import numpy as np

from keras_suite.envs.ravens import objects
from keras_suite.envs.ravens.tasks.task import Goal, Task, quat_from_yaw, transform

KIT_SIZE = (0.28, 0.2, 0.005)
#: Slot positions in the kit frame.
SLOTS = ((-0.09, 0.045), (0.0, 0.045), (0.09, 0.045), (-0.045, -0.045), (0.045, -0.045))
SHAPE_HEIGHT = 0.02
COLORS = ("purple", "blue", "green", "yellow", "red")


def _box(x0, y0, x1, y1, yaw=0.0):
    """A box piece from its corners (before turning it by `yaw` about its centre)."""
    return ("box", (x0, y0, x1, y1, yaw))


def _prism(polygon):
    return ("prism", np.asarray(polygon))


_DIAGONAL = 0.03 * np.sqrt(2)
#: The shapes (footprints within 6 cm), each made of boxes or of one convex prism, and the
#: rotation under which each looks the same (0: any rotation).
SHAPES = (
    ("square", [_box(-0.0225, -0.0225, 0.0225, 0.0225)], np.pi / 2),
    ("bar", [_box(-0.03, -0.015, 0.03, 0.015)], np.pi),
    ("triangle", [_prism(objects.regular_polygon(3, 0.032, np.pi / 2))], 2 * np.pi / 3),
    ("pentagon", [_prism(objects.regular_polygon(5, 0.028, np.pi / 2))], 2 * np.pi / 5),
    ("hexagon", [_prism(objects.regular_polygon(6, 0.027))], 2 * np.pi / 6),
    (
        "plus",
        [
            _box(-0.03, -0.01, 0.03, 0.01),
            _box(-0.01, -0.03, 0.01, -0.01),
            _box(-0.01, 0.01, 0.01, 0.03),
        ],
        np.pi / 2,
    ),
    ("ell", [_box(-0.025, -0.03, -0.005, 0.03), _box(-0.005, -0.03, 0.025, -0.01)], 2 * np.pi),
    ("tee", [_box(-0.03, 0.01, 0.03, 0.03), _box(-0.01, -0.03, 0.01, 0.01)], 2 * np.pi),
    ("disk", [_prism(objects.regular_polygon(16, 0.025))], 0.0),
    (
        "zed",
        [
            _box(-0.03, 0.01, 0.01, 0.03),
            _box(-0.01, -0.01, 0.01, 0.01),
            _box(-0.01, -0.03, 0.03, -0.01),
        ],
        np.pi,
    ),
    (
        "you",
        [
            _box(-0.03, -0.03, 0.03, -0.01),
            _box(-0.03, -0.01, -0.01, 0.03),
            _box(0.01, -0.01, 0.03, 0.03),
        ],
        2 * np.pi,
    ),
    (
        "chevron",
        [
            _box(-0.03, -0.0225, -0.03 + _DIAGONAL, -0.0025, np.pi / 4),
            _box(0.03 - _DIAGONAL, -0.0225, 0.03, -0.0025, -np.pi / 4),
        ],
        2 * np.pi,
    ),
)
#: Shapes of training scenes (even seeds) and test scenes (odd seeds): test shapes are unseen.
TRAIN_SHAPES = tuple(range(9))
TEST_SHAPES = (9, 10, 11)


def add_shape(client, index, pose, color, height=SHAPE_HEIGHT, mass=0.1, collision=True):
    """Adds shape `index` of `SHAPES` as one body."""
    pieces = SHAPES[index][1]
    if pieces[0][0] == "prism":
        return objects.add_prisms(client, [pieces[0][1]], height, pose, color, mass, collision)
    parts = [
        objects.box_part((x1 - x0, y1 - y0, height), ((x0 + x1) / 2, (y0 + y1) / 2, 0.0), yaw)
        for _, (x0, y0, x1, y1, yaw) in pieces
    ]
    return objects.add_compound(client, parts, pose, color, mass, collision)


class AssemblingKits(Task):
    """Five shapes to fit into the five matching silhouettes of a kit (any same-shape slot)."""

    name = "assembling-kits"
    max_steps = 10

    def build(self, env, rng):
        kit_pose = env.random_pose(KIT_SIZE, rng)
        objects.add_box(env.client, KIT_SIZE, kit_pose, "gray", mass=0)
        pool = TRAIN_SHAPES if env.mode == "train" else TEST_SHAPES
        shapes = rng.choice(pool, len(SLOTS))
        targets = []
        self.slots, self.pieces = [], []  # (body, shape index) of silhouettes and pieces
        for slot, shape in zip(SLOTS, shapes):
            position = transform(kit_pose, (slot[0], slot[1], KIT_SIZE[2] / 2 + 0.0005))
            yaw = rng.uniform(0, 2 * np.pi)
            silhouette = (position, np.asarray(quat_from_yaw(yaw)))
            body = add_shape(env.client, shape, silhouette, (0.2, 0.2, 0.2), 0.001, 0, False)
            self.slots.append((body, int(shape)))
            targets.append(
                (position + np.array([0, 0, SHAPE_HEIGHT / 2]), np.asarray(quat_from_yaw(yaw)))
            )
        pieces = []
        for i, shape in enumerate(shapes):
            pose = env.random_pose((0.08, 0.08, SHAPE_HEIGHT), rng)
            body = env.add_movable(add_shape(env.client, shape, pose, COLORS[i]))
            pieces.append((body, SHAPES[shape][2]))
            self.pieces.append((body, int(shape)))
        matches = (shapes[:, None] == shapes[None, :]).astype(np.int32)
        self.goals.append(Goal(pieces, matches, targets))
