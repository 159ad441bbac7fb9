"""Intersection-over-union of 3D boxes rotated about the up (z) axis."""

from keras import ops

_FOOTPRINT_SIGNS = ((-0.5, -0.5), (0.5, -0.5), (0.5, 0.5), (-0.5, 0.5))
_EPSILON = 1e-5


def _check_boxes(boxes, name):
    if boxes.shape[-1] != 7:
        raise ValueError(
            f"`{name}` must be packed as 7 numbers (cx, cy, cz, sx, sy, sz, yaw) on the last "
            f"axis. Received: {name} shape={tuple(boxes.shape)}"
        )


def _footprint(boxes):
    """Counter-clockwise footprint corners (..., 4, 2) of boxes (..., 7)."""
    cos = ops.expand_dims(ops.cos(boxes[..., 6]), -1)
    sin = ops.expand_dims(ops.sin(boxes[..., 6]), -1)
    local_x = ops.stack([s[0] * boxes[..., 3] for s in _FOOTPRINT_SIGNS], axis=-1)
    local_y = ops.stack([s[1] * boxes[..., 4] for s in _FOOTPRINT_SIGNS], axis=-1)
    x = cos * local_x - sin * local_y + ops.expand_dims(boxes[..., 0], -1)
    y = sin * local_x + cos * local_y + ops.expand_dims(boxes[..., 1], -1)
    return ops.stack([x, y], axis=-1)


def box_footprints(boxes):
    """The footprint (top view) corners of rotated boxes, counter-clockwise.

    Args:
        boxes: float array (..., 7), `(cx, cy, cz, sx, sy, sz, yaw)`.

    Returns:
        A float32 numpy array (..., 4, 2).
    """
    boxes = ops.cast(ops.convert_to_tensor(boxes), "float32")
    _check_boxes(boxes, "boxes")
    return ops.convert_to_numpy(_footprint(ops.reshape(boxes, (-1, 7)))).reshape(
        tuple(boxes.shape[:-1]) + (4, 2)
    )


def _inside(points, boxes, tolerance):
    """Whether points (..., P, 2) lie in the footprints of boxes (..., 7), edges included."""
    dx = points[..., 0] - ops.expand_dims(boxes[..., 0], -1)
    dy = points[..., 1] - ops.expand_dims(boxes[..., 1], -1)
    cos = ops.expand_dims(ops.cos(boxes[..., 6]), -1)
    sin = ops.expand_dims(ops.sin(boxes[..., 6]), -1)
    u = cos * dx + sin * dy
    v = -sin * dx + cos * dy
    half_x = ops.expand_dims(0.5 * boxes[..., 3], -1) + tolerance
    half_y = ops.expand_dims(0.5 * boxes[..., 4], -1) + tolerance
    return ops.logical_and(ops.abs(u) <= half_x, ops.abs(v) <= half_y)


def _cross(a, b):
    return a[..., 0] * b[..., 1] - a[..., 1] * b[..., 0]


def _edge_crossings(corners_a, corners_b, tolerance):
    """Crossing points (..., 16, 2) of the edges of two quadrilaterals, and their validity."""
    start_a = ops.expand_dims(corners_a, -2)
    edge_a = ops.expand_dims(ops.roll(corners_a, -1, axis=-2) - corners_a, -2)
    start_b = ops.expand_dims(corners_b, -3)
    edge_b = ops.expand_dims(ops.roll(corners_b, -1, axis=-2) - corners_b, -3)
    offset = start_b - start_a
    denominator = _cross(edge_a, edge_b)
    parallel = ops.abs(denominator) < 1e-12
    safe = ops.where(parallel, 1.0, denominator)
    t = _cross(offset, edge_b) / safe
    u = _cross(offset, edge_a) / safe
    valid = ops.logical_not(parallel)
    for value in (t, u):
        valid = ops.logical_and(valid, ops.logical_and(value >= -tolerance, value <= 1 + tolerance))
    points = start_a + ops.expand_dims(t, -1) * edge_a
    batch_shape = ops.shape(points)[:-3]
    return (
        ops.reshape(points, tuple(batch_shape) + (16, 2)),
        ops.reshape(valid, tuple(batch_shape) + (16,)),
    )


