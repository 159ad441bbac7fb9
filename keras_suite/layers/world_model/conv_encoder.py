"""DreamerV2's convolutional image encoder."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="keras_suite")
class ConvEncoder(keras.layers.Layer):
    """Four stride-2 convolutions that embed 64x64 images, DreamerV2's encoder layout.

    Channels double at each layer (depth, 2 depth, 4 depth, 8 depth) with 4x4 kernels and "valid"
    padding, so a 64x64 image becomes a 2x2x(8 depth) map, flattened into a vector of
    32 * depth values (1536 for the paper's depth 48). Any leading axes (batch, time) are kept.

    Args:
        depth: channels of the first layer (48 in the paper).
        kernel_size: kernel size of every layer.
        activation: activation of every layer.
        **kwargs: base layer arguments (`name`, `dtype`).

    Call arguments:
        images: float images of shape (..., height, width, channels), e.g. scaled to [-0.5, 0.5].

    Returns:
        Embeddings of shape (..., embed_dim).

    Example:

    ```python
    encoder = ConvEncoder(depth=8)
    embed = encoder(np.zeros((2, 5, 64, 64, 1), "float32"))  # (2, 5, 256)
    ```
    """

    def __init__(self, depth=48, kernel_size=4, activation="elu", **kwargs):
        super().__init__(**kwargs)
        if not isinstance(depth, int) or depth <= 0:
            raise ValueError(f"`depth` must be a positive integer. Received: depth={depth!r}")
        self.depth = depth
        self.kernel_size = kernel_size
        self.activation = activation
        self.convs = [
            keras.layers.Conv2D(
                depth * 2**i, kernel_size, strides=2, activation=activation, dtype=self.dtype_policy
            )
            for i in range(4)
        ]

    def build(self, images_shape):
        if len(images_shape) < 4:
            raise ValueError(
                "`images` must have shape (..., height, width, channels). Received: "
                f"shape={tuple(images_shape)}"
            )
        size = min(images_shape[-3], images_shape[-2])
        for _ in self.convs:
            size = (size - self.kernel_size) // 2 + 1
        if size <= 0:
            raise ValueError(
                f"`images` of size {tuple(images_shape[-3:-1])} are too small for four stride-2 "
                f"convolutions of kernel {self.kernel_size}; use 64x64. "
                f"Received: shape={tuple(images_shape)}"
            )
        shape = (None,) + tuple(images_shape[-3:])
        for conv in self.convs:
            conv.build(shape)
            shape = conv.compute_output_shape(shape)
        self._out_shape = shape[1:]

    def compute_output_shape(self, images_shape):
        return tuple(images_shape[:-3]) + (
            int(self._out_shape[0] * self._out_shape[1] * self._out_shape[2]),
        )

    def call(self, images):
        shape = ops.shape(images)
        x = ops.reshape(images, (-1,) + tuple(images.shape[-3:]))
        for conv in self.convs:
            x = conv(x)
        return ops.reshape(x, tuple(shape[:-3]) + (-1,))

    def get_config(self):
        return dict(
            super().get_config(),
            depth=self.depth,
            kernel_size=self.kernel_size,
            activation=self.activation,
        )
