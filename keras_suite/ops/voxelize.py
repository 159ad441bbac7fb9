"""Point clouds to sparse voxels and back (TensorFlow 3D's `voxelize` / `devoxelize`)."""

import collections

import keras
import numpy as np
from keras import ops

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


def _voxel_size(voxel_size):
    size = np.asarray(voxel_size, dtype="float64")
    if size.ndim == 0:
        size = np.full((3,), float(size))
    if size.shape != (3,) or not np.all(np.isfinite(size)) or np.any(size <= 0):
        raise ValueError(
            "`voxel_size` must be a positive float or three positive floats (x, y, z). "
            f"Received: voxel_size={voxel_size!r}"
        )
    return size.astype("float32")


def _dtype(x):
    return keras.backend.standardize_dtype(x.dtype)


def _is_float(x):
    return keras.backend.is_float_dtype(_dtype(x))


def voxelize(points, point_features, num_valid_points, voxel_size, max_voxels):
    """Groups the points of each scene into voxels and averages their features.

    Each valid point falls into the voxel `floor(point / voxel_size)`; indices are shifted per
    scene so that the smallest occupied voxel is at 0 (the shift is returned as
    `voxel_origin`). Voxels of a scene are ordered by (x, y, z). If a scene occupies more than
    `max_voxels` voxels, the first `max_voxels` in that order are kept and the points of the
    others map to -1. A scene with no valid points gives zero voxels. Every shape is static
    (`max_voxels` rows per scene), so it runs on every Keras backend and under `jax.jit`; bad
    values raise a `ValueError` when they are known (eager calls) and go unchecked under
    `jax.jit`.

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
    points = np.array([[[0.05, 0.0, 0.0], [0.07, 0.02, 0.0], [0.5, 0.5, 0.5]]], "float32")
    colours = np.array([[[1.0], [3.0], [5.0]]], "float32")
    voxels = keras_suite.ops.voxelize(points, colours, np.array([3], "int32"), 0.1, max_voxels=4)
    voxels.num_valid_voxels  # [2]
    voxels.voxel_features[0, :2]  # [[2.0], [5.0]]
    ```
    """
    points = ops.convert_to_tensor(points)
    point_features = ops.convert_to_tensor(point_features)
    num_valid_points = ops.convert_to_tensor(num_valid_points)
    if not _is_float(points) or len(points.shape) != 3 or points.shape[-1] != 3:
        raise ValueError(
            "`points` must be a float tensor of shape (batch, num_points, 3). Received: "
            f"dtype={_dtype(points)}, shape={tuple(points.shape)}"
        )
    if not _is_float(point_features) or len(point_features.shape) != 3:
        raise ValueError(
            "`point_features` must be a float tensor of shape (batch, num_points, channels). "
            f"Received: dtype={_dtype(point_features)}, shape={tuple(point_features.shape)}"
        )
    if _dtype(num_valid_points) != "int32" or len(num_valid_points.shape) != 1:
        raise ValueError(
            "`num_valid_points` must be int32 of shape (batch,). Received: "
            f"dtype={_dtype(num_valid_points)}, shape={tuple(num_valid_points.shape)}"
        )
    if not isinstance(max_voxels, int | np.integer) or max_voxels < 1:
        raise ValueError(
            f"`max_voxels` must be a positive int. Received: max_voxels={max_voxels!r}"
        )
    size = _voxel_size(voxel_size)
    points = ops.cast(points, "float32")
    point_features = ops.cast(point_features, "float32")
    leading = [tuple(points.shape)[:2], tuple(point_features.shape)[:2]]
    if None not in leading[0] + leading[1] and leading[0] != leading[1]:
        raise ValueError(
            "`point_features` must have the same (batch, num_points) as `points`. Received: "
            f"points.shape={tuple(points.shape)}, point_features.shape="
            f"{tuple(point_features.shape)}"
        )
    batch, num_points = ops.shape(points)[0], ops.shape(points)[1]
    check_value(
        ops.all((num_valid_points >= 0) & (num_valid_points <= num_points)),
        "`num_valid_points` must lie in [0, num_points]. Received a value outside that range.",
    )
    valid = ops.arange(num_points, dtype="int32")[None, :] < num_valid_points[:, None]
    finite = ops.all(ops.isfinite(points), axis=-1)
    check_value(
        ops.all(finite | ~valid),
        "`points` must be finite on valid rows. Received NaN or infinite coordinates; drop "
        "those points or move them past `num_valid_points`.",
    )
    safe_points = ops.where(valid[..., None], points, 0.0)
    grid = ops.floor(safe_points / size)
    big = float(np.finfo("float32").max)
    grid_min = ops.min(ops.where(valid[..., None], grid, big), axis=1)
    grid_min = ops.where(grid_min == big, 0.0, grid_min)
    relative = grid - grid_min[:, None, :]
    check_value(
        ops.all(ops.all(relative <= MAX_INDEX, axis=-1) | ~valid),
        f"A scene spans more than {MAX_INDEX} voxels along an axis. Received points too far "
        "apart for `voxel_size`; use a larger `voxel_size` or crop the scene.",
    )
    relative = ops.cast(ops.where(valid[..., None], relative, 0.0), "int32")
    keys = pack_voxel_keys(relative, valid)
    point_to_voxel, num_valid_voxels, representative = compact_keys(keys, max_voxels)
    kept = point_to_voxel >= 0
    scene = ops.arange(batch, dtype="int32")[:, None]
    slot = ops.where(kept, scene * max_voxels + point_to_voxel, batch * max_voxels)
    slot = ops.reshape(slot, (-1,))
    num_slots = batch * max_voxels + 1
    channels = ops.shape(point_features)[-1]
    flat_features = ops.reshape(point_features, (-1, channels))
    sums = ops.segment_sum(flat_features, slot, num_segments=num_slots)[:-1]
    ones = ops.ones_like(slot, dtype="float32")
    counts = ops.segment_sum(ones, slot, num_segments=num_slots)[:-1]
    voxel_features = sums / ops.maximum(counts, 1.0)[:, None]
    voxel_features = ops.reshape(voxel_features, (batch, max_voxels, channels))
    voxel_xyz = ops.take(ops.reshape(relative, (-1, 3)), ops.reshape(representative, (-1,)), axis=0)
    voxel_xyz = ops.reshape(voxel_xyz, (batch, max_voxels, 3))
    voxel_valid = ops.arange(max_voxels, dtype="int32")[None, :] < num_valid_voxels[:, None]
    voxel_xyz = ops.cast(ops.where(voxel_valid[..., None], voxel_xyz, 0), "int32")
    voxel_origin = grid_min * size
    return Voxels(
        voxel_features,
        voxel_xyz,
        ops.cast(num_valid_voxels, "int32"),
        ops.cast(point_to_voxel, "int32"),
        voxel_origin,
    )


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
    voxel_features = ops.convert_to_tensor(voxel_features)
    point_to_voxel = ops.convert_to_tensor(point_to_voxel)
    if len(voxel_features.shape) != 3:
        raise ValueError(
            "`voxel_features` must have shape (batch, num_voxels, channels). Received: "
            f"shape={tuple(voxel_features.shape)}"
        )
    if "int" not in _dtype(point_to_voxel) or len(point_to_voxel.shape) != 2:
        raise ValueError(
            "`point_to_voxel` must be an int tensor of shape (batch, num_points). Received: "
            f"dtype={_dtype(point_to_voxel)}, shape={tuple(point_to_voxel.shape)}"
        )
    point_to_voxel = ops.cast(point_to_voxel, "int32")
    check_value(
        ops.all(point_to_voxel < ops.shape(voxel_features)[1]),
        "`point_to_voxel` must index rows of `voxel_features` (or be -1). Received an index "
        "past num_voxels.",
    )
    found = point_to_voxel >= 0
    rows = ops.maximum(point_to_voxel, 0)[..., None]
    rows = ops.broadcast_to(rows, tuple(ops.shape(rows)[:2]) + (ops.shape(voxel_features)[2],))
    gathered = ops.take_along_axis(voxel_features, rows, axis=1)
    return ops.where(found[..., None], gathered, ops.zeros_like(gathered))
