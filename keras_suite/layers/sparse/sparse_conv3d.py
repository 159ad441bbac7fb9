"""Submanifold sparse 3D convolution."""

import keras
import numpy as np
from keras import ops

from keras_suite.ops.sparse_kernel_map import apply_kernel_map, build_kernel_map


@keras.saving.register_keras_serializable(package="keras_suite")
class SparseConv3D(keras.layers.Layer):
    """Submanifold sparse 3D convolution over a padded batch of voxels.

    The convolution of TensorFlow 3D and of Graham et al., "3D Semantic Segmentation with
    Submanifold Sparse Convolutional Networks" (CVPR 2018): outputs exist only at the input's
    active voxels and read only active neighbours, so the active set never dilates. Its weights
    are `[kernel, bias]` with the kernel of shape `(k, k, k, in_channels, filters)`, exactly like
    `keras.layers.Conv3D`: at every active voxel the output equals a dense
    `Conv3D(padding="same")` with the same weights applied to the voxels scattered into a grid
    (x, y, z as the grid's three spatial axes).

    The convolution itself is `keras_suite.ops.apply_kernel_map`, which each backend runs in its
    fastest form: TensorFlow and PyTorch work only on the neighbour pairs that exist, JAX in
    static shapes for `jax.jit`. The neighbour table comes from
    `keras_suite.ops.build_kernel_map`; pass it as `kernel_map` to share one table between all
    convolutions at a resolution level (otherwise each call builds its own). Padding rows (at or
    past `num_valid_voxels`) are ignored on input and are zeros on output.

    Args:
        filters: int, the number of output channels.
        kernel_size: odd int (1, 3, 5, ...), the edge of the cubic window.
        use_bias: bool, whether to add a bias.
        activation: activation applied to valid rows, as in `keras.layers.Conv3D`.
        kernel_initializer: initializer of the kernel.
        bias_initializer: initializer of the bias.
        kernel_regularizer: optional regularizer of the kernel.
        bias_regularizer: optional regularizer of the bias.
        **kwargs: base `Layer` arguments (`name`, `dtype`, `trainable`).

    Call arguments:
        voxel_features: float tensor (batch, num_voxels, in_channels).
        voxel_xyz_indices: int32 tensor (batch, num_voxels, 3), no voxel repeated in a scene.
        num_valid_voxels: int32 tensor (batch,).
        kernel_map: optional int32 tensor (batch, num_voxels, kernel_size**3) from
            `keras_suite.ops.build_kernel_map` for these indices and this `kernel_size`.

    Returns:
        A float tensor (batch, num_voxels, filters), zeros on padding rows.

    Example:

    ```python
    features = np.random.rand(2, 100, 8).astype("float32")
    xyz = np.random.randint(0, 1000, (2, 100, 3)).astype("int32")  # distinct with high odds
    num_valid = np.array([100, 60], "int32")
    layer = keras_suite.layers.SparseConv3D(16, kernel_size=3)
    out = layer(features, xyz, num_valid)  # (2, 100, 16)
    ```
    """

    def __init__(
        self,
        filters,
        kernel_size=3,
        use_bias=True,
        activation=None,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        # TensorFlow's kernel map search (`tf.searchsorted`) is one fast kernel in a graph but an
        # all-pairs comparison under XLA: Keras then compiles models holding this layer as graphs.
        self.supports_jit = keras.config.backend() != "tensorflow"
        if not isinstance(filters, int | np.integer) or filters < 1:
            raise ValueError(f"`filters` must be a positive int. Received: filters={filters!r}")
        if not isinstance(kernel_size, int | np.integer) or kernel_size < 1 or kernel_size % 2 == 0:
            raise ValueError(
                "`kernel_size` must be a positive odd int (submanifold convolutions are "
                f"centred). Received: kernel_size={kernel_size!r}"
            )
        self.filters = int(filters)
        self.kernel_size = int(kernel_size)
        self.use_bias = use_bias
        self.activation = keras.activations.get(activation)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.kernel_regularizer = keras.regularizers.get(kernel_regularizer)
        self.bias_regularizer = keras.regularizers.get(bias_regularizer)

    def build(
        self,
        voxel_features_shape,
        voxel_xyz_indices_shape=None,
        num_valid_voxels_shape=None,
        kernel_map_shape=None,
    ):
        in_channels = voxel_features_shape[-1]
        if in_channels is None or len(voxel_features_shape) != 3:
            raise ValueError(
                "`voxel_features` must have shape (batch, num_voxels, in_channels) with a known "
                f"`in_channels`. Received: shape={tuple(voxel_features_shape)}"
            )
        k = self.kernel_size
        self.kernel = self.add_weight(
            name="kernel",
            shape=(k, k, k, in_channels, self.filters),
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
        )
        if self.use_bias:
            self.bias = self.add_weight(
                name="bias",
                shape=(self.filters,),
                initializer=self.bias_initializer,
                regularizer=self.bias_regularizer,
            )
        else:
            self.bias = None

    def call(self, voxel_features, voxel_xyz_indices, num_valid_voxels, kernel_map=None):
        features = ops.convert_to_tensor(voxel_features)
        num_valid_voxels = ops.convert_to_tensor(num_valid_voxels)
        if kernel_map is None:
            kernel_map = build_kernel_map(voxel_xyz_indices, num_valid_voxels, self.kernel_size)
        in_channels = self.kernel.shape[3]
        if features.shape[-1] not in (None, in_channels):
            raise ValueError(
                f"`voxel_features` must have {in_channels} channels, the number this layer was "
                f"built for. Received: shape={tuple(features.shape)}"
            )
        outputs = apply_kernel_map(features, kernel_map, self.kernel)
        if self.use_bias:
            outputs = outputs + ops.cast(self.bias, outputs.dtype)
        if self.activation is not None:
            outputs = self.activation(outputs)
        num_voxels = ops.shape(features)[1]
        valid = ops.arange(num_voxels, dtype="int32")[None, :] < num_valid_voxels[:, None]
        return ops.where(valid[..., None], outputs, ops.zeros_like(outputs))

    def compute_output_shape(
        self,
        voxel_features_shape,
        voxel_xyz_indices_shape=None,
        num_valid_voxels_shape=None,
        kernel_map_shape=None,
    ):
        return tuple(voxel_features_shape[:-1]) + (self.filters,)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "filters": self.filters,
                "kernel_size": self.kernel_size,
                "use_bias": self.use_bias,
                "activation": keras.activations.serialize(self.activation),
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
                "bias_initializer": keras.initializers.serialize(self.bias_initializer),
                "kernel_regularizer": keras.regularizers.serialize(self.kernel_regularizer),
                "bias_regularizer": keras.regularizers.serialize(self.bias_regularizer),
            }
        )
        return config
