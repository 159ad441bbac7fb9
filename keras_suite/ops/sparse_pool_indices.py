"""The voxel-to-parent mapping used by sparse pooling and unpooling."""

import numpy as np
from keras import ops

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
    xyz = np.array([[[0, 0, 0], [1, 1, 1], [2, 0, 0]]], "int32")
    pooled_xyz, num_pooled, parent = keras_suite.ops.pool_voxel_indices(
        xyz, np.array([3], "int32")
    )
    num_pooled  # [2]; parent == [[0, 0, 1]]
    ```
    """
    if not isinstance(pool_size, int | np.integer) or pool_size < 1:
        raise ValueError(f"`pool_size` must be a positive int. Received: pool_size={pool_size!r}")
    voxel_xyz_indices = ops.convert_to_tensor(voxel_xyz_indices)
    num_valid_voxels = ops.convert_to_tensor(num_valid_voxels)
    valid = validate_sparse_voxels(voxel_xyz_indices, num_valid_voxels)
    parents = ops.where(valid[..., None], voxel_xyz_indices // pool_size, 0)
    keys = pack_voxel_keys(parents, valid)
    num_voxels = ops.shape(voxel_xyz_indices)[1]
    voxel_to_pooled, num_valid_pooled, representative = compact_keys(keys, num_voxels)
    pooled = ops.take(ops.reshape(parents, (-1, 3)), ops.reshape(representative, (-1,)), axis=0)
    pooled = ops.reshape(pooled, ops.shape(voxel_xyz_indices))
    pooled_valid = ops.arange(num_voxels, dtype="int32")[None, :] < num_valid_pooled[:, None]
    pooled = ops.where(pooled_valid[..., None], pooled, 0)
    return ops.cast(pooled, "int32"), num_valid_pooled, voxel_to_pooled
