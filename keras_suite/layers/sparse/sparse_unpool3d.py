"""Sparse 3D unpooling."""

import keras

from keras_suite.ops.voxelize import devoxelize


@keras.saving.register_keras_serializable(package="keras_suite")
class SparseUnpool3D(keras.layers.Layer):
    """Sends pooled voxel features back to the finer voxels they were pooled from.

    Each fine voxel takes the features of its parent (a gather through the `voxel_to_pooled`
    mapping returned by `SparseMaxPool3D` / `SparseAvgPool3D`); padding rows get zeros.

    Args:
        **kwargs: base `Layer` arguments.

    Call arguments:
        pooled_features: float tensor (batch, num_pooled, channels).
        voxel_to_pooled: int32 tensor (batch, num_voxels), -1 on padding rows.

    Returns:
        A float tensor (batch, num_voxels, channels).

    Example:

    ```python
    pooled = np.array([[[4.0], [2.0], [0.0]]], "float32")
    parent = np.array([[0, 0, 1, -1]], "int32")
    keras_suite.layers.SparseUnpool3D()(pooled, parent)  # [[[4.], [4.], [2.], [0.]]]
    ```
    """

    def call(self, pooled_features, voxel_to_pooled):
        return devoxelize(pooled_features, voxel_to_pooled)

    def compute_output_shape(self, pooled_features_shape, voxel_to_pooled_shape):
        return tuple(voxel_to_pooled_shape) + (pooled_features_shape[-1],)
