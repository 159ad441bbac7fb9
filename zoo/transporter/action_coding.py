"""Pick-and-place actions <-> Transporter labels: pixels, positions, angles, rotation bins.

The top-down map's rows run along y and its columns along x: pixel `(row, col)` is the cell
`[x_min + col * s, x_min + (col + 1) * s) x [y_min + row * s, y_min + (row + 1) * s)` for pixel
size `s`, and maps back to the cell's centre. Quaternions are `(x, y, z, w)`, as pybullet's.
Angles are yaw about +z (counter-clockwise seen from above, with x to the right and y down the
rows of the map), which is the rotation the Transporter's crops use.
"""

import math

import numpy as np

from keras_suite.envs.ravens import workspace

#: The Ravens workspace bounds, `((x_min, x_max), (y_min, y_max), (z_min, z_max))` in metres.
BOUNDS = tuple(tuple(float(v) for v in axis) for axis in workspace.BOUNDS)
#: Metres per pixel of a full-size Ravens map.
PIXEL_SIZE = workspace.PIXEL_SIZE


def position_to_pixel(positions, bounds=BOUNDS, pixel_size=PIXEL_SIZE):
    """Maps world positions `(..., 2 or 3)` to int `(row, col)` pixels `(..., 2)`.

    Pixels outside the map are returned as they are (not clipped): check them with
    `pixel_in_bounds`.
    """
    positions = np.asarray(positions, dtype=np.float64)
    bounds = np.asarray(bounds, dtype=np.float64)
    col = np.floor((positions[..., 0] - bounds[0, 0]) / pixel_size)
    row = np.floor((positions[..., 1] - bounds[1, 0]) / pixel_size)
    return np.stack([row, col], axis=-1).astype(np.int32)


def pixel_to_position(pixels, heightmap, bounds=BOUNDS, pixel_size=PIXEL_SIZE):
    """Maps `(row, col)` pixels `(..., 2)` to positions `(..., 3)`: cell centres on the surface.

    A fractional pixel (a `subpixel_place`) maps to the point as far between the cell centres,
    at the height of the nearest cell.

    Args:
        pixels: int or float array `(..., 2)`.
        heightmap: float array `(H, W)` of heights above `bounds[2][0]`, in metres.
        bounds: `((x_min, x_max), (y_min, y_max), (z_min, z_max))` in metres.
        pixel_size: metres per pixel.

    Returns:
        Float array `(..., 3)`.
    """
    pixels = np.asarray(pixels)
    bounds = np.asarray(bounds, dtype=np.float64)
    heightmap = np.asarray(heightmap)
    if heightmap.ndim != 2:
        raise ValueError(f"`heightmap` must have shape (H, W). Received: shape={heightmap.shape}")
    row, col = pixels[..., 0], pixels[..., 1]
    x = bounds[0, 0] + (col + 0.5) * pixel_size
    y = bounds[1, 0] + (row + 0.5) * pixel_size
    nearest = np.rint(pixels).astype(np.int64)
    z = bounds[2, 0] + heightmap[nearest[..., 0], nearest[..., 1]]
    return np.stack([x, y, z], axis=-1)


def pixel_in_bounds(pixels, shape):
    """Whether `(row, col)` pixels `(..., 2)` lie inside a map of `shape = (H, W, ...)`."""
    pixels = np.asarray(pixels)
    return (
        (pixels[..., 0] >= 0)
        & (pixels[..., 0] < shape[0])
        & (pixels[..., 1] >= 0)
        & (pixels[..., 1] < shape[1])
    )


def angle_to_rotation_bin(angles, num_rotations):
    """Maps yaw angles (radians) to the nearest of `num_rotations` bins `2 * pi * k / n`."""
    step = 2.0 * math.pi / num_rotations
    return (
        np.round(np.asarray(angles, dtype=np.float64) / step).astype(np.int64) % num_rotations
    ).astype(np.int32)


def rotation_bin_to_angle(bins, num_rotations):
    """Maps rotation bins to yaw angles in `(-pi, pi]`."""
    angles = 2.0 * math.pi * np.asarray(bins, dtype=np.float64) / num_rotations
    return np.where(angles > math.pi, angles - 2.0 * math.pi, angles)


def quaternion_to_yaw(quaternions):
    """The yaw (rotation about z, radians) of `(x, y, z, w)` quaternions `(..., 4)`."""
    q = np.asarray(quaternions, dtype=np.float64)
    x, y, z, w = q[..., 0], q[..., 1], q[..., 2], q[..., 3]
    return np.arctan2(2.0 * (w * z + x * y), 1.0 - 2.0 * (y * y + z * z))


def yaw_to_quaternion(yaws):
    """The `(x, y, z, w)` quaternions `(..., 4)` of rotations by `yaws` about z."""
    yaws = np.asarray(yaws, dtype=np.float64)
    zeros = np.zeros_like(yaws)
    return np.stack([zeros, zeros, np.sin(yaws / 2.0), np.cos(yaws / 2.0)], axis=-1)


def action_to_labels(action, num_rotations, bounds=BOUNDS, pixel_size=PIXEL_SIZE):
    """Turns a pick-and-place action into Transporter labels.

    Args:
        action: `{"pose0": (position, quaternion), "pose1": (position, quaternion)}`.
        num_rotations: number of placement rotation bins.
        bounds: the map's workspace bounds.
        pixel_size: metres per pixel.

    Returns:
        `(pick_pixel, place_pixel, rotation_bin)`: two int32 `(row, col)` arrays and an int: the
        bin of the place yaw relative to the pick yaw.
    """
    if not isinstance(action, dict) or "pose0" not in action or "pose1" not in action:
        raise ValueError(
            "`action` must be a dict with `pose0` and `pose1`, each (position, quaternion). "
            f"Received: action={action!r}"
        )
    (p0, q0), (p1, q1) = action["pose0"], action["pose1"]
    pick = position_to_pixel(p0, bounds, pixel_size)
    place = position_to_pixel(p1, bounds, pixel_size)
    delta = quaternion_to_yaw(q1) - quaternion_to_yaw(q0)
    return pick, place, int(angle_to_rotation_bin(delta, num_rotations))


def labels_to_action(
    pick_pixel,
    place_pixel,
    rotation_bin,
    heightmap,
    num_rotations,
    bounds=BOUNDS,
    pixel_size=PIXEL_SIZE,
):
    """Turns Transporter outputs into an action for `env.step`.

    The pick pose has yaw 0; the place pose has the yaw of `rotation_bin`.

    Returns:
        `{"pose0": (position, quaternion), "pose1": (position, quaternion)}` of numpy arrays.
    """
    p0 = pixel_to_position(pick_pixel, heightmap, bounds, pixel_size)
    p1 = pixel_to_position(place_pixel, heightmap, bounds, pixel_size)
    yaw = rotation_bin_to_angle(rotation_bin, num_rotations)
    return {"pose0": (p0, yaw_to_quaternion(0.0)), "pose1": (p1, yaw_to_quaternion(yaw))}
