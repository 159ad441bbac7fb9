"""Point clouds to sparse voxels and back (TensorFlow 3D's `voxelize` / `devoxelize`)."""

import collections

import numpy as np
import tensorflow as tf

from keras_suite.ops.sparse_kernel_map import (
    MAX_INDEX,
    check_value,
    compact_keys,
    pack_voxel_keys,
)

Voxels = collections.namedtuple(
    "Voxels",
    ["voxel_features", "voxel_xyz_indices", "num_valid_voxels", "point_to_voxel", "voxel_origin"],
)


def _voxel_size_tensor(voxel_size):
    size = np.asarray(voxel_size, dtype="float64")
    if size.ndim == 0:
        size = np.full((3,), float(size))
    if size.shape != (3,) or not np.all(np.isfinite(size)) or np.any(size <= 0):
        raise ValueError(
            "`voxel_size` must be a positive float or three positive floats (x, y, z). "
            f"Received: voxel_size={voxel_size!r}"
        )
    return tf.constant(size, tf.float32)


def voxelize(points, point_features, num_valid_points, voxel_size, max_voxels):
    """Groups the points of each scene into voxels and averages their features.

    Each valid point falls into the voxel `floor(point / voxel_size)`; indices are shifted per
    scene so that the smallest occupied voxel is at 0 (the shift is returned as
    `voxel_origin`). Voxels of a scene are ordered by (x, y, z). If a scene occupies more than
    `max_voxels` voxels, the first `max_voxels` in that order are kept and the points of the
    others map to -1. A scene with no valid points gives zero voxels.

    Args:
        points: float tensor of shape (batch, num_points, 3), metric xyz.
        point_features: float tensor of shape (batch, num_points, channels), e.g. colours.
        num_valid_points: int32 tensor of shape (batch,); rows at or past it are padding.
        voxel_size: positive float, or three positive floats (x, y, z), in the points' unit.
        max_voxels: int, the padded number of voxels per scene in the output.

    Returns:
        A `Voxels` named tuple:
        `voxel_features` float32 (batch, max_voxels, channels), the mean of the voxel's points;
        `voxel_xyz_indices` int32 (batch, max_voxels, 3);
        `num_valid_voxels` int32 (batch,);
        `point_to_voxel` int32 (batch, num_points), the voxel row of each point, -1 on padding
        and dropped points;
        `voxel_origin` float32 (batch, 3), the metric corner of voxel (0, 0, 0), so that a
        voxel's centre is `voxel_origin + (voxel_xyz_indices + 0.5) * voxel_size`.

    Example:

    ```python
    points = tf.constant([[[0.05, 0.0, 0.0], [0.07, 0.02, 0.0], [0.5, 0.5, 0.5]]])
    colours = tf.constant([[[1.0], [3.0], [5.0]]])
    voxels = keras_suite.ops.voxelize(points, colours, tf.constant([3]), 0.1, max_voxels=4)
    voxels.num_valid_voxels  # [2]
    voxels.voxel_features[0, :2]  # [[2.0], [5.0]]
    ```
    """
    points = tf.convert_to_tensor(points)
    point_features = tf.convert_to_tensor(point_features)
    num_valid_points = tf.convert_to_tensor(num_valid_points)
    if not points.dtype.is_floating or points.shape.rank != 3 or points.shape[-1] != 3:
        raise ValueError(
            "`points` must be a float tensor of shape (batch, num_points, 3). Received: "
            f"dtype={points.dtype.name}, shape={tuple(points.shape)}"
        )
    if not point_features.dtype.is_floating or point_features.shape.rank != 3:
        raise ValueError(
            "`point_features` must be a float tensor of shape (batch, num_points, channels). "
            f"Received: dtype={point_features.dtype.name}, shape={tuple(point_features.shape)}"
        )
    if num_valid_points.dtype != tf.int32 or num_valid_points.shape.rank != 1:
        raise ValueError(
            "`num_valid_points` must be int32 of shape (batch,). Received: "
            f"dtype={num_valid_points.dtype.name}, shape={tuple(num_valid_points.shape)}"
        )
    if not isinstance(max_voxels, int | np.integer) or max_voxels < 1:
        raise ValueError(
            f"`max_voxels` must be a positive int. Received: max_voxels={max_voxels!r}"
        )
    size = _voxel_size_tensor(voxel_size)
    points = tf.cast(points, tf.float32)
    point_features = tf.cast(point_features, tf.float32)
    shape = tf.shape(points)
    batch, num_points = shape[0], shape[1]
    check_value(
        tf.reduce_all(tf.shape(point_features)[:2] == shape[:2]),
        "`point_features` must have the same (batch, num_points) as `points`. Received "
        "different leading dimensions.",
    )
    check_value(
        tf.reduce_all((num_valid_points >= 0) & (num_valid_points <= num_points)),
        "`num_valid_points` must lie in [0, num_points]. Received a value outside that range.",
    )
    valid = tf.range(num_points)[tf.newaxis, :] < num_valid_points[:, tf.newaxis]
    finite = tf.reduce_all(tf.math.is_finite(points), axis=-1)
    check_value(
        tf.reduce_all(finite | ~valid),
        "`points` must be finite on valid rows. Received NaN or infinite coordinates; drop "
        "those points or move them past `num_valid_points`.",
    )
    safe_points = tf.where(valid[..., tf.newaxis], points, 0.0)
    grid = tf.cast(tf.floor(safe_points / size), tf.int64)
    big = tf.constant(np.iinfo(np.int64).max, tf.int64)
    grid_min = tf.reduce_min(tf.where(valid[..., tf.newaxis], grid, big), axis=1)
    grid_min = tf.where(grid_min == big, tf.zeros_like(grid_min), grid_min)
    relative = grid - grid_min[:, tf.newaxis, :]
    check_value(
        tf.reduce_all(tf.reduce_all(relative <= MAX_INDEX, axis=-1) | ~valid),
        f"A scene spans more than {MAX_INDEX} voxels along an axis. Received points too far "
        "apart for `voxel_size`; use a larger `voxel_size` or crop the scene.",
    )
    relative = tf.cast(tf.where(valid[..., tf.newaxis], relative, 0), tf.int32)
    keys = pack_voxel_keys(relative, valid)
    point_to_voxel, num_valid_voxels, representative = compact_keys(keys, max_voxels)
    kept = point_to_voxel >= 0
    scene = tf.range(batch)[:, tf.newaxis] * tf.ones_like(point_to_voxel)
    slot = tf.where(kept, scene * max_voxels + point_to_voxel, batch * max_voxels)
    slot = tf.reshape(slot, [-1])
    num_slots = batch * max_voxels + 1
    channels = tf.shape(point_features)[-1]
    sums = tf.math.unsorted_segment_sum(
        tf.reshape(point_features, [-1, channels]), slot, num_slots
    )[:-1]
    counts = tf.math.unsorted_segment_sum(tf.ones_like(slot, tf.float32), slot, num_slots)[:-1]
    voxel_features = sums / tf.maximum(counts, 1.0)[:, tf.newaxis]
    voxel_features = tf.reshape(voxel_features, [batch, max_voxels, channels])
    voxel_xyz = tf.gather(tf.reshape(relative, [-1, 3]), tf.reshape(representative, [-1]))
    voxel_xyz = tf.reshape(voxel_xyz, [batch, max_voxels, 3])
    voxel_valid = tf.range(max_voxels)[tf.newaxis, :] < num_valid_voxels[:, tf.newaxis]
    voxel_xyz = tf.where(voxel_valid[..., tf.newaxis], voxel_xyz, 0)
    voxel_origin = tf.cast(grid_min, tf.float32) * size
    return Voxels(voxel_features, voxel_xyz, num_valid_voxels, point_to_voxel, voxel_origin)


