"""Procedural indoor-like scenes: a floor, walls and furniture-like objects as point clouds."""

import numpy as np

CLASS_NAMES = ("floor", "wall", "box", "cylinder", "l_shape")
OBJECT_CLASSES = (2, 3, 4)
FLOOR, WALL, BOX, CYLINDER, L_SHAPE = range(5)
WALL_HEIGHT = 1.6
#: Seeds of the held-out (test) scenes: 1000000, 1000001, ...; training seeds stay below.
TEST_SEED_OFFSET = 1_000_000
#: Seeds of the validation scenes: 500000, 500001, ...
VALIDATION_SEED_OFFSET = 500_000


def _rotation(yaw):
    c, s = np.cos(yaw), np.sin(yaw)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


def _cuboid_surface(rng, size, count):
    """Points on the five visible faces (not the bottom) of an axis-aligned cuboid at origin."""
    sx, sy, sz = size
    faces = [
        (sx * sy, 2, 1.0),
        (sy * sz, 0, -1.0),
        (sy * sz, 0, 1.0),
        (sx * sz, 1, -1.0),
        (sx * sz, 1, 1.0),
    ]
    areas = np.array([f[0] for f in faces])
    choice = rng.choice(len(faces), count, p=areas / areas.sum())
    points = rng.uniform(-0.5, 0.5, (count, 3)) * size
    for index, (_, axis, sign) in enumerate(faces):
        points[choice == index, axis] = sign * 0.5 * size[axis]
    points[:, 2] += 0.5 * sz
    return points


def _cylinder_surface(rng, radius, height, count):
    top_area = np.pi * radius**2
    side_area = 2 * np.pi * radius * height
    on_top = rng.uniform(size=count) < top_area / (top_area + side_area)
    angle = rng.uniform(0, 2 * np.pi, count)
    r = np.where(on_top, radius * np.sqrt(rng.uniform(size=count)), radius)
    z = np.where(on_top, height, rng.uniform(0, height, count))
    return np.stack([r * np.cos(angle), r * np.sin(angle), z], axis=-1)


def _object(rng, class_id, density):
    """Returns local points (at origin, unrotated) and the local box (centre, size)."""
    if class_id == BOX:
        size = rng.uniform([0.5, 0.4, 0.4], [1.2, 0.9, 0.9])
        count = int(density * (size[0] * size[1] + 2 * size[2] * (size[0] + size[1])))
        return _cuboid_surface(rng, size, max(count, 16)), np.array([0, 0, size[2] / 2]), size
    if class_id == CYLINDER:
        radius, height = rng.uniform(0.2, 0.4), rng.uniform(0.5, 1.1)
        count = int(density * (np.pi * radius**2 + 2 * np.pi * radius * height))
        size = np.array([2 * radius, 2 * radius, height])
        return _cylinder_surface(rng, radius, height, max(count, 16)), size * [0, 0, 0.5], size
    long_side, width = rng.uniform(0.9, 1.4), rng.uniform(0.3, 0.45)
    short_side, height = rng.uniform(0.6, 1.0), rng.uniform(0.5, 0.9)
    arm_a = np.array([long_side, width, height])
    arm_b = np.array([width, short_side, height])
    offset_b = np.array([(width - long_side) / 2, (short_side + width) / 2 - width / 2, 0])
    pieces = []
    for size, offset, other_size, other_offset in (
        (arm_a, np.zeros(3), arm_b, offset_b),
        (arm_b, offset_b, arm_a, np.zeros(3)),
    ):
        count = int(density * (size[0] * size[1] + 2 * size[2] * (size[0] + size[1])))
        points = _cuboid_surface(rng, size, max(count, 16)) + offset
        inside = np.all(np.abs(points[:, :2] - other_offset[:2]) < other_size[:2] / 2 - 1e-6, -1)
        pieces.append(points[~inside])
    points = np.concatenate(pieces)
    low = np.minimum(-arm_a / 2, offset_b - arm_b / 2)[:2]
    high = np.maximum(arm_a / 2, offset_b + arm_b / 2)[:2]
    centre = np.array([*(low + high) / 2, height / 2])
    return points, centre, np.array([*(high - low), height])


