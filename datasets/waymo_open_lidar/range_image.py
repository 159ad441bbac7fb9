"""Waymo Open lidar range images to points in the vehicle frame (NumPy, float64 internally).

A range image has one row per laser beam (row 0 = the highest beam) and one column per azimuth
step. Column `c` of a `W`-wide image looks along the sensor-frame azimuth
`pi * (2 * (W - c - 0.5) / W - 1) - atan2(E[1, 0], E[0, 0])`, where `E` is the lidar's extrinsic
(sensor to vehicle): the columns sweep from +pi down to -pi, measured in the vehicle's heading.
A pixel of range `r` at inclination `i` and azimuth `a` is the sensor-frame point
`r * (cos a cos i, sin a cos i, sin i)`, mapped to the vehicle frame by `E`. The top lidar's
range image also gives each pixel the vehicle pose at the time it was measured (roll, pitch,
yaw, x, y, z); its points go through that pose to the global frame, then back through the
inverse of the frame's vehicle pose, which undoes the vehicle's motion during the spin.
Pixels with range <= 0 hold no return.
"""

import numpy as np


def uniform_inclinations(inclination_min, inclination_max, height):
    """Beam inclinations (radians) when a calibration only gives their range.

    Returns the centres of `height` equal bins of [min, max], in increasing order (the order of
    `LaserCalibration.beam_inclinations`); row `h` of the range image uses entry
    `height - 1 - h`.
    """
    ratios = (np.arange(height, dtype=np.float64) + 0.5) / height
    return inclination_min + ratios * (inclination_max - inclination_min)


def rotation_from_euler(roll, pitch, yaw):
    """Rotations R = Rz(yaw) @ Ry(pitch) @ Rx(roll) for arrays of angles: shape (..., 3, 3)."""
    cr, sr = np.cos(roll), np.sin(roll)
    cp, sp = np.cos(pitch), np.sin(pitch)
    cy, sy = np.cos(yaw), np.sin(yaw)
    return np.stack(
        [
            np.stack([cy * cp, cy * sp * sr - sy * cr, cy * sp * cr + sy * sr], -1),
            np.stack([sy * cp, sy * sp * sr + cy * cr, sy * sp * cr - cy * sr], -1),
            np.stack([-sp, cp * sr, cp * cr], -1),
        ],
        -2,
    )


def range_image_to_points(ranges, extrinsic, inclinations, pixel_pose=None, frame_pose=None):
    """Vehicle-frame points of every pixel of a range image.

    Args:
        ranges: (H, W) ranges in metres.
        extrinsic: (4, 4) lidar-to-vehicle transform.
        inclinations: (H,) beam inclinations in increasing order (as in the calibration).
        pixel_pose: optional (H, W, 6) per-pixel vehicle pose (roll, pitch, yaw, x, y, z),
            vehicle to global frame (top lidar only).
        frame_pose: (4, 4) vehicle-to-global pose of the frame; required with `pixel_pose`.

    Returns:
        (H, W, 3) float64 points in the frame's vehicle frame (garbage where range <= 0).
    """
    ranges = np.asarray(ranges, np.float64)
    extrinsic = np.asarray(extrinsic, np.float64)
    height, width = ranges.shape
    inclination = np.asarray(inclinations, np.float64)[::-1][:, None]
    az_correction = np.arctan2(extrinsic[1, 0], extrinsic[0, 0])
    ratios = (width - np.arange(width, dtype=np.float64) - 0.5) / width
    azimuth = ((ratios * 2.0 - 1.0) * np.pi - az_correction)[None, :]
    sensor = np.stack(
        [
            np.cos(azimuth) * np.cos(inclination) * ranges,
            np.sin(azimuth) * np.cos(inclination) * ranges,
            np.broadcast_to(np.sin(inclination), (height, width)) * ranges,
        ],
        axis=-1,
    )
    points = sensor @ extrinsic[:3, :3].T + extrinsic[:3, 3]
    if pixel_pose is not None:
        pixel_pose = np.asarray(pixel_pose, np.float64)
        rotation = rotation_from_euler(pixel_pose[..., 0], pixel_pose[..., 1], pixel_pose[..., 2])
        world = np.einsum("hwij,hwj->hwi", rotation, points) + pixel_pose[..., 3:]
        world_to_vehicle = np.linalg.inv(np.asarray(frame_pose, np.float64))
        points = world @ world_to_vehicle[:3, :3].T + world_to_vehicle[:3, 3]
    return points
