"""Neighbour tables (kernel maps) for submanifold sparse 3D convolutions.

Sparse voxels are a padded batch, as in TensorFlow 3D: `voxel_xyz_indices` int32 of shape
(batch, num_voxels, 3) and `num_valid_voxels` int32 of shape (batch,); rows at or past
`num_valid_voxels` are padding. Every voxel is packed into one int64 key
`batch << 54 | (x + 8) << 36 | (y + 8) << 18 | (z + 8)`, the keys are sorted once, and the
neighbours of all voxels at every kernel offset are found with `searchsorted`. This needs no hash
table (so it compiles with XLA) and cannot overflow for indices below 2**18 - 16 = 262128 per
axis (26 km at 0.1 m voxels) and up to 512 scenes in a batch.

These ops use TensorFlow (sort, searchsorted, segment ops), the backend keras-suite runs on.
"""

import numpy as np
import tensorflow as tf
from tensorflow.python.ops import control_flow_util

AXIS_BITS = 18
MARGIN = 8
MAX_INDEX = 2**AXIS_BITS - 2 * MARGIN
MAX_BATCH = 2 ** (63 - 3 * AXIS_BITS)
SENTINEL = np.iinfo(np.int64).max


def in_xla_context():
    """Whether the ops being traced are compiled by XLA (`jit_compile=True`)."""
    if tf.executing_eagerly():
        return False
    return control_flow_util.GraphOrParentsInXlaContext(tf.compat.v1.get_default_graph())


def search_sorted(sorted_values, queries):
    """`tf.searchsorted` (left side) on 1-D tensors that stays O(queries * log n) under XLA.

    XLA lowers `tf.searchsorted` to a comparison of every query with every value (quadratic
    memory), so under XLA a binary search of `ceil(log2(n + 1))` gather steps is used instead.
    """
    if not in_xla_context():
        return tf.searchsorted(sorted_values, queries)
    size = tf.shape(sorted_values)[0]
    low = tf.zeros_like(queries, tf.int32)
    high = tf.fill(tf.shape(queries), size)
    steps = tf.cast(
        tf.math.ceil(tf.math.log(tf.cast(size, tf.float32) + 1.0) / np.log(2.0)), tf.int32
    )

    def body(step, low, high):
        middle = (low + high) // 2
        value = tf.gather(sorted_values, tf.minimum(middle, size - 1))
        right = (value < queries) & (low < high)
        return step + 1, tf.where(right, middle + 1, low), tf.where(right, high, middle)

    _, low, _ = tf.while_loop(lambda step, *_: step < steps + 1, body, [0, low, high])
    return low


def check_value(condition, message):
    """Raises `ValueError(message)` eagerly, or adds an assertion when tracing a graph."""
    if tf.executing_eagerly():
        if not bool(condition):
            raise ValueError(message)
        return
    tf.debugging.Assert(condition, [message])


def validate_sparse_voxels(voxel_xyz_indices, num_valid_voxels):
    """Checks the padded-batch voxel format and returns the validity mask (batch, num_voxels).

    Args:
        voxel_xyz_indices: int32 tensor of shape (batch, num_voxels, 3).
        num_valid_voxels: int32 tensor of shape (batch,).

    Returns:
        A bool tensor of shape (batch, num_voxels), True on valid rows.
    """
    voxel_xyz_indices = tf.convert_to_tensor(voxel_xyz_indices)
    num_valid_voxels = tf.convert_to_tensor(num_valid_voxels)
    if voxel_xyz_indices.dtype != tf.int32 or voxel_xyz_indices.shape.rank != 3:
        raise ValueError(
            "`voxel_xyz_indices` must be int32 of shape (batch, num_voxels, 3). Received: "
            f"dtype={voxel_xyz_indices.dtype.name}, shape={tuple(voxel_xyz_indices.shape)}"
        )
    if voxel_xyz_indices.shape[-1] is not None and voxel_xyz_indices.shape[-1] != 3:
        raise ValueError(
            "`voxel_xyz_indices` must be int32 of shape (batch, num_voxels, 3). Received: "
            f"shape={tuple(voxel_xyz_indices.shape)}"
        )
    if num_valid_voxels.dtype != tf.int32 or num_valid_voxels.shape.rank != 1:
        raise ValueError(
            "`num_valid_voxels` must be int32 of shape (batch,). Received: "
            f"dtype={num_valid_voxels.dtype.name}, shape={tuple(num_valid_voxels.shape)}"
        )
    num_voxels = tf.shape(voxel_xyz_indices)[1]
    check_value(
        tf.reduce_all((num_valid_voxels >= 0) & (num_valid_voxels <= num_voxels)),
        "`num_valid_voxels` must lie in [0, num_voxels] (the padded size of "
        "`voxel_xyz_indices`). Received a value outside that range.",
    )
    valid = tf.range(num_voxels)[tf.newaxis, :] < num_valid_voxels[:, tf.newaxis]
    in_range = (voxel_xyz_indices >= 0) & (voxel_xyz_indices <= MAX_INDEX)
    check_value(
        tf.reduce_all(tf.reduce_all(in_range, axis=-1) | ~valid),
        f"`voxel_xyz_indices` must lie in [0, {MAX_INDEX}] on valid rows. Received an index "
        "outside that range; shift the indices so that the scene starts at 0 (as "
        "`keras_suite.ops.voxelize` does).",
    )
    return valid


