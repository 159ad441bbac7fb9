"""Kernel map search with TensorFlow: one int64 key per voxel and `tf.searchsorted`.

`tf.searchsorted` is one kernel in a TensorFlow graph, several times faster than the
fixed-step binary search of `keras_suite.ops.sparse_kernel_map` run as a `tf.while_loop`
(2,621 voxels: 4.5 ms against 28 ms for a forward and backward `SparseConv3D` step, measured
on this project's 2-core CPU machine). XLA, however, lowers it to a comparison of every query
with every key (110 GiB for 40,000 voxels), so on TensorFlow `SparseConv3D` declares that it
does not support XLA and Keras compiles models holding it as graphs.
"""

import tensorflow as tf

# Fields of 16 bits hold `x + 8`, `y + 8` and `z + 8` (indices are checked to be below
# 2**15 - 16 before, so neighbours at offsets up to 8 stay inside their field) and the scene
# takes the bits above. Padding rows get a key above every real one that still leaves room for
# the offsets without overflow.
FIELD_BITS = 16
MARGIN = 8
SENTINEL = 2**62


def neighbour_table(voxel_xyz_indices, valid, kernel_size):
    """The kernel map of checked voxel indices, and whether a scene repeats a voxel.

    The keys of the whole batch are sorted once; one search per voxel and (dx, dy) column of
    the window finds the first key at or after `(x + dx, y + dy, z - r)`, and as keys are
    distinct the keys for dz = -r .. r can only follow at the next sorted rows.

    Args:
        voxel_xyz_indices: int32 tensor (batch, num_voxels, 3), in [0, 2**15 - 16] on valid rows.
        valid: bool tensor (batch, num_voxels).
        kernel_size: odd int, at most 17.

    Returns:
        A tuple `(table, repeated)`: int32 (batch, num_voxels, kernel_size**3), the row within
        the scene of the neighbour at each offset (x slowest, z fastest) or -1, and a bool
        scalar tensor, True when a scene holds a voxel twice.
    """
    shape = tf.shape(valid, out_type=tf.int64)
    batch, num_voxels = shape[0], shape[1]
    xyz = tf.cast(voxel_xyz_indices, tf.int64) + MARGIN
    keys = tf.range(batch)[:, tf.newaxis]
    for axis in range(3):
        keys = keys * 2**FIELD_BITS + xyz[..., axis]
    keys = tf.reshape(tf.where(valid, keys, tf.constant(SENTINEL, tf.int64)), [-1])
    order = tf.argsort(keys)
    sorted_keys = tf.gather(keys, order)
    repeated = tf.reduce_any((sorted_keys[1:] == sorted_keys[:-1]) & (sorted_keys[1:] != SENTINEL))
    radius = kernel_size // 2
    steps = tf.range(-radius, radius + 1, dtype=tf.int64)
    deltas = tf.reshape(
        steps[:, tf.newaxis] * 2 ** (2 * FIELD_BITS) + steps[tf.newaxis, :] * 2**FIELD_BITS, [-1]
    )
    queries = tf.reshape(keys[:, tf.newaxis] + (deltas - radius), [-1])
    query_valid = tf.reshape(tf.repeat(tf.reshape(valid, [-1, 1]), kernel_size**2, axis=1), [-1])
    position = tf.searchsorted(sorted_keys, queries, out_type=tf.int64)
    last = tf.maximum(tf.size(sorted_keys, out_type=tf.int64) - 1, 0)
    rows = tf.cast(order, tf.int64) % tf.maximum(num_voxels, 1)
    columns = []
    for dz in range(kernel_size):
        at = tf.minimum(position, last)
        hit = (tf.gather(sorted_keys, at) == queries + dz) & query_valid
        columns.append(tf.where(hit, tf.gather(rows, at), -1))
        position = position + tf.cast(hit, tf.int64)
    table = tf.reshape(tf.stack(columns, axis=-1), [batch, num_voxels, kernel_size**3])
    return tf.cast(table, tf.int32), repeated