def generate_scene(seed, num_points=20000, max_objects=6, room_size=(4.0, 6.0)):
    """Generates one scene, the same for the same arguments.

    Args:
        seed: int, the scene's random seed.
        num_points: the number of points returned (sampled from the dense surfaces).
        max_objects: the most objects placed (at least 2).
        room_size: (min, max) of the square-ish room's side lengths in metres.

    Returns:
        A dict with `points` float32 (num_points, 3) in metres (z up, floor at 0), `colors`
        float32 (num_points, 3) in [0, 1], `semantic_labels` int32 (num_points,) indexing
        `CLASS_NAMES`, `instance_labels` int32 (num_points,) (0 for floor and walls, 1.. for
        objects), and the objects' oriented boxes: `box_centers` float32 (K, 3), `box_sizes`
        float32 (K, 3), `box_rotations` float32 (K,) (yaw about z), `box_classes` int32 (K,).
    """
    rng = np.random.default_rng(seed)
    width, depth = rng.uniform(*room_size, 2)
    density = 600.0
    parts = []
    floor = np.stack(
        [
            rng.uniform(0, width, int(density * width * depth)),
            rng.uniform(0, depth, int(density * width * depth)),
            np.zeros(int(density * width * depth)),
        ],
        -1,
    )
    parts.append((floor, FLOOR, 0, np.array([0.55, 0.5, 0.45])))
    for wall in range(2 + rng.integers(0, 3)):
        length = width if wall % 2 == 0 else depth
        count = int(density * length * WALL_HEIGHT)
        along = rng.uniform(0, length, count)
        z = rng.uniform(0, WALL_HEIGHT, count)
        fixed = np.zeros(count) if wall < 2 else np.full(count, depth if wall == 2 else width)
        xyz = np.stack([along, fixed, z], -1) if wall % 2 == 0 else np.stack([fixed, along, z], -1)
        parts.append((xyz, WALL, 0, np.array([0.8, 0.78, 0.72])))
    boxes = []
    footprints = []
    for _ in range(40):
        if len(boxes) >= max(2, rng.integers(2, max_objects + 1)):
            break
        class_id = int(rng.choice(OBJECT_CLASSES))
        points, centre, size = _object(rng, class_id, density)
        yaw = rng.uniform(-np.pi, np.pi)
        radius = 0.5 * np.hypot(size[0], size[1])
        position = rng.uniform([radius + 0.1] * 2, [width - radius - 0.1, depth - radius - 0.1])
        if np.any(position < 0) or any(
            np.hypot(*(position - p)) < radius + r + 0.1 for p, r in footprints
        ):
            continue
        footprints.append((position, radius))
        rotation = _rotation(yaw)
        shift = np.array([*position, 0.0]) - rotation @ np.array([*centre[:2], 0.0])
        world = points @ rotation.T + shift
        boxes.append((rotation @ centre + shift, size, yaw, class_id))
        colour = rng.uniform(0.1, 0.9, 3)
        parts.append((world, class_id, len(boxes), colour))
    points = np.concatenate([p[0] for p in parts])
    semantic = np.concatenate([np.full(len(p[0]), p[1]) for p in parts])
    instance = np.concatenate([np.full(len(p[0]), p[2]) for p in parts])
    colours = np.concatenate([np.tile(p[3], (len(p[0]), 1)) for p in parts])
    pick = rng.choice(len(points), num_points, replace=len(points) < num_points)
    points = points[pick] + rng.normal(0, 0.005, (num_points, 3))
    colours = np.clip(colours[pick] + rng.normal(0, 0.03, (num_points, 3)), 0, 1)
    return {
        "points": points.astype("float32"),
        "colors": colours.astype("float32"),
        "semantic_labels": semantic[pick].astype("int32"),
        "instance_labels": instance[pick].astype("int32"),
        "box_centers": np.array([b[0] for b in boxes], "float32").reshape(-1, 3),
        "box_sizes": np.array([b[1] for b in boxes], "float32").reshape(-1, 3),
        "box_rotations": np.array([b[2] for b in boxes], "float32"),
        "box_classes": np.array([b[3] for b in boxes], "int32"),
    }


def scene_example(seed, scene):
    """One scene as an example of the `synthetic_scenes` TFDS builder (the same keys).

    Args:
        seed: int, the scene's seed (its `scene_id`).
        scene: a dict from `generate_scene` (or `augment_scene`).

    Returns:
        A dict: `scene_id`, `points`, `colors`, `semantic_labels`, `instance_labels` and
        `objects` (`center`, `size`, `rotation`, `label`: the oriented boxes, in the order of
        the instance labels 1, 2, ...).
    """
    return {
        "scene_id": seed,
        "points": scene["points"],
        "colors": scene["colors"],
        "semantic_labels": scene["semantic_labels"],
        "instance_labels": scene["instance_labels"],
        "objects": {
            "center": scene["box_centers"],
            "size": scene["box_sizes"],
            "rotation": scene["box_rotations"],
            "label": scene["box_classes"],
        },
    }
