"""Rotated crops around a pivot pixel, and whole-image rotations, with `affine_transform`."""

import math

from keras import ops


def rotation_angles(num_rotations):
    """The `num_rotations` angles `2 * pi * k / num_rotations` (radians), as a Python list."""
    return [2.0 * math.pi * k / num_rotations for k in range(num_rotations)]


def rotation_transforms(pivots, angles, center):
    """`affine_transform` matrices that rotate content by `angles` about `pivots`.

    Pixel coordinates are `(x, y) = (column, row)`. An output pixel `q` samples the input at
    `pivot + R(-angle) (q - center)`, so the output holds the neighbourhood of `pivot`, rotated
    counter-clockwise (in the `(x, y)` frame) by `angle`, with `pivot` landing at `center`.

    Args:
        pivots: float tensor `(n, 2)` of `(row, col)` pixels in the input.
        angles: float tensor `(n,)` of angles in radians, one per pivot.
        center: `(row, col)` of the output pixel that each pivot maps to: a pair, or a tensor
            `(n, 2)`.

    Returns:
        Float32 tensor `(n, 8)`.
    """
    pivots = ops.cast(pivots, "float32")
    angles = ops.cast(angles, "float32")
    center = ops.cast(ops.convert_to_tensor(center), "float32")
    center = ops.broadcast_to(center, ops.shape(pivots))
    cos, sin = ops.cos(angles), ops.sin(angles)
    py, px = pivots[:, 0], pivots[:, 1]
    cy, cx = center[:, 0], center[:, 1]
    zeros = ops.zeros_like(cos)
    return ops.stack(
        [
            cos,
            sin,
            px - cos * cx - sin * cy,
            -sin,
            cos,
            py + sin * cx - cos * cy,
            zeros,
            zeros,
        ],
        axis=-1,
    )


def rotated_crops(images, pivots, num_rotations, crop_size, interpolation="nearest"):
    """Crops `crop_size x crop_size` windows around `pivots`, each in `num_rotations` rotations.

    The crop's pixel `(crop_size // 2, crop_size // 2)` is the pivot; crop `k` shows the pivot's
    neighbourhood rotated counter-clockwise (columns as x, rows as y) by `2 * pi * k /
    num_rotations`. Pixels that fall outside the image are zero.

    Args:
        images: tensor `(batch, H, W, channels)`.
        pivots: int or float tensor `(batch, 2)` of `(row, col)` pixels.
        num_rotations: number of rotations.
        crop_size: side of the square crops.
        interpolation: `"nearest"` or `"bilinear"`.

    Returns:
        Tensor `(batch, num_rotations, crop_size, crop_size, channels)`.

    Example:

    ```python
    import numpy as np
    from keras_suite.layers.transporter.crop_rotation import rotated_crops

    images = np.random.rand(2, 32, 24, 3).astype("float32")
    crops = rotated_crops(images, np.array([[10, 12], [20, 5]]), num_rotations=4, crop_size=8)
    crops.shape  # (2, 4, 8, 8, 3)
    ```
    """
    shape = ops.shape(images)
    if len(shape) != 4:
        raise ValueError(
            f"`images` must have shape (batch, H, W, channels). Received: shape={tuple(shape)}"
        )
    if crop_size > shape[1] or crop_size > shape[2]:
        raise ValueError(
            "`crop_size` must not exceed the image's height or width. Received: "
            f"crop_size={crop_size}, images.shape={tuple(shape)}"
        )
    half = crop_size // 2
    angles = ops.convert_to_tensor(rotation_angles(num_rotations), "float32")
    angles = ops.tile(angles, (shape[0],))
    pivots = ops.repeat(ops.cast(pivots, "float32"), num_rotations, axis=0)
    transforms = rotation_transforms(pivots, angles, (half, half))
    tiled = ops.repeat(images, num_rotations, axis=0)
    rotated = ops.image.affine_transform(
        tiled, transforms, interpolation=interpolation, fill_mode="constant"
    )
    crops = rotated[:, :crop_size, :crop_size, :]
    return ops.reshape(crops, (-1, num_rotations, crop_size, crop_size, shape[3]))


def rotate_images(images, angles, interpolation="nearest"):
    """Rotates each image about its centre by its own angle.

    Args:
        images: tensor `(n, H, W, channels)`.
        angles: float tensor `(n,)` in radians (counter-clockwise, columns as x).
        interpolation: `"nearest"` or `"bilinear"`.

    Returns:
        Tensor `(n, H, W, channels)`.
    """
    shape = ops.shape(images)
    center = ((shape[1] - 1) / 2.0, (shape[2] - 1) / 2.0)
    pivots = ops.zeros_like(ops.stack([angles, angles], axis=-1)) + ops.convert_to_tensor(
        center, "float32"
    )
    transforms = rotation_transforms(pivots, angles, center)
    return ops.image.affine_transform(
        images, transforms, interpolation=interpolation, fill_mode="constant"
    )
