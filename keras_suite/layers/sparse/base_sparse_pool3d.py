"""The shared machinery of sparse max and average pooling."""

import keras
import numpy as np
from keras import ops

from keras_suite.ops.sparse_pool_indices import pool_voxel_indices


class BaseSparsePool3D(keras.layers.Layer):
    """Pools voxels into their parents `floor(xyz / pool_size)`; subclasses pick the reduction."""

    reduction = None

    def __init__(self, pool_size=2, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(pool_size, int | np.integer) or pool_size < 1:
            raise ValueError(
                f"`pool_size` must be a positive int. Received: pool_size={pool_size!r}"
            )
        self.pool_size = int(pool_size)

    def call(self, voxel_features, voxel_xyz_indices, num_valid_voxels):
        features = ops.convert_to_tensor(voxel_features)
        pooled_xyz, num_valid_pooled, voxel_to_pooled = pool_voxel_indices(
            voxel_xyz_indices, num_valid_voxels, self.pool_size
        )
        batch, num_voxels = ops.shape(features)[0], ops.shape(features)[1]
        channels = features.shape[-1]
        scene = ops.arange(batch, dtype="int32")[:, None]
        # Padding rows go to one extra slot past the last, which is dropped.
        slots = ops.where(
            voxel_to_pooled >= 0, scene * num_voxels + voxel_to_pooled, batch * num_voxels
        )
        pooled = self.reduction(
            ops.reshape(features, (-1, channels)),
            ops.reshape(slots, (-1,)),
            batch * num_voxels + 1,
        )
        pooled = ops.reshape(pooled[:-1], (batch, num_voxels, channels))
        valid = ops.arange(num_voxels, dtype="int32")[None, :] < num_valid_pooled[:, None]
        pooled = ops.where(valid[..., None], pooled, ops.zeros_like(pooled))
        return pooled, pooled_xyz, num_valid_pooled, voxel_to_pooled

    def compute_output_shape(
        self, voxel_features_shape, voxel_xyz_indices_shape=None, num_valid_voxels_shape=None
    ):
        batch, num_voxels = voxel_features_shape[0], voxel_features_shape[1]
        return (
            tuple(voxel_features_shape),
            (batch, num_voxels, 3),
            (batch,),
            (batch, num_voxels),
        )

    def compute_output_spec(self, voxel_features, voxel_xyz_indices, num_valid_voxels):
        batch, num_voxels = voxel_features.shape[0], voxel_features.shape[1]
        return (
            keras.KerasTensor(voxel_features.shape, dtype=self.compute_dtype),
            keras.KerasTensor((batch, num_voxels, 3), dtype="int32"),
            keras.KerasTensor((batch,), dtype="int32"),
            keras.KerasTensor((batch, num_voxels), dtype="int32"),
        )

    def get_config(self):
        config = super().get_config()
        config.update({"pool_size": self.pool_size})
        return config
