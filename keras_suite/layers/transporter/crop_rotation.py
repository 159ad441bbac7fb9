"""Rotated crops around a pivot pixel, and whole-image rotations, alike on every backend.

Both sample the input at the nearest pixel exactly as TensorFlow's `ImageProjectiveTransformV3`
does (`tensorflow/core/kernels/image/image_ops.h`), so the presets trained on TensorFlow give the
same outputs under JAX and PyTorch, whose `affine_transform` rounds points on .5 otherwise: the
source point `(x, y) = (a0 * col + a1 * row + a2, b0 * col + b1 * row + b2)` in float32 (products
rounded, then summed left to right), rounded half away from zero (`std::round`) to a pixel,
zero where that pixel is off the image (the kernel as TensorFlow 2.21 ships it).
"""

import math

import numpy as np
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


def float32_sin_cos(angles):
    """Float32 sine and cosine of `angles`, bit for bit as TensorFlow's CPU kernels give them.

    TensorFlow's `Sin`/`Cos` kernels evaluate Eigen's `psincos_float`
    (`Eigen/src/Core/arch/Default/GenericPacketMathFunctions.h`, the path without fused
    multiply-add that TensorFlow's x86 wheels run): a four-step Cody-Waite reduction by pi/2 and
    two minimax polynomials. JAX, PyTorch and NumPy round some results differently by one unit
    in the last place, which flips nearest-pixel sampling at points that fall on .5 (a 30 degree
    turn has `sin = 0.5`). Computing the constants here gives every backend the same bits. Valid
    for `|angle| < 18838` (Eigen's threshold for its large-argument reduction).

    Args:
        angles: float array-like of angles in radians.

    Returns:
        `(sin, cos)`, two float32 NumPy arrays of the shape of `angles`.
    """
    f = np.float32
    angles = np.asarray(angles, "float32")
    x = np.abs(angles)
    y = x * f(0.636619746685028076171875)
    magic = f(12582912.0)  # 1.5 * 2**23: adding it rounds to an integer held in the low bits.
    rounded = y + magic
    quadrant = rounded.view("int32")
    y = rounded - magic
    for step in (
        -1.5703125,
        -0.000483989715576171875,
        1.62865035235881805419921875e-07,
        5.5644315544167710640977020375430583953857421875e-11,
    ):
        x = y * f(step) + x
    x2 = x * x
    cos_poly = f(2.4372266125283204019069671630859375e-05)
    for coefficient in (-0.00138865201734006404876708984375, 0.041666619479656219482421875):
        cos_poly = cos_poly * x2 + f(coefficient)
    cos_poly = (cos_poly * x2 + f(-0.5)) * x2 + f(1.0)
    sin_poly = f(-0.0001959234114083702898469196984621021329076029360294342041015625)
    for coefficient in (
        0.0083326873655616851693794799871284340042620897293090820312500000,
        -0.1666666203982298255503735617821803316473960876464843750000000000,
    ):
        sin_poly = sin_poly * x2 + f(coefficient)
    sin_poly = (sin_poly * x2) * x + x
    even = (quadrant & 1) == 0
    sin = np.where(even, sin_poly, cos_poly)
    cos = np.where(even, cos_poly, sin_poly)
    sin = np.where(((quadrant >> 1) & 1).astype(bool) ^ np.signbit(angles), -sin, sin)
    cos = np.where((((quadrant + 1) >> 1) & 1).astype(bool), -cos, cos)
    return sin.astype("float32"), cos.astype("float32")


def _sample_nearest(images, rows, cols):
    """Gathers `images` at float32 source points, by TensorFlow's nearest-pixel rule.

    Args:
        images: tensor `(n, H, W, channels)`.
        rows: float32 tensor `(n, h, w)` of source rows `y`, one per output pixel.
        cols: float32 tensor `(n, h, w)` of source columns `x`.

    Returns:
        Tensor `(n, h, w, channels)`: the pixel at `(round(y), round(x))`, zero off the image.
    """
    shape = ops.shape(images)
    height, width, channels = shape[1], shape[2], shape[3]

    def round_half_away(t):
        magnitude = ops.abs(t)
        floor = ops.floor(magnitude)
        rounded = ops.cast(floor, "int32") + ops.cast(magnitude - floor >= 0.5, "int32")
        return ops.where(t < 0.0, -rounded, rounded)

    row, col = round_half_away(rows), round_half_away(cols)
    inside = ops.logical_and(
        ops.logical_and(row >= 0, row < height), ops.logical_and(col >= 0, col < width)
    )
    row, col = ops.where(inside, row, 0), ops.where(inside, col, 0)
    image = ops.reshape(ops.arange(ops.shape(rows)[0], dtype="int32"), (-1, 1, 1))
    flat = ops.reshape(images, (-1, channels))
    values = ops.take(flat, (image * height + row) * width + col, axis=0)
    return ops.where(ops.expand_dims(inside, -1), values, ops.zeros_like(values))