def footprint_intersection_area(boxes_a, boxes_b):
    """Area of the intersection of the footprints (top views) of two sets of rotated boxes.

    The intersection of two convex quadrilaterals is the convex hull of the corners of each
    that lie inside the other and of the points where their edges cross; its area is the
    shoelace formula over those points sorted by angle about their centroid.

    Args:
        boxes_a: float tensor (..., 7), boxes `(cx, cy, cz, sx, sy, sz, yaw)`.
        boxes_b: float tensor (..., 7), broadcastable with `boxes_a`.

    Returns:
        A float32 tensor with the broadcast batch shape.
    """
    boxes_a = ops.cast(boxes_a, "float32")
    boxes_b = ops.cast(boxes_b, "float32")
    shape = tuple(ops.shape(boxes_a[..., 0] + boxes_b[..., 0])) + (7,)
    boxes_a = ops.broadcast_to(boxes_a, shape)
    boxes_b = ops.broadcast_to(boxes_b, shape)
    corners_a = _footprint(boxes_a)
    corners_b = _footprint(boxes_b)
    sizes = [ops.abs(boxes[..., axis]) for boxes in (boxes_a, boxes_b) for axis in (3, 4)]
    scale = ops.maximum(ops.maximum(sizes[0], sizes[1]), ops.maximum(sizes[2], sizes[3]))
    tolerance = ops.expand_dims(_EPSILON * scale, -1)
    crossings, crossing_valid = _edge_crossings(corners_a, corners_b, _EPSILON)
    points = ops.concatenate([corners_a, corners_b, crossings], axis=-2)
    valid = ops.concatenate(
        [_inside(corners_a, boxes_b, tolerance), _inside(corners_b, boxes_a, tolerance)], axis=-1
    )
    valid = ops.concatenate([valid, crossing_valid], axis=-1)
    weights = ops.cast(valid, "float32")
    count = ops.sum(weights, axis=-1, keepdims=True)
    centroid = ops.sum(points * ops.expand_dims(weights, -1), axis=-2) / ops.maximum(count, 1.0)
    relative = points - ops.expand_dims(centroid, -2)
    angle = ops.arctan2(relative[..., 1], relative[..., 0])
    # Invalid points sort last and are then replaced by the first point: they add no area.
    order = ops.argsort(ops.where(valid, angle, 10.0), axis=-1)
    relative = ops.take_along_axis(relative, ops.expand_dims(order, -1), axis=-2)
    valid = ops.take_along_axis(valid, order, axis=-1)
    relative = ops.where(ops.expand_dims(valid, -1), relative, relative[..., :1, :])
    following = ops.roll(relative, -1, axis=-2)
    area = 0.5 * ops.abs(ops.sum(_cross(relative, following), axis=-1))
    return ops.where(count[..., 0] >= 3, area, 0.0)


def rotated_box_iou_3d(boxes_a, boxes_b):
    """IoU of 3D boxes rotated about z: footprint intersection times height overlap.

    Boxes are packed as 7 numbers `(cx, cy, cz, sx, sy, sz, yaw)`: centre, full extents along
    the box's own axes, and the counter-clockwise rotation about the up axis in radians (the
    packing of `keras_suite.losses.BoxCornerLoss3D`). The volume of the intersection is the
    area of the intersection of the two footprints (a convex polygon, see
    `footprint_intersection_area`) times the overlap of the two height ranges. Inputs
    broadcast against each other: pass `a[:, None]` and `b[None, :]` for all pairs. Not
    differentiable where the intersection polygon changes shape; use it for targets and
    evaluation.

    Args:
        boxes_a: float tensor (..., 7).
        boxes_b: float tensor (..., 7), broadcastable with `boxes_a`.

    Returns:
        A float32 tensor of IoUs in [0, 1] with the broadcast batch shape (0 where both boxes
        are empty).

    Example:

    ```python
    a = np.array([[0.0, 0.0, 0.0, 2.0, 2.0, 2.0, 0.0]])
    b = np.array([[1.0, 0.0, 0.0, 2.0, 2.0, 2.0, 0.0]])
    keras_suite.ops.rotated_box_iou_3d(a, b)  # overlap 1x2x2 = 4 over 8 + 8 - 4: [1/3]
    ```
    """
    boxes_a = ops.convert_to_tensor(boxes_a)
    boxes_b = ops.convert_to_tensor(boxes_b)
    _check_boxes(boxes_a, "boxes_a")
    _check_boxes(boxes_b, "boxes_b")
    boxes_a = ops.cast(boxes_a, "float32")
    boxes_b = ops.cast(boxes_b, "float32")
    area = footprint_intersection_area(boxes_a, boxes_b)
    top = ops.minimum(
        boxes_a[..., 2] + 0.5 * boxes_a[..., 5], boxes_b[..., 2] + 0.5 * boxes_b[..., 5]
    )
    bottom = ops.maximum(
        boxes_a[..., 2] - 0.5 * boxes_a[..., 5], boxes_b[..., 2] - 0.5 * boxes_b[..., 5]
    )
    intersection = area * ops.maximum(top - bottom, 0.0)
    volume_a = ops.prod(ops.abs(boxes_a[..., 3:6]), axis=-1)
    volume_b = ops.prod(ops.abs(boxes_b[..., 3:6]), axis=-1)
    union = volume_a + volume_b - intersection
    iou = intersection / ops.maximum(union, 1e-12)
    return ops.clip(ops.where(union > 0, iou, 0.0), 0.0, 1.0)