def pack_voxel_keys(voxel_xyz_indices, valid):
    """Packs (batch, x, y, z) into sortable int64 keys; padding rows get the largest int64.

    Args:
        voxel_xyz_indices: int32 tensor of shape (batch, num_voxels, 3), in [0, MAX_INDEX].
        valid: bool tensor of shape (batch, num_voxels).

    Returns:
        An int64 tensor of shape (batch, num_voxels).
    """
    xyz = tf.cast(voxel_xyz_indices, tf.int64) + MARGIN
    batch = tf.shape(voxel_xyz_indices, out_type=tf.int64)[0]
    batch_ids = tf.range(batch)[:, tf.newaxis]
    keys = (
        batch_ids * 2 ** (3 * AXIS_BITS)
        + xyz[..., 0] * 2 ** (2 * AXIS_BITS)
        + xyz[..., 1] * 2**AXIS_BITS
        + xyz[..., 2]
    )
    return tf.where(valid, keys, tf.constant(SENTINEL, tf.int64))


def kernel_offsets(kernel_size):
    """The (kernel_size**3, 3) offsets in the order of a `Conv3D` kernel's first three axes."""
    radius = kernel_size // 2
    grid = np.arange(kernel_size) - radius
    offsets = np.stack(np.meshgrid(grid, grid, grid, indexing="ij"), axis=-1)
    return offsets.reshape(-1, 3).astype("int64")


def build_kernel_map(voxel_xyz_indices, num_valid_voxels, kernel_size=3):
    """Builds the neighbour table of a sparse voxel batch for one resolution level.

    Submanifold sparse convolutions (Graham et al., 2018) output only at the input's active
    voxels and read only active neighbours. This op finds, for every voxel and every offset of a
    `kernel_size`**3 window, the row of the neighbouring voxel in the same scene, by sorting
    packed int64 keys once and running one `searchsorted` per (dx, dy) column of the window
    (the dz neighbours follow at adjacent sorted rows). Compute it once per
    resolution level and pass it to every `SparseConv3D` at that level (`kernel_map=`), as
    `keras_suite.zoo.SparseUNet3D` does; a conv called without one builds its own.

    Args:
        voxel_xyz_indices: int32 tensor of shape (batch, num_voxels, 3), non-negative and below
            262128 on valid rows, with no voxel repeated within a scene.
        num_valid_voxels: int32 tensor of shape (batch,); rows at or past it are padding.
        kernel_size: odd int, the window's edge length.

    Returns:
        An int32 tensor of shape (batch, num_voxels, kernel_size**3): the row (within the same
        scene) of the neighbour at each offset, or -1 where there is none and on padding rows.
        Offsets are ordered like the first three axes of a `Conv3D` kernel (x slowest, z
        fastest), and offset `(dx, dy, dz)` reads the voxel at `(x + dx, y + dy, z + dz)`.

    Example:

    ```python
    xyz = tf.constant([[[0, 0, 0], [0, 0, 1], [5, 5, 5]]], tf.int32)
    table = keras_suite.ops.build_kernel_map(xyz, tf.constant([3]), kernel_size=3)
    table[0, 0, 14]  # 1: voxel 0's neighbour at offset (0, 0, +1) is row 1.
    ```
    """
    if not isinstance(kernel_size, int | np.integer) or kernel_size < 1 or kernel_size % 2 != 1:
        raise ValueError(
            "`kernel_size` must be a positive odd int (submanifold convolutions are centred). "
            f"Received: kernel_size={kernel_size!r}"
        )
    if kernel_size > 2 * MARGIN + 1:
        raise ValueError(
            f"`kernel_size` must be at most {2 * MARGIN + 1}. Received: kernel_size={kernel_size}"
        )
    voxel_xyz_indices = tf.convert_to_tensor(voxel_xyz_indices)
    num_valid_voxels = tf.convert_to_tensor(num_valid_voxels)
    valid = validate_sparse_voxels(voxel_xyz_indices, num_valid_voxels)
    check_value(
        tf.shape(voxel_xyz_indices, out_type=tf.int64)[0] <= MAX_BATCH,
        f"A sparse voxel batch holds at most {MAX_BATCH} scenes. Received more.",
    )
    shape = tf.shape(voxel_xyz_indices)
    batch, num_voxels = shape[0], shape[1]
    keys = pack_voxel_keys(voxel_xyz_indices, valid)
    flat_keys = tf.reshape(keys, [-1])
    order = tf.argsort(flat_keys, stable=True)
    sorted_keys = tf.gather(flat_keys, order)
    num_total = tf.shape(flat_keys)[0]
    repeated = (sorted_keys[1:] == sorted_keys[:-1]) & (sorted_keys[1:] != SENTINEL)
    check_value(
        ~tf.reduce_any(repeated),
        "`voxel_xyz_indices` must not repeat a voxel within a scene. Received a duplicated "
        "voxel; merge duplicates first (e.g. with `keras_suite.ops.voxelize`).",
    )
    # Work in sorted order: the queries of one offset are then sorted too, so the binary
    # searches walk the key table in order (random-order queries missed the cache and made 1M
    # voxels 50x slower than 100k). One search per (dx, dy) column finds the first row at or
    # after (x + dx, y + dy, z - radius); as keys are distinct, the keys for dz = -radius ..
    # radius can then only sit at the following rows, one step further per key found.
    radius = kernel_size // 2
    valid_sorted = sorted_keys != SENTINEL
    local_order = tf.math.floormod(order, num_voxels)
    columns = []
    for dx, dy in kernel_offsets(kernel_size)[::kernel_size, :2]:
        delta = (int(dx) << (2 * AXIS_BITS)) + (int(dy) << AXIS_BITS) - radius
        base = tf.where(valid_sorted, sorted_keys + delta, 0)
        position = search_sorted(sorted_keys, base)
        for dz in range(kernel_size):
            at = tf.minimum(position, num_total - 1)
            hit = tf.equal(tf.gather(sorted_keys, at), base + dz) & valid_sorted
            columns.append(tf.where(hit, tf.gather(local_order, at), -1))
            position = position + tf.cast(hit, tf.int32)
    table_sorted = tf.stack(columns, axis=1)
    if in_xla_context():
        inverse = tf.scatter_nd(order[:, tf.newaxis], tf.range(num_total), [num_total])
    else:
        inverse = tf.math.invert_permutation(order)
    table = tf.reshape(tf.gather(table_sorted, inverse), [batch, num_voxels, kernel_size**3])
    return tf.where(valid[..., tf.newaxis], table, -1)


