"""The shared machinery of sparse max and average pooling."""

import keras
import numpy as np
import tensorflow as tf

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
        features = tf.convert_to_tensor(voxel_features)
        pooled_xyz, num_valid_pooled, voxel_to_pooled = pool_voxel_indices(
            voxel_xyz_indices, num_valid_voxels, self.pool_size
        )
        shape = tf.shape(features)
        batch, num_voxels, channels = shape[0], shape[1], shape[2]
        scene = tf.range(batch)[:, tf.newaxis] * tf.ones_like(voxel_to_pooled)
        slots = tf.where(voxel_to_pooled >= 0, scene * num_voxels + voxel_to_pooled, -1)
        flat_features = tf.reshape(features, [-1, channels])
        pooled = self.reduction(flat_features, tf.reshape(slots, [-1]), batch * num_voxels)
        pooled = tf.reshape(pooled, [batch, num_voxels, channels])
        valid = tf.range(num_voxels)[tf.newaxis, :] < num_valid_pooled[:, tf.newaxis]
        pooled = tf.where(valid[..., tf.newaxis], pooled, tf.zeros_like(pooled))
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
