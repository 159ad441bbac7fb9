"""The voxel-to-parent mapping used by sparse pooling and unpooling."""

import numpy as np
import tensorflow as tf

from keras_suite.ops.sparse_kernel_map import (
    compact_keys,
    pack_voxel_keys,
    validate_sparse_voxels,
)


def pool_voxel_indices(voxel_xyz_indices, num_valid_voxels, pool_size=2):
    """Maps every voxel to its parent voxel `floor(xyz / pool_size)` at the coarser level.

    Args:
        voxel_xyz_indices: int32 tensor of shape (batch, num_voxels, 3).
        num_valid_voxels: int32 tensor of shape (batch,); rows at or past it are padding.
        pool_size: positive int, the pooling window's edge (also the stride).

    Returns:
        A tuple `(pooled_xyz_indices, num_valid_pooled, voxel_to_pooled)`: int32 (batch,
        num_voxels, 3) the parents' indices ordered by (x, y, z) and padded like the input,
        int32 (batch,) the number of parents per scene, and int32 (batch, num_voxels) the
        parent row of each voxel (-1 on padding rows).

    Example:

    ```python
    xyz = tf.constant([[[0, 0, 0], [1, 1, 1], [2, 0, 0]]], tf.int32)
    pooled_xyz, num_pooled, parent = keras_suite.ops.pool_voxel_indices(xyz, tf.constant([3]))
    num_pooled  # [2]; parent == [[0, 0, 1]]
    ```
    """
    if not isinstance(pool_size, int | np.integer) or pool_size < 1:
        raise ValueError(f"`pool_size` must be a positive int. Received: pool_size={pool_size!r}")
    voxel_xyz_indices = tf.convert_to_tensor(voxel_xyz_indices)
    num_valid_voxels = tf.convert_to_tensor(num_valid_voxels)
    valid = validate_sparse_voxels(voxel_xyz_indices, num_valid_voxels)
    parents = tf.where(valid[..., tf.newaxis], voxel_xyz_indices // pool_size, 0)
    keys = pack_voxel_keys(parents, valid)
    num_voxels = tf.shape(voxel_xyz_indices)[1]
    voxel_to_pooled, num_valid_pooled, representative = compact_keys(keys, num_voxels)
    pooled = tf.gather(tf.reshape(parents, [-1, 3]), tf.reshape(representative, [-1]))
    pooled = tf.reshape(pooled, tf.shape(voxel_xyz_indices))
    pooled_valid = tf.range(num_voxels)[tf.newaxis, :] < num_valid_pooled[:, tf.newaxis]
    pooled = tf.where(pooled_valid[..., tf.newaxis], pooled, 0)
    return pooled, num_valid_pooled, voxel_to_pooled
