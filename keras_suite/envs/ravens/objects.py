"""Procedural Ravens objects: boxes, compounds, prisms, lathed meshes and rings, with the palette.

Every object is built from pybullet primitives or from vertices computed here; no mesh or URDF
file is read, so nothing ships or downloads.
"""

import numpy as np
import pybullet as p

#: Ravens' palette (original Ravens utils/utils.py, COLORS: 8-bit values / 255).
COLORS = {
    name: tuple(v / 255.0 for v in rgb)
    for name, rgb in {
        "blue": (78, 121, 167),
        "red": (255, 87, 89),
        "green": (89, 169, 79),
        "orange": (242, 142, 43),
        "yellow": (237, 201, 72),
        "purple": (176, 122, 161),
        "pink": (255, 157, 167),
        "cyan": (118, 183, 178),
        "brown": (156, 117, 95),
        "gray": (186, 176, 172),
    }.items()
}


def rgba(color, alpha=1.0):
    color = COLORS[color] if isinstance(color, str) else color
    return [float(c) for c in color[:3]] + [alpha]


def box_part(size, position=(0, 0, 0), yaw=0.0):
    """A box part of a compound: full `size` (x, y, z), local `position` and `yaw`."""
    return ("box", tuple(size), tuple(position), yaw)


def cylinder_part(radius, height, position=(0, 0, 0)):
    return ("cylinder", (radius, height), tuple(position), 0.0)


def add_compound(client, parts, pose, color, mass=0.1, collision=True, friction=0.8, visual=None):
    """Adds one rigid body made of box and cylinder `parts` (see `box_part`).

    Args:
        client: a `BulletClient`.
        parts: a list of parts.
        pose: `(position, quaternion)` of the body frame.
        color: a colour name or RGB tuple.
        mass: kilograms; 0 makes the body fixed.
        collision: whether the body collides (False: a visual-only marker).
        friction: lateral friction.
        visual: optional `(vertices, indices, normals)` of a mesh (e.g. from `lathe`) drawn
            instead of the parts, which then only collide.

    Returns:
        The body id.
    """
    collision_shape = -1
    if collision:
        collision_shape = client.createCollisionShapeArray(
            shapeTypes=[p.GEOM_BOX if kind == "box" else p.GEOM_CYLINDER for kind, *_ in parts],
            halfExtents=[
                [s / 2 for s in dims] if kind == "box" else [0, 0, 0] for kind, dims, _, _ in parts
            ],
            radii=[dims[0] if kind == "cylinder" else 0 for kind, dims, _, _ in parts],
            lengths=[dims[1] if kind == "cylinder" else 0 for kind, dims, _, _ in parts],
            collisionFramePositions=[list(pos) for _, _, pos, _ in parts],
            collisionFrameOrientations=[
                list(p.getQuaternionFromEuler((0, 0, yaw))) for *_, yaw in parts
            ],
        )
    if visual is not None:
        vertices, indices, normals = visual
        visual_shape = client.createVisualShape(
            p.GEOM_MESH,
            vertices=vertices,
            indices=indices,
            normals=normals,
            rgbaColor=rgba(color),
        )
    else:
        visual_shape = _parts_visual(client, parts)
    body = client.createMultiBody(
        baseMass=mass,
        baseCollisionShapeIndex=collision_shape,
        baseVisualShapeIndex=visual_shape,
        basePosition=list(pose[0]),
        baseOrientation=list(pose[1]),
    )
    client.changeVisualShape(body, -1, rgbaColor=rgba(color))
    if collision:
        client.changeDynamics(body, -1, lateralFriction=friction)
    return body


def _parts_visual(client, parts):
    return client.createVisualShapeArray(
        shapeTypes=[p.GEOM_BOX if kind == "box" else p.GEOM_CYLINDER for kind, *_ in parts],
        halfExtents=[
            [s / 2 for s in dims] if kind == "box" else [0, 0, 0] for kind, dims, _, _ in parts
        ],
        radii=[dims[0] if kind == "cylinder" else 0 for kind, dims, _, _ in parts],
        lengths=[dims[1] if kind == "cylinder" else 0 for kind, dims, _, _ in parts],
        visualFramePositions=[list(pos) for _, _, pos, _ in parts],
        visualFrameOrientations=[list(p.getQuaternionFromEuler((0, 0, yaw))) for *_, yaw in parts],
    )


