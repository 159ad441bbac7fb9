"""TransporterTransport: where to place, by correlating a rotated query crop with the scene."""

import keras
from keras import ops

from keras_suite.layers.transporter.crop_rotation import rotated_crops
from keras_suite.layers.transporter.cross_correlation import METHODS, cross_correlate
from keras_suite.layers.transporter.transporter_resnet import PAPER_FILTERS, TransporterResNet


@keras.saving.register_keras_serializable(package="keras_suite")
class TransporterTransport(keras.layers.Layer):
    """The Transporter's transport module: place logits over pixels x rotations.

    From Zeng et al., "Transporter Networks: Rearranging the Visual World for Robotic
    Manipulation" (CoRL 2020). The map is zero-padded by `crop_size // 2`; a key network
    computes dense features of the whole padded map; the `crop_size x crop_size` window centred
    on the pick pixel is cut out in `num_rotations` rotations (`2 * pi * k / num_rotations`,
    counter-clockwise with columns as x and rows as y) and a query network turns each rotated
    crop into a kernel. Cross-correlating the key features with the kernels gives one logit per
    placement pixel and rotation: the score of moving what is under the pick pixel there, turned
    by that angle. The correlation runs by FFT (`correlation="fft"`, much faster to train) or as
    a direct convolution (`"direct"`); both compute the same numbers.

    Args:
        crop_size: side of the query crop in pixels (64 in the paper).
        num_rotations: number of placement rotations (36 in the paper).
        output_dim: channels of the key and query features (3 in the paper).
        filters: the eight stage widths of both networks (see `TransporterResNet`).
        correlation: `"fft"` or `"direct"`.
        downsampling: how much coarser the networks' deepest features are (see
            `TransporterResNet`; 8 in the paper).
        **kwargs: base layer arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: float tensor `(batch, H, W, channels)`, the (normalized) top-down map.
        pick_pixels: int tensor `(batch, 2)`, the `(row, col)` pick pixel of each example.

    Returns:
        Logits `(batch, H, W, num_rotations)`.

    Example:

    ```python
    import numpy as np
    from keras_suite.layers import TransporterTransport

    transport = TransporterTransport(
        crop_size=16, num_rotations=8, filters=(8, 8, 16, 16, 16, 8, 8, 8)
    )
    image = np.random.rand(2, 40, 24, 4).astype("float32")
    transport(image, np.array([[10, 5], [30, 12]])).shape  # (2, 40, 24, 8)
    ```
    """

    def __init__(
        self,
        crop_size=64,
        num_rotations=36,
        output_dim=3,
        filters=PAPER_FILTERS,
        correlation="fft",
        downsampling=8,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if int(crop_size) < 1 or int(num_rotations) < 1 or int(output_dim) < 1:
            raise ValueError(
                "`crop_size`, `num_rotations` and `output_dim` must be positive ints. Received: "
                f"crop_size={crop_size}, num_rotations={num_rotations}, output_dim={output_dim}"
            )
        if correlation not in METHODS:
            raise ValueError(
                f"`correlation` must be one of {METHODS}. Received: correlation={correlation!r}"
            )
        self.crop_size = int(crop_size)
        self.num_rotations = int(num_rotations)
        self.output_dim = int(output_dim)
        self.filters = tuple(int(f) for f in filters)
        self.correlation = correlation
        self.downsampling = int(downsampling)
        self.key_net = TransporterResNet(
            self.output_dim,
            self.filters,
            self.downsampling,
            dtype=self.dtype_policy,
            name="key_net",
        )
        self.query_net = TransporterResNet(
            self.output_dim,
            self.filters,
            self.downsampling,
            dtype=self.dtype_policy,
            name="query_net",
        )

    def build(self, inputs_shape, pick_pixels_shape=None):
        for net in (self.key_net, self.query_net):
            if not net.built:
                net.build(inputs_shape)

    def call(self, inputs, pick_pixels):
        crop = self.crop_size
        half = crop // 2
        height, width = ops.shape(inputs)[1], ops.shape(inputs)[2]
        padded = ops.pad(inputs, ((0, 0), (half, half), (half, half), (0, 0)))
        keys = self.key_net(padded)[:, : height + crop - 1, : width + crop - 1, :]
        pivots = ops.cast(pick_pixels, "int32") + half
        crops = rotated_crops(padded, pivots, self.num_rotations, crop)
        channels = ops.shape(inputs)[3]
        kernels = self.query_net(ops.reshape(crops, (-1, crop, crop, channels)))
        kernels = ops.reshape(kernels, (-1, self.num_rotations, crop, crop, self.output_dim))
        return cross_correlate(keys, kernels, method=self.correlation)

    def compute_output_shape(self, inputs_shape, pick_pixels_shape=None):
        return tuple(inputs_shape[:-1]) + (self.num_rotations,)

    def get_config(self):
        return dict(
            super().get_config(),
            crop_size=self.crop_size,
            num_rotations=self.num_rotations,
            output_dim=self.output_dim,
            filters=self.filters,
            correlation=self.correlation,
            downsampling=self.downsampling,
        )
