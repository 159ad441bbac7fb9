"""The Transporter's loss: cross-entropy over every pixel x rotation of a logit map."""

from keras import ops


def pixel_rotation_cross_entropy(logits, pixels, rotation_bins=None):
    """Softmax cross-entropy over all `H * W * R` entries of a logit map, averaged over a batch.

    The demonstration's pixel and rotation form a one-hot label over the whole map, as in Zeng
    et al. (CoRL 2020). The softmax runs in float32 whatever the logits' dtype.

    Args:
        logits: tensor `(batch, H, W, R)`.
        pixels: int tensor `(batch, 2)` of `(row, col)` labels.
        rotation_bins: int tensor `(batch,)` of rotation labels in `[0, R)`; `None` means bin 0.

    Returns:
        A float32 scalar.

    Example:

    ```python
    import numpy as np
    from keras_suite.zoo.transporter.transporter_loss import pixel_rotation_cross_entropy

    logits = np.zeros((1, 4, 4, 2), "float32")
    pixel_rotation_cross_entropy(logits, np.array([[1, 2]]), np.array([1]))  # log(32)
    ```
    """
    shape = ops.shape(logits)
    if len(shape) != 4:
        raise ValueError(
            f"`logits` must have shape (batch, H, W, R). Received: shape={tuple(shape)}"
        )
    width, num_rotations = shape[2], shape[3]
    pixels = ops.cast(pixels, "int32")
    if rotation_bins is None:
        rotation_bins = ops.zeros_like(pixels[:, 0])
    index = (pixels[:, 0] * width + pixels[:, 1]) * num_rotations + ops.cast(rotation_bins, "int32")
    flat = ops.reshape(ops.cast(logits, "float32"), (shape[0], -1))
    label_logit = ops.take_along_axis(flat, index[:, None], axis=1)[:, 0]
    return ops.mean(ops.logsumexp(flat, axis=1) - label_logit)
