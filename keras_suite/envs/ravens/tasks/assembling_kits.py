"""assembling-kits: put five shapes into the matching silhouettes of a kit."""

import numpy as np

from keras_suite.envs.ravens import objects
from keras_suite.envs.ravens.tasks.task import Goal, Task, quat_from_yaw, transform

#: The kit: a 28 x 20 x 0.5 cm brown board (original Ravens assets/kitting/kit.urdf).
KIT_SIZE = (0.28, 0.2, 0.005)
#: Slot positions in the kit frame.
SLOTS = ((-0.09, 0.045), (0.0, 0.045), (0.09, 0.045), (-0.045, -0.045), (0.045, -0.045))
SHAPE_HEIGHT = 0.02
COLORS = ("purple", "blue", "green", "yellow", "red")


def _rect(x0, y0, x1, y1):
    return [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]


def _circle(radius, center=(0.0, 0.0), n=24):
    return [tuple(v) for v in objects.regular_polygon(n, radius) + np.asarray(center)]


def _arc(inner, outer, start, stop, n, center=(0.0, 0.0)):
    """Quads between two (elliptical) radii `(rx, ry)` from angle `start` to `stop` (degrees)."""
    angles = np.radians(np.linspace(start, stop, n + 1))
    quads = []
    for a, b in zip(angles[:-1], angles[1:]):
        quads.append(
            [
                (center[0] + r[0] * np.cos(t), center[1] + r[1] * np.sin(t))
                for r, t in ((inner, a), (outer, a), (outer, b), (inner, b))
            ]
        )
    return quads


def _star(outer, inner, center):
    """A five-pointed star with a point along +x, as a pentagon and five triangles."""
    tips = objects.regular_polygon(5, outer) + np.asarray(center)
    notches = objects.regular_polygon(5, inner, np.pi / 5) + np.asarray(center)
    core = [tuple(v) for v in notches]
    return [core] + [[tuple(notches[i - 1]), tuple(tips[i]), tuple(notches[i])] for i in range(5)]


#: The original's twenty kit shapes, in its order (original Ravens assets/kitting/00-19.obj
#: scaled by 0.003 and its tasks/assembling_kits.py symmetries): each a union of convex
#: polygons (centimetres, about the centre of the shape's bounding box, as the original's
#: meshes) and the turn under which it looks the same (0: any turn). Outlines rebuilt from
#: the meshes' extents and areas: letters from bars, round shapes from 24-gons.
SHAPES = (
    (
        "letter R",
        [
            _rect(-2.05, -2.85, -0.85, 2.85),
            _rect(-0.85, 1.6, 0.6, 2.85),
            _rect(-0.85, -0.6, 0.6, 0.5),
            [(0.4, -0.6), (1.0, -0.6), (1.7, 0.7), (1.7, 2.1), (1.0, 2.85), (0.4, 2.85)],
            [(-0.85, -0.6), (0.55, -0.6), (2.05, -2.85), (0.6, -2.85)],
        ],
        2 * np.pi,
    ),
    (
        "letter A",
        [
            [(-2.5, -2.85), (-1.25, -2.85), (0.35, 2.85), (-0.65, 2.85)],
            [(1.25, -2.85), (2.5, -2.85), (0.65, 2.85), (-0.35, 2.85)],
            _rect(-1.6, -1.3, 1.6, -0.2),
        ],
        2 * np.pi,
    ),
    ("triangle", [[(0.0, -3.0), (3.0, 3.0), (-3.0, 3.0)]], 2 * np.pi / 3),
    ("square", [_rect(-3.0, -3.0, 3.0, 3.0)], np.pi / 2),
    ("plus", [_rect(-3.0, -1.5, 3.0, 1.5), _rect(-1.5, -3.0, 1.5, 3.0)], np.pi / 2),
    ("letter T", [_rect(1.2, -3.0, 3.0, 3.0), _rect(-3.0, -0.9, 1.2, 0.9)], 2 * np.pi),
    ("diamond", [[(-3.75, 0.0), (0.0, -3.0), (3.75, 0.0), (0.0, 3.0)]], np.pi),
    (
        "pentagon",
        [[tuple(v) for v in objects.regular_polygon(5, 3.0, -np.pi / 2) + (0.0, 0.28)]],
        2 * np.pi / 5,
    ),
    ("rectangle", [_rect(-3.75, -2.25, 3.75, 2.25)], np.pi),
    (
        "flower",
        [_circle(1.6)]
        + [_circle(1.4, (1.6 * np.cos(a), 1.6 * np.sin(a))) for a in np.arange(4) * np.pi / 2],
        np.pi / 2,
    ),
    ("star", _star(3.18, 1.59, (-0.3, 0.0)), 2 * np.pi / 5),
    ("circle", [_circle(3.0)], 0.0),
    (
        "letter G",
        _arc((1.0, 1.65), (2.27, 2.9), 35, 330, 14)
        + [_rect(0.25, -0.6, 2.27, 0.4), _rect(1.0, -2.4, 2.27, -0.6)],
        2 * np.pi,
    ),
    (
        "letter V",
        [
            [(-2.35, 2.85), (-0.6, -2.85), (0.6, -2.85), (-1.1, 2.85)],
            [(1.1, 2.85), (-0.6, -2.85), (0.6, -2.85), (2.35, 2.85)],
        ],
        2 * np.pi,
    ),
    (
        "letter E",
        [
            _rect(-1.6, -2.85, -0.4, 2.85),
            _rect(-0.4, 1.6, 1.6, 2.85),
            _rect(-0.4, -0.35, 1.3, 0.65),
            _rect(-0.4, -2.85, 1.6, -1.6),
        ],
        2 * np.pi,
    ),
    ("letter L", [_rect(-3.0, -3.0, -1.2, 3.0), _rect(-1.2, -3.0, 3.0, -1.2)], 2 * np.pi),
    ("ring", _arc((1.27, 1.27), (3.0, 3.0), 0, 360, 24), 0.0),
    (
        "hexagon",
        [[tuple(v) for v in objects.regular_polygon(6, 3.0, np.pi / 2)]],
        2 * np.pi / 6,
    ),
    (
        "heart",
        [
            _circle(1.65, (-1.22, 0.99)),
            _circle(1.65, (1.22, 0.99)),
            [(0.0, -2.64), (2.55, -0.9), (2.87, 0.5), (0.0, 1.4), (-2.87, 0.5), (-2.55, -0.9)],
        ],
        2 * np.pi,
    ),
    (
        "letter M",
        [
            _rect(-2.7, -2.85, -1.6, 2.85),
            _rect(1.6, -2.85, 2.7, 2.85),
            [(-2.7, 2.85), (-1.3, 2.85), (0.6, -2.85), (-0.6, -2.85)],
            [(1.3, 2.85), (2.7, 2.85), (0.6, -2.85), (-0.6, -2.85)],
        ],
        2 * np.pi,
    ),
)
#: Shapes of training scenes (even seeds) and test scenes (odd seeds): test shapes are unseen
#: (original Ravens tasks/assembling_kits.py: train 0-13, test 14-19).
TRAIN_SHAPES = tuple(range(14))
TEST_SHAPES = tuple(range(14, 20))