def compact_keys(keys, capacity):
    """Numbers the distinct keys of each scene 0, 1, ... in sorted order.

    Args:
        keys: int64 tensor (batch, n) from `pack_voxel_keys` (padding rows hold the sentinel).
        capacity: int, the most distinct keys kept per scene; later ones are dropped.

    Returns:
        A tuple `(local_ids, counts, representative)`: int32 (batch, n) ids within the scene
        (-1 on padding and dropped rows), int32 (batch,) number of kept distinct keys, and int32
        (batch, capacity) the flat row (into the flattened (batch * n) keys) of one member of
        each kept key (0 on unused slots).
    """
    shape = tf.shape(keys)
    batch, n = shape[0], shape[1]
    flat = tf.reshape(keys, [-1])
    order = tf.argsort(flat, stable=True)
    sorted_keys = tf.gather(flat, order)
    is_new = tf.concat([[True], sorted_keys[1:] != sorted_keys[:-1]], axis=0)
    global_ids = tf.cumsum(tf.cast(is_new, tf.int32)) - 1
    valid_sorted = sorted_keys != SENTINEL
    scene = tf.cast(order // n, tf.int32)
    first_id = tf.math.unsorted_segment_min(
        tf.where(valid_sorted, global_ids, tf.int32.max), scene, batch
    )
    local_sorted = global_ids - tf.gather(first_id, scene)
    keep = valid_sorted & (local_sorted < capacity)
    local_sorted = tf.where(keep, local_sorted, -1)
    counts = tf.math.unsorted_segment_max(tf.where(keep, local_sorted + 1, 0), scene, batch)
    counts = tf.maximum(counts, 0)
    local_ids = tf.scatter_nd(order[:, tf.newaxis], local_sorted, tf.shape(flat))
    local_ids = tf.reshape(local_ids, [batch, n])
    slot = tf.where(keep, scene * capacity + local_sorted, batch * capacity)
    representative = tf.math.unsorted_segment_max(
        tf.where(keep, order, 0), slot, batch * capacity + 1
    )[:-1]
    representative = tf.reshape(tf.maximum(representative, 0), [batch, capacity])
    return local_ids, counts, representative
