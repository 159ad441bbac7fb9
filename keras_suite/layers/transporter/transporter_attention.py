"""TransporterAttention: where to pick, as logits over pixels (and rotations)."""

import keras
from keras import ops

from keras_suite.layers.transporter.crop_rotation import rotate_images, rotation_angles
from keras_suite.layers.transporter.transporter_resnet import PAPER_FILTERS, TransporterResNet


@keras.saving.register_keras_serializable(package="keras_suite")
class TransporterAttention(keras.layers.Layer):
    """The Transporter's attention module: pick logits over every pixel (and rotation).

    From Zeng et al., "Transporter Networks: Rearranging the Visual World for Robotic
    Manipulation" (CoRL 2020). A fully convolutional ResNet (`TransporterResNet`, 43 layers in
    the paper's configuration) maps the top-down observation to one logit per pixel; a softmax
    over all pixels (and rotations) gives the pick distribution. With `num_rotations > 1`, the
    map is zero-padded to a square, rotated by each of the `num_rotations` angles
    `2 * pi * k / num_rotations` about its centre, scored, and each score map is rotated back,
    so that channel `k` scores picking with the gripper turned by angle `k`.

    Args:
        num_rotations: number of pick rotations (1, the paper's default, for a suction pick).
        filters: the backbone's eight stage widths (see `TransporterResNet`).
        downsampling: how much coarser the backbone's deepest features are (see
            `TransporterResNet`; 8 in the paper).
        **kwargs: base layer arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: float tensor `(batch, H, W, channels)`, the (normalized) top-down map.

    Returns:
        Logits `(batch, H, W, num_rotations)`.

    Example:

    ```python
    import numpy as np
    from keras_suite.layers import TransporterAttention

    attention = TransporterAttention(filters=(8, 8, 16, 16, 16, 8, 8, 8))
    attention(np.zeros((1, 40, 24, 4), "float32")).shape  # (1, 40, 24, 1)
    ```
    """

    def __init__(self, num_rotations=1, filters=PAPER_FILTERS, downsampling=8, **kwargs):
        super().__init__(**kwargs)
        if int(num_rotations) < 1:
            raise ValueError(
                f"`num_rotations` must be a positive int. Received: num_rotations={num_rotations}"
            )
        self.num_rotations = int(num_rotations)
        self.filters = tuple(int(f) for f in filters)
        self.downsampling = int(downsampling)
        self.net = TransporterResNet(
            1, self.filters, self.downsampling, dtype=self.dtype_policy, name="net"
        )

    def build(self, input_shape):
        if not self.net.built:
            self.net.build(input_shape)

    def call(self, inputs):
        if self.num_rotations == 1:
            return self.net(inputs)
        height, width = ops.shape(inputs)[1], ops.shape(inputs)[2]
        side = max(height, width)
        top, left = (side - height) // 2, (side - width) // 2
        square = ops.pad(
            inputs, ((0, 0), (top, side - height - top), (left, side - width - left), (0, 0))
        )
        angles = rotation_angles(self.num_rotations)
        rotated = rotate_images(ops.repeat(square, self.num_rotations, axis=0), angles)
        logits = rotate_images(self.net(rotated), [-angle for angle in angles])
        logits = logits[:, top : top + height, left : left + width, 0]
        logits = ops.reshape(logits, (-1, self.num_rotations, height, width))
        return ops.transpose(logits, (0, 2, 3, 1))

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.num_rotations,)

    def get_config(self):
        return dict(
            super().get_config(),
            num_rotations=self.num_rotations,
            filters=self.filters,
            downsampling=self.downsampling,
        )
