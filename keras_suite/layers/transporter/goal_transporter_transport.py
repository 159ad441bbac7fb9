"""GoalTransporterTransport: the transport module conditioned on an image of the goal."""

import keras
from keras import ops

from keras_suite.layers.transporter.crop_rotation import rotated_crops
from keras_suite.layers.transporter.cross_correlation import cross_correlate
from keras_suite.layers.transporter.transporter_resnet import PAPER_FILTERS, TransporterResNet
from keras_suite.layers.transporter.transporter_transport import TransporterTransport


@keras.saving.register_keras_serializable(package="keras_suite")
class GoalTransporterTransport(TransporterTransport):
    """Place logits over pixels x rotations, given the scene and a map of the goal scene.

    The goal-split transport of Seita et al., "Learning to Rearrange Deformable Cables, Fabrics,
    and Bags with Goal-Conditioned Transporter Networks" (ICRA 2021). A third network (`goal_net`,
    the same architecture as the key and query networks) turns the goal map into features that
    gate the others elementwise: the key features of the scene are multiplied by the goal
    features of the whole (padded) goal map, and each rotated query crop's features by the goal
    features of the goal map's crop cut at the same pick pixel and rotation. The gated kernels
    are then cross-correlated with the gated keys as in `TransporterTransport`.

    Args:
        crop_size: side of the query crop in pixels (64 in the paper).
        num_rotations: number of placement rotations (36 in the paper).
        output_dim: channels of the key, query and goal features (3 in the paper).
        filters: the eight stage widths of the three networks (see `TransporterResNet`).
        correlation: `"fft"` or `"direct"`.
        downsampling: how much coarser the networks' deepest features are (see
            `TransporterResNet`; 8 in the paper).
        **kwargs: base layer arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: float tensor `(batch, H, W, channels)`, the (normalized) top-down map.
        pick_pixels: int tensor `(batch, 2)`, the `(row, col)` pick pixel of each example.
        goal: float tensor shaped like `inputs`, the (normalized) map of the goal scene.

    Returns:
        Logits `(batch, H, W, num_rotations)`.

    Example:

    ```python
    import numpy as np
    from keras_suite.layers import GoalTransporterTransport

    transport = GoalTransporterTransport(
        crop_size=16, num_rotations=8, filters=(8, 8, 16, 16, 16, 8, 8, 8)
    )
    image = np.random.rand(2, 40, 24, 4).astype("float32")
    goal = np.random.rand(2, 40, 24, 4).astype("float32")
    transport(image, np.array([[10, 5], [30, 12]]), goal).shape  # (2, 40, 24, 8)
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
        super().__init__(
            crop_size, num_rotations, output_dim, filters, correlation, downsampling, **kwargs
        )
        self.goal_net = TransporterResNet(
            self.output_dim,
            self.filters,
            self.downsampling,
            dtype=self.dtype_policy,
            name="goal_net",
        )

    def build(self, inputs_shape, pick_pixels_shape=None, goal_shape=None):
        super().build(inputs_shape)
        if not self.goal_net.built:
            self.goal_net.build(goal_shape or inputs_shape)

    def call(self, inputs, pick_pixels, goal):
        if tuple(goal.shape[1:]) != tuple(inputs.shape[1:]):
            raise ValueError(
                "`goal` must be a map shaped like `inputs`. Received: "
                f"inputs.shape={tuple(inputs.shape)}, goal.shape={tuple(goal.shape)}"
            )
        crop = self.crop_size
        half = crop // 2
        height, width = ops.shape(inputs)[1], ops.shape(inputs)[2]
        channels = ops.shape(inputs)[3]
        paddings = ((0, 0), (half, half), (half, half), (0, 0))
        padded = ops.pad(inputs, paddings)
        padded_goal = ops.pad(goal, paddings)
        keys = self.key_net(padded) * self.goal_net(padded_goal)
        keys = keys[:, : height + crop - 1, : width + crop - 1, :]
        pivots = ops.cast(pick_pixels, "int32") + half
        # One rotation pass cuts the scene's and the goal's crops alike.
        crops = rotated_crops(
            ops.concatenate([padded, padded_goal], axis=-1), pivots, self.num_rotations, crop
        )
        crops = ops.reshape(crops, (-1, crop, crop, 2 * channels))
        kernels = self.query_net(crops[..., :channels]) * self.goal_net(crops[..., channels:])
        kernels = ops.reshape(kernels, (-1, self.num_rotations, crop, crop, self.output_dim))
        return cross_correlate(keys, kernels, method=self.correlation)

    def compute_output_shape(self, inputs_shape, pick_pixels_shape=None, goal_shape=None):
        return tuple(inputs_shape[:-1]) + (self.num_rotations,)
