"""Batch normalization over the valid rows of a padded voxel batch."""

import keras
from keras import ops

from keras_suite.ops.replicas import cross_replica_sum


@keras.saving.register_keras_serializable(package="keras_suite")
class SparseBatchNormalization(keras.layers.Layer):
    """Batch normalization whose statistics ignore padding voxels.

    Like `keras.layers.BatchNormalization` over the channel axis, but the batch mean and
    variance are taken over the valid rows of a padded voxel batch only (rows before
    `num_valid_voxels`), so that the amount of padding does not change the result; padding rows
    are zeros on output. Statistics are computed in float32 under mixed precision, and over the
    global batch when a `tf.distribute` strategy splits it between replicas.

    Args:
        momentum: momentum of the moving averages.
        epsilon: small float added to the variance.
        center: whether to add the learned offset `beta`.
        scale: whether to multiply by the learned scale `gamma`.
        **kwargs: base `Layer` arguments.

    Call arguments:
        voxel_features: float tensor (batch, num_voxels, channels).
        num_valid_voxels: int32 tensor (batch,).
        training: whether to use (and update) batch statistics.

    Returns:
        A tensor like `voxel_features`, normalized, zeros on padding rows.

    Example:

    ```python
    norm = keras_suite.layers.SparseBatchNormalization()
    out = norm(np.random.rand(2, 50, 8).astype("float32"), np.array([50, 20]), training=True)
    ```
    """

    def __init__(self, momentum=0.99, epsilon=1e-3, center=True, scale=True, **kwargs):
        super().__init__(**kwargs)
        self.momentum = momentum
        self.epsilon = epsilon
        self.center = center
        self.scale = scale

    def build(self, voxel_features_shape, num_valid_voxels_shape=None):
        channels = voxel_features_shape[-1]
        if channels is None:
            raise ValueError(
                "`voxel_features` must have a known channel count. Received: "
                f"shape={tuple(voxel_features_shape)}"
            )
        self.gamma = (
            self.add_weight(name="gamma", shape=(channels,), initializer="ones")
            if self.scale
            else None
        )
        self.beta = (
            self.add_weight(name="beta", shape=(channels,), initializer="zeros")
            if self.center
            else None
        )
        self.moving_mean = self.add_weight(
            name="moving_mean", shape=(channels,), initializer="zeros", trainable=False
        )
        self.moving_variance = self.add_weight(
            name="moving_variance", shape=(channels,), initializer="ones", trainable=False
        )

    def call(self, voxel_features, num_valid_voxels, training=None):
        features = ops.cast(voxel_features, "float32")
        num_voxels = ops.shape(features)[1]
        num_valid_voxels = ops.cast(num_valid_voxels, "int32")
        valid = ops.arange(num_voxels, dtype="int32")[None, :] < num_valid_voxels[:, None]
        weights = ops.cast(valid, "float32")[..., None]
        if training:
            # Moments of the global batch: under a `tf.distribute` strategy each replica holds
            # a share of it, and the sums are all-reduced (as `synchronized=True` does for
            # `keras.layers.BatchNormalization`).
            total = cross_replica_sum(ops.sum(weights))
            count = ops.maximum(total, 1.0)
            mean = cross_replica_sum(ops.sum(features * weights, axis=(0, 1))) / count
            squares = ops.sum(ops.square(features - mean) * weights, axis=(0, 1))
            variance = cross_replica_sum(squares) / count
            has_rows = total > 0
            moving_mean = ops.cast(self.moving_mean, "float32")
            moving_variance = ops.cast(self.moving_variance, "float32")
            new_mean = self.momentum * moving_mean + (1.0 - self.momentum) * mean
            new_variance = self.momentum * moving_variance + (1.0 - self.momentum) * variance
            self.moving_mean.assign(ops.where(has_rows, new_mean, moving_mean))
            self.moving_variance.assign(ops.where(has_rows, new_variance, moving_variance))
        else:
            mean = ops.cast(self.moving_mean, "float32")
            variance = ops.cast(self.moving_variance, "float32")
        outputs = (features - mean) * ops.rsqrt(variance + self.epsilon)
        if self.scale:
            outputs = outputs * ops.cast(self.gamma, "float32")
        if self.center:
            outputs = outputs + ops.cast(self.beta, "float32")
        outputs = outputs * weights
        return ops.cast(outputs, self.compute_dtype)

    def compute_output_shape(self, voxel_features_shape, num_valid_voxels_shape=None):
        return tuple(voxel_features_shape)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "momentum": self.momentum,
                "epsilon": self.epsilon,
                "center": self.center,
                "scale": self.scale,
            }
        )
        return config