def shape_mesh(index, height):
    """`(vertices, indices, normals)` of shape `index` of `SHAPES`, in metres, centred in z.

    Each polygon is a prism; every face has its own vertices and normal, so the renderer
    shades the top flat, as the original's meshes are.
    """
    vertices, indices, normals = [], [], []

    def face(corners, normal):
        base = len(vertices)
        vertices.extend(corners)
        normals.extend([normal] * len(corners))
        for i in range(1, len(corners) - 1):
            indices.extend([base, base + i, base + i + 1])

    low, high = -height / 2, height / 2
    for polygon in SHAPES[index][1]:
        polygon = np.asarray(polygon, dtype=np.float64) / 100
        x, y = polygon[:, 0], polygon[:, 1]
        if np.sum(x * np.roll(y, -1) - np.roll(x, -1) * y) < 0:  # make it counter-clockwise
            polygon = polygon[::-1]
        points = [[float(a), float(b)] for a, b in polygon]
        face([[*q, high] for q in points], [0.0, 0.0, 1.0])
        face([[*q, low] for q in points[::-1]], [0.0, 0.0, -1.0])
        for a, b in zip(points, points[1:] + points[:1]):
            edge = np.subtract(b, a)
            normal = [float(edge[1]), float(-edge[0]), 0.0] / np.linalg.norm(edge)
            face([[*a, low], [*b, low], [*b, high], [*a, high]], normal.tolist())
    return vertices, indices, normals


def add_shape(client, index, pose, color, height=SHAPE_HEIGHT, mass=0.1, collision=True):
    """Adds shape `index` of `SHAPES` as one body.

    It is drawn as the union of its polygons and, like the original's mesh pieces (pybullet
    takes a moving body's mesh as its convex hull), collides as their convex hull.
    """
    vertices, indices, normals = shape_mesh(index, height)
    return objects.add_mesh(client, vertices, indices, pose, color, normals, mass, collision)


class AssemblingKits(Task):
    """Five shapes to fit into the five matching silhouettes of a kit (any same-shape slot).

    As in the original Ravens (tasks/assembling_kits.py): 2 cm thick pieces in purple, blue,
    green, yellow and red, dark grey silhouettes, 10 steps. Object classes: "kit",
    "silhouette" and "piece".
    """

    name = "assembling-kits"
    max_steps = 10
    # The original lays each piece's base 1 cm above the table and shows it so at first.
    settle_on_reset = False

    def build(self, env, rng):
        kit_pose = env.random_pose(KIT_SIZE, rng)
        self.classify("kit", objects.add_box(env.client, KIT_SIZE, kit_pose, "brown", mass=0))
        pool = TRAIN_SHAPES if env.mode == "train" else TEST_SHAPES
        shapes = rng.choice(pool, len(SLOTS))
        targets = []
        self.slots, self.pieces = [], []  # (body, shape index) of silhouettes and pieces
        for slot, shape in zip(SLOTS, shapes):
            position = transform(kit_pose, (slot[0], slot[1], KIT_SIZE[2] / 2 + 0.0005))
            yaw = rng.uniform(0, 2 * np.pi)
            silhouette = (position, np.asarray(quat_from_yaw(yaw)))
            body = add_shape(env.client, shape, silhouette, (0.2, 0.2, 0.2), 0.001, 0, False)
            self.slots.append((self.classify("silhouette", body), int(shape)))
            targets.append(
                (position + np.array([0, 0, SHAPE_HEIGHT / 2]), np.asarray(quat_from_yaw(yaw)))
            )
        pieces = []
        for i, shape in enumerate(shapes):
            pose = env.random_pose((0.08, 0.08, SHAPE_HEIGHT), rng)
            pose = (pose[0] + np.array([0.0, 0.0, 0.01]), pose[1])
            body = env.add_movable(add_shape(env.client, shape, pose, COLORS[i]))
            self.classify("piece", body)
            pieces.append((body, SHAPES[shape][2]))
            self.pieces.append((body, int(shape)))
        matches = (shapes[:, None] == shapes[None, :]).astype(np.int32)
        self.goals.append(Goal(pieces, matches, targets))
