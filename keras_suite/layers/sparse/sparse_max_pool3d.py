"""Sparse 3D max pooling."""

import keras
from keras import ops

from keras_suite.layers.sparse.base_sparse_pool3d import BaseSparsePool3D


@keras.saving.register_keras_serializable(package="keras_suite")
class SparseMaxPool3D(BaseSparsePool3D):
    """Max pooling of sparse voxels into the coarser grid `floor(xyz / pool_size)`.

    Every parent voxel that holds at least one valid voxel becomes a voxel of the coarser level
    (ordered by x, y, z within its scene) and takes the channel-wise maximum of its children, as
    TensorFlow 3D's sparse U-Net does between levels. The returned `voxel_to_pooled` mapping
    lets `SparseUnpool3D` send the pooled features back.

    Args:
        pool_size: positive int, the window's edge and stride.
        **kwargs: base `Layer` arguments.

    Call arguments:
        voxel_features: float tensor (batch, num_voxels, channels).
        voxel_xyz_indices: int32 tensor (batch, num_voxels, 3).
        num_valid_voxels: int32 tensor (batch,).

    Returns:
        A tuple `(pooled_features, pooled_xyz_indices, num_valid_pooled, voxel_to_pooled)` of
        shapes (batch, num_voxels, channels), (batch, num_voxels, 3), (batch,) and
        (batch, num_voxels); the pooled level keeps the input's padded size, and
        `voxel_to_pooled` is -1 on padding rows.

    Example:

    ```python
    features = np.array([[[1.0], [4.0], [2.0]]], "float32")
    xyz = np.array([[[0, 0, 0], [1, 1, 1], [2, 0, 0]]], "int32")
    pooled, pooled_xyz, num_pooled, parent = keras_suite.layers.SparseMaxPool3D()(
        features, xyz, np.array([3], "int32")
    )
    # pooled[0, :2] == [[4.0], [2.0]], parent == [[0, 0, 1]]
    ```
    """

    @staticmethod
    def reduction(data, segment_ids, num_segments):
        return ops.segment_max(data, segment_ids, num_segments=num_segments)
