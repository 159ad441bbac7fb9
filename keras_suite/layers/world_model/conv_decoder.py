"""DreamerV2's transposed-convolution image decoder."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="keras_suite")
class ConvDecoder(keras.layers.Layer):
    """Decodes model features into 64x64 images (the mean of a unit-variance Gaussian).

    DreamerV2's decoder: a dense layer to 32 * depth values seen as a 1x1 map, then transposed
    convolutions with kernels 5, 5, 6, 6, stride 2 and "valid" padding (4 depth, 2 depth, depth,
    then `channels`), giving 5, 13, 30 and 64 pixels a side. Any leading axes are kept.

    The first transposed convolution sees a 1x1 map, where it is exactly a matrix product of the
    features with the kernel; it runs as one (TensorFlow's CPU transposed convolution is 30 to
    60 times slower on this shape). The weights keep the `Conv2DTranspose` layout.

    Args:
        channels: channels of the output image (1 for grayscale, 3 for RGB).
        depth: the depth multiplier (48 in the paper).
        activation: activation of the hidden layers.
        **kwargs: base layer arguments (`name`, `dtype`).

    Call arguments:
        features: tensor of shape (..., feature_size).

    Returns:
        Images of shape (..., 64, 64, channels).

    Example:

    ```python
    decoder = ConvDecoder(channels=1, depth=8)
    images = decoder(np.zeros((2, 5, 32), "float32"))  # (2, 5, 64, 64, 1)
    ```
    """

    def __init__(self, channels=1, depth=48, activation="elu", **kwargs):
        super().__init__(**kwargs)
        for name, value in (("channels", channels), ("depth", depth)):
            if not isinstance(value, int) or value <= 0:
                raise ValueError(f"`{name}` must be a positive integer. Received: {name}={value!r}")
        self.channels = channels
        self.depth = depth
        self.activation = activation
        policy = self.dtype_policy
        self.dense = keras.layers.Dense(32 * depth, dtype=policy)
        self.deconvs = [
            keras.layers.Conv2DTranspose(filters, kernel, strides=2, activation=act, dtype=policy)
            for filters, kernel, act in (
                (4 * depth, 5, activation),
                (2 * depth, 5, activation),
                (depth, 6, activation),
                (channels, 6, None),
            )
        ]

    def build(self, features_shape):
        self.dense.build((None, features_shape[-1]))
        shape = (None, 1, 1, 32 * self.depth)
        for deconv in self.deconvs:
            deconv.build(shape)
            shape = deconv.compute_output_shape(shape)

    def compute_output_shape(self, features_shape):
        return tuple(features_shape[:-1]) + (64, 64, self.channels)

    def call(self, features):
        shape = ops.shape(features)
        x = ops.reshape(self.dense(features), (-1, 32 * self.depth))
        first = self.deconvs[0]
        kernel = ops.cast(first.kernel, x.dtype)  # (k, k, filters, 32 * depth)
        size, filters = kernel.shape[0], kernel.shape[2]
        kernel = ops.reshape(ops.transpose(kernel, (3, 0, 1, 2)), (32 * self.depth, -1))
        x = ops.reshape(ops.matmul(x, kernel), (-1, size, size, filters))
        x = first.activation(x + ops.cast(first.bias, x.dtype))
        for deconv in self.deconvs[1:]:
            x = deconv(x)
        return ops.reshape(x, tuple(shape[:-1]) + (64, 64, self.channels))

    def get_config(self):
        return dict(
            super().get_config(),
            channels=self.channels,
            depth=self.depth,
            activation=self.activation,
        )