def lathe(profile, segments=32, center=(0.0, 0.0)):
    """A closed surface of revolution about the z axis, as a flat-shaded mesh.

    Args:
        profile: `(radius, z)` points of the outline, counter-clockwise in the (radius, z)
            plane (e.g. along the bottom outwards, up the outer wall, in over the rim, down the
            inner wall); the last point joins the first.
        segments: facets around the axis.
        center: `(x, y)` of the axis in the body frame.

    Returns:
        `(vertices, indices, normals)` for `add_compound(..., visual=...)`: each band between
        two profile points has its own vertices, with outward normals, so the renderer shades
        every band as the flat or conical surface it is.

    Example:

    >>> vertices, indices, normals = lathe(
    ...     [(0.015, 0.0), (0.03, 0.0), (0.03, 0.01), (0.015, 0.01)], segments=8
    ... )
    >>> len(vertices), len(indices), normals[0]
    (72, 192, [0.0, 0.0, -1.0])
    """
    profile = np.asarray(profile, dtype=np.float64)
    n = len(profile)
    angles = 2 * np.pi * np.arange(segments + 1) / segments
    vertices, normals, indices = [], [], []
    for k in range(n):
        (r0, z0), (r1, z1) = profile[k], profile[(k + 1) % n]
        length = np.hypot(r1 - r0, z1 - z0)
        if length == 0:
            continue
        nr, nz = (z1 - z0) / length, -(r1 - r0) / length  # the edge turned clockwise: outward
        base = len(vertices)
        for a in angles:
            c, s = np.cos(a), np.sin(a)
            for r, z in ((r0, z0), (r1, z1)):
                vertices.append([float(center[0] + r * c), float(center[1] + r * s), float(z)])
                normals.append([float(nr * c), float(nr * s), float(nz)])
        for i in range(segments):
            a, b, c, d = (base + 2 * i + j for j in (0, 1, 3, 2))
            indices += [a, d, c, a, c, b]
    return vertices, indices, normals


def add_box(client, size, pose, color, mass=0.1, collision=True):
    """Adds a box of full `size` (x, y, z) metres."""
    return add_compound(client, [box_part(size)], pose, color, mass, collision)


def polygon_prism_vertices(polygon, height):
    """Vertices and triangle indices of a prism over a convex 2-D `polygon`, centred in z."""
    polygon = np.asarray(polygon, dtype=np.float64)
    n = len(polygon)
    bottom = np.concatenate([polygon, np.full((n, 1), -height / 2)], axis=1)
    top = np.concatenate([polygon, np.full((n, 1), height / 2)], axis=1)
    vertices = np.concatenate([bottom, top])
    indices = []
    for i in range(1, n - 1):
        indices += [0, i + 1, i]
        indices += [n, n + i, n + i + 1]
    for i in range(n):
        j = (i + 1) % n
        indices += [i, j, n + j, i, n + j, n + i]
    return vertices.tolist(), indices


def add_mesh(
    client, vertices, indices, pose, color, normals=None, mass=0.1, collision=True, friction=0.8
):
    """Adds one body drawn as a triangle mesh; it collides as the vertices' convex hull.

    Args:
        client: a `BulletClient`.
        vertices: a list of `(x, y, z)` points in the body frame.
        indices: triangle vertex indices, three per triangle.
        pose: `(position, quaternion)` of the body frame.
        color: a colour name or RGB tuple.
        normals: optional per-vertex normals (smooth shading).
        mass: kilograms; 0 makes the body fixed.
        collision: whether the body collides.
        friction: lateral friction.

    Returns:
        The body id.
    """
    collision_shape = -1
    if collision:
        collision_shape = client.createCollisionShape(p.GEOM_MESH, vertices=vertices)
    shading = {} if normals is None else {"normals": normals}
    visual_shape = client.createVisualShape(
        p.GEOM_MESH, vertices=vertices, indices=indices, rgbaColor=rgba(color), **shading
    )
    body = client.createMultiBody(
        baseMass=mass,
        baseCollisionShapeIndex=collision_shape,
        baseVisualShapeIndex=visual_shape,
        basePosition=list(pose[0]),
        baseOrientation=list(pose[1]),
    )
    if collision:
        client.changeDynamics(body, -1, lateralFriction=friction)
    return body


def add_prisms(client, polygons, height, pose, color, mass=0.1, collision=True, friction=0.8):
    """Adds one body shaped as a prism over a convex 2-D polygon (`polygons` holds one)."""
    (polygon,) = polygons
    vertices, indices = polygon_prism_vertices(polygon, height)
    return add_mesh(client, vertices, indices, pose, color, None, mass, collision, friction)


def regular_polygon(n, radius, phase=0.0):
    angles = phase + 2 * np.pi * np.arange(n) / n
    return np.stack([radius * np.cos(angles), radius * np.sin(angles)], axis=1)


def ring_parts(inner_radius, outer_radius, height, segments=16, z=0.0):
    """Box parts approximating a flat ring (a Hanoi disk or a bowl wall)."""
    width = outer_radius - inner_radius
    mid = (inner_radius + outer_radius) / 2
    chord = 2 * outer_radius * np.tan(np.pi / segments) * 1.02
    parts = []
    for i in range(segments):
        angle = 2 * np.pi * i / segments
        parts.append(
            box_part((width, chord, height), (mid * np.cos(angle), mid * np.sin(angle), z), angle)
        )
    return parts
