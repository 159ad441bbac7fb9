"""Sparse 3D average pooling."""

import keras
from keras import ops

from keras_suite.layers.sparse.base_sparse_pool3d import BaseSparsePool3D


@keras.saving.register_keras_serializable(package="keras_suite")
class SparseAvgPool3D(BaseSparsePool3D):
    """Average pooling of sparse voxels into the coarser grid `floor(xyz / pool_size)`.

    Every parent voxel that holds at least one valid voxel becomes a voxel of the coarser level
    (ordered by x, y, z within its scene) and takes the mean of its valid children only (empty
    cells do not count as zeros).

    Args:
        pool_size: positive int, the window's edge and stride.
        **kwargs: base `Layer` arguments.

    Call arguments:
        voxel_features: float tensor (batch, num_voxels, channels).
        voxel_xyz_indices: int32 tensor (batch, num_voxels, 3).
        num_valid_voxels: int32 tensor (batch,).

    Returns:
        A tuple `(pooled_features, pooled_xyz_indices, num_valid_pooled, voxel_to_pooled)`, as
        for `SparseMaxPool3D`.

    Example:

    ```python
    features = np.array([[[1.0], [4.0], [2.0]]], "float32")
    xyz = np.array([[[0, 0, 0], [1, 1, 1], [2, 0, 0]]], "int32")
    pooled, _, _, _ = keras_suite.layers.SparseAvgPool3D()(features, xyz, np.array([3], "int32"))
    # pooled[0, :2] == [[2.5], [2.0]]
    ```
    """

    @staticmethod
    def reduction(data, segment_ids, num_segments):
        total = ops.segment_sum(data, segment_ids, num_segments=num_segments)
        ones = ops.ones_like(segment_ids[:, None], dtype=data.dtype)
        count = ops.segment_sum(ones, segment_ids, num_segments=num_segments)
        return total / ops.maximum(count, 1)