def devoxelize(voxel_features, point_to_voxel):
    """Gives every point the features of its voxel (zeros where `point_to_voxel` is -1).

    Args:
        voxel_features: tensor of shape (batch, num_voxels, channels).
        point_to_voxel: int32 tensor of shape (batch, num_points) from `voxelize`.

    Returns:
        A tensor of shape (batch, num_points, channels) with the dtype of `voxel_features`.

    Example:

    ```python
    voxels = keras_suite.ops.voxelize(points, colours, num_points, 0.1, max_voxels=1000)
    point_colours = keras_suite.ops.devoxelize(voxels.voxel_features, voxels.point_to_voxel)
    ```
    """
    voxel_features = tf.convert_to_tensor(voxel_features)
    point_to_voxel = tf.convert_to_tensor(point_to_voxel)
    if voxel_features.shape.rank != 3:
        raise ValueError(
            "`voxel_features` must have shape (batch, num_voxels, channels). Received: "
            f"shape={tuple(voxel_features.shape)}"
        )
    if not point_to_voxel.dtype.is_integer or point_to_voxel.shape.rank != 2:
        raise ValueError(
            "`point_to_voxel` must be an int tensor of shape (batch, num_points). Received: "
            f"dtype={point_to_voxel.dtype.name}, shape={tuple(point_to_voxel.shape)}"
        )
    point_to_voxel = tf.cast(point_to_voxel, tf.int32)
    check_value(
        tf.reduce_all(point_to_voxel < tf.shape(voxel_features)[1]),
        "`point_to_voxel` must index rows of `voxel_features` (or be -1). Received an index "
        "past num_voxels.",
    )
    found = point_to_voxel >= 0
    gathered = tf.gather(voxel_features, tf.maximum(point_to_voxel, 0), batch_dims=1)
    return tf.where(found[..., tf.newaxis], gathered, tf.zeros_like(gathered))