def _turned_grid(angles, size):
    """Float32 `(cos * col + sin * row, cos * row - sin * col)` on a `size` grid, per angle.

    Returns:
        `(offset_x, offset_y, sin, cos)`: NumPy float32 `(n, h, w)` grids and `(n,)` values, the
        grids rounded as TensorFlow's kernel rounds `a0 * col + a1 * row` and
        `b0 * col + b1 * row`.
    """
    sin, cos = float32_sin_cos(angles)
    rows, cols = np.meshgrid(
        np.arange(size[0], dtype="float32"), np.arange(size[1], dtype="float32"), indexing="ij"
    )
    cos, sin = cos[:, None, None], sin[:, None, None]
    offset_x = cos * cols + sin * rows
    offset_y = -sin * cols + cos * rows
    return offset_x, offset_y, sin[:, 0, 0], cos[:, 0, 0]


def rotated_crops(images, pivots, num_rotations, crop_size):
    """Crops `crop_size x crop_size` windows around `pivots`, each in `num_rotations` rotations.

    The crop's pixel `(crop_size // 2, crop_size // 2)` is the pivot; crop `k` shows the pivot's
    neighbourhood rotated counter-clockwise (columns as x, rows as y) by `2 * pi * k /
    num_rotations`, sampled at the nearest pixel by TensorFlow's rule (see the module's
    docstring) on every backend. Pixels that fall outside the image are zero.

    Args:
        images: tensor `(batch, H, W, channels)`.
        pivots: int or float tensor `(batch, 2)` of `(row, col)` pixels.
        num_rotations: number of rotations.
        crop_size: side of the square crops.

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
    half = np.float32(crop_size // 2)
    offset_x, offset_y, sin, cos = _turned_grid(rotation_angles(num_rotations), (crop_size,) * 2)
    # The transform's translation, `pivot - R(-angle) (half, half)`, as `rotation_transforms`
    # rounds it: `(px - cos * half) - sin * half` and `(py + sin * half) - cos * half`.
    pivots = ops.cast(pivots, "float32")
    cos_half, sin_half = ops.convert_to_tensor(cos * half), ops.convert_to_tensor(sin * half)
    shift_x = ops.expand_dims(pivots[:, 1], 1) - cos_half - sin_half
    shift_y = ops.expand_dims(pivots[:, 0], 1) + sin_half - cos_half
    cols = ops.convert_to_tensor(offset_x) + shift_x[:, :, None, None]
    rows = ops.convert_to_tensor(offset_y) + shift_y[:, :, None, None]
    size = (-1, crop_size, crop_size)
    tiled = ops.repeat(images, num_rotations, axis=0)
    crops = _sample_nearest(tiled, ops.reshape(rows, size), ops.reshape(cols, size))
    return ops.reshape(crops, (-1, num_rotations, crop_size, crop_size, shape[3]))


def rotate_images(images, angles):
    """Rotates images about their centre, image `i` by `angles[i % len(angles)]`.

    Sampled at the nearest pixel by TensorFlow's rule (see the module's docstring) on every
    backend; pixels from outside the image are zero.

    Args:
        images: tensor `(n, H, W, channels)`, `n` a multiple of `len(angles)`.
        angles: sequence of Python or NumPy angles in radians (counter-clockwise, columns as x).

    Returns:
        Tensor `(n, H, W, channels)`.

    Example:

    ```python
    import math
    import numpy as np
    from keras_suite.layers.transporter.crop_rotation import rotate_images

    images = np.random.rand(4, 6, 6, 1).astype("float32")
    rotate_images(images, [0.0, math.pi / 2]).shape  # (4, 6, 6, 1)
    ```
    """
    shape = ops.shape(images)
    height, width = shape[1], shape[2]
    offset_x, offset_y, sin, cos = _turned_grid(angles, (height, width))
    centre_y, centre_x = np.float32((height - 1) / 2.0), np.float32((width - 1) / 2.0)
    # `rotation_transforms` with the centre as pivot and as target, rounded as it rounds.
    shift_x = (centre_x - cos * centre_x) - sin * centre_y
    shift_y = (centre_y + sin * centre_x) - cos * centre_y
    repeats = (shape[0] // len(angles), 1, 1)
    cols = ops.tile(ops.convert_to_tensor(offset_x + shift_x[:, None, None]), repeats)
    rows = ops.tile(ops.convert_to_tensor(offset_y + shift_y[:, None, None]), repeats)
    return _sample_nearest(images, rows, cols)
