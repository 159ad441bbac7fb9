"""Random SE(2) transforms of a top-down map and its pixel labels, for Transporter training."""

import math

import tensorflow as tf
from keras import ops

from keras_suite.layers.transporter.crop_rotation import rotation_transforms


def se2_augment(image, pixels, seed, num_candidates=8):
    """Rotates and translates a map and its labelled pixels by one random planar rigid motion.

    The augmentation of Zeng et al. (CoRL 2020): the whole scene turns by a random angle about
    the map's centre and shifts by a random translation, and the pick and place pixels move with
    it, so a relative rotation label stays valid. Of `num_candidates` random angles the first one
    for which a translation keeps every labelled pixel inside the map is used (the identity when
    none does); the translation is then uniform among those that do. Pixels out of the original
    map read as zeros. Written with TensorFlow ops so that it runs inside `tf.data`.

    Args:
        image: float tensor `(H, W, channels)`.
        pixels: int tensor `(num_pixels, 2)` of `(row, col)` pixels inside the map.
        seed: int tensor `(2,)`, the stateless random seed.
        num_candidates: random angles to try.

    Returns:
        `(image, pixels, angle)`: the transformed map, the int32 pixels and the angle used.

    Example:

    ```python
    import numpy as np
    import tensorflow as tf
    from keras_suite.zoo.transporter.se2_augmentation import se2_augment

    image = np.random.rand(32, 16, 4).astype("float32")
    out, pixels, angle = se2_augment(image, np.array([[3, 4], [20, 9]]), tf.constant([1, 2]))
    ```
    """
    image = tf.convert_to_tensor(image)
    if image.shape.rank != 3:
        raise ValueError(f"`image` must have shape (H, W, channels). Received: {image.shape}")
    seed = tf.cast(seed, tf.int32)
    shape = tf.shape(image)
    dims = tf.cast(tf.stack([shape[0], shape[1]]), tf.float32)  # (row, col) sizes
    centre = (dims - 1.0) / 2.0
    points = tf.cast(pixels, tf.float32)  # (n, 2) (row, col)
    angles = tf.random.stateless_uniform((num_candidates,), seed, minval=-math.pi, maxval=math.pi)
    angles = tf.concat([angles, [0.0]], axis=0)
    cos, sin = tf.cos(angles)[:, None], tf.sin(angles)[:, None]
    dy = points[None, :, 0] - centre[0]
    dx = points[None, :, 1] - centre[1]
    # Counter-clockwise with columns as x and rows as y: x' = c x - s y, y' = s x + c y.
    rot_rows = sin * dx + cos * dy + centre[0]
    rot_cols = cos * dx - sin * dy + centre[1]
    rotated = tf.stack([rot_rows, rot_cols], axis=-1)  # (k, n, 2)
    low = -tf.reduce_min(rotated, axis=1)  # translations keeping every pixel >= 0
    high = dims - 1.0 - tf.reduce_max(rotated, axis=1)  # ... and <= size - 1
    feasible = tf.reduce_all(low <= high, axis=-1)
    choice = tf.argmax(tf.cast(feasible, tf.int32), output_type=tf.int32)
    angle = angles[choice]
    fraction = tf.random.stateless_uniform((2,), seed + 1)
    translation = low[choice] + fraction * (high[choice] - low[choice])
    new_pixels = tf.round(rotated[choice] + translation)
    new_pixels = tf.clip_by_value(new_pixels, 0.0, dims - 1.0)
    # An output pixel q samples the input at centre + R(-angle) (q - (centre + translation)).
    transform = rotation_transforms(centre[None], angle[None], (centre + translation)[None])
    out = ops.image.affine_transform(
        image[None], transform, interpolation="nearest", fill_mode="constant"
    )[0]
    return out, tf.cast(new_pixels, tf.int32), angle
