"""Huber loss on the corners of oriented 3D boxes (TensorFlow 3D's box corner loss)."""

import keras
import numpy as np
from keras import ops

_CORNER_SIGNS = np.array(
    [[x, y, z] for x in (-0.5, 0.5) for y in (-0.5, 0.5) for z in (-0.5, 0.5)], "float32"
)


def box_corners_3d(centers, sizes, rotations):
    """The 8 corners of boxes rotated about the up (z) axis, differentiable in every input.

    Args:
        centers: float tensor (..., 3), box centres.
        sizes: float tensor (..., 3), full extents along the box's own x, y, z.
        rotations: float tensor (...), yaw in radians (counter-clockwise about z).

    Returns:
        A float tensor (..., 8, 3); corner `i` has local signs `(x, y, z)` in
        `[-0.5, 0.5]**3` ordered with x slowest and z fastest.

    Example:

    ```python
    corners = keras_suite.losses.box_corners_3d(
        np.zeros((1, 3)), np.array([[2.0, 1.0, 1.0]]), np.array([np.pi / 2])
    )  # corner 0 = (0.5, -1.0, -0.5)
    ```
    """
    sizes = ops.convert_to_tensor(sizes)
    signs = ops.convert_to_tensor(_CORNER_SIGNS, dtype=sizes.dtype)
    local = ops.expand_dims(sizes, -2) * signs
    cos = ops.expand_dims(ops.cos(rotations), -1)
    sin = ops.expand_dims(ops.sin(rotations), -1)
    x = cos * local[..., 0] - sin * local[..., 1]
    y = sin * local[..., 0] + cos * local[..., 1]
    return ops.stack([x, y, local[..., 2]], axis=-1) + ops.expand_dims(centers, -2)


@keras.saving.register_keras_serializable(package="keras_suite")
class BoxCornerLoss3D(keras.losses.Loss):
    """Huber loss of the distances between predicted and true box corners.

    TensorFlow 3D's detection regression loss: both boxes are turned into their 8 corners
    (differentiably, by `box_corners_3d`), the Euclidean distance of each pair of
    corresponding corners goes through a Huber function, and the 8 values are averaged, so that
    centre, size and rotation errors are all measured in one unit, metres. Boxes are packed
    as 7 numbers: `(cx, cy, cz, sx, sy, sz, yaw)`.

    Args:
        delta: the Huber threshold, in the boxes' unit.
        name: name of the loss.
        **kwargs: base `keras.losses.Loss` arguments (`reduction`).

    Call arguments:
        y_true: float tensor (..., 7), ground-truth boxes.
        y_pred: float tensor (..., 7), predicted boxes.
        sample_weight: optional weights (...), e.g. 1 on voxels inside a ground-truth box.

    Returns:
        The reduced loss (the mean over boxes by default).

    Example:

    ```python
    loss = keras_suite.losses.BoxCornerLoss3D(delta=1.0)
    box = np.array([[0.0, 0.0, 0.0, 2.0, 2.0, 2.0, 0.0]])
    loss(box, box + [[0.5, 0, 0, 0, 0, 0, 0]])  # every corner 0.5 away: 0.5 * 0.5**2 = 0.125
    ```
    """

    def __init__(self, delta=1.0, name="box_corner_loss_3d", **kwargs):
        super().__init__(name=name, **kwargs)
        if not delta > 0:
            raise ValueError(f"`delta` must be a positive float. Received: delta={delta!r}")
        self.delta = delta

    def call(self, y_true, y_pred):
        y_true = ops.cast(y_true, "float32")
        y_pred = ops.cast(y_pred, "float32")
        if y_true.shape[-1] != 7 or y_pred.shape[-1] != 7:
            raise ValueError(
                "Boxes must be packed as 7 numbers (cx, cy, cz, sx, sy, sz, yaw) on the last "
                f"axis. Received: y_true shape={y_true.shape}, y_pred shape={y_pred.shape}"
            )
        true_corners = box_corners_3d(y_true[..., :3], y_true[..., 3:6], y_true[..., 6])
        pred_corners = box_corners_3d(y_pred[..., :3], y_pred[..., 3:6], y_pred[..., 6])
        squared = ops.sum(ops.square(pred_corners - true_corners), axis=-1)
        # sqrt has an infinite slope at 0: keep the gradient finite where corners coincide.
        distance = ops.sqrt(ops.maximum(squared, 1e-12))
        huber = ops.where(
            distance <= self.delta,
            0.5 * ops.square(distance),
            self.delta * (distance - 0.5 * self.delta),
        )
        return ops.mean(huber, axis=-1)

    def get_config(self):
        config = super().get_config()
        config.update({"delta": self.delta})
        return config
