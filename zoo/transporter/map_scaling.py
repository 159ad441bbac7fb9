"""Coarser top-down maps: a Ravens map and its pixel labels at an integer fraction of the size.

A Transporter trained on a coarser map (pixel size `factor` times the environment's) costs
about `factor ** 2` times less a step. A coarse pixel covers a `factor x factor` block of fine
pixels: its colour is the block's mean and its height the block's maximum (so that a pick or
place pose sits on top of whatever the block holds). A fine pixel `(row, col)` lies in the coarse
pixel `(row // factor, col // factor)`.
"""

import numpy as np


def map_scale_factor(map_shape, bounds, pixel_size):
    """The integer factor by which a map must shrink to have pixels of `pixel_size` metres.

    Args:
        map_shape: `(H, W, ...)`, the shape of a map covering `bounds`.
        bounds: `((x_min, x_max), (y_min, y_max), (z_min, z_max))` in metres.
        pixel_size: the wanted metres per pixel.

    Returns:
        The int `k > 1` when the map is exactly `k` times as fine as `pixel_size` over
        `bounds` (`H = k * (y_max - y_min) / pixel_size` and the same for `W`), else 1: the
        map is used as it is.
    """
    rows = (bounds[1][1] - bounds[1][0]) / pixel_size
    cols = (bounds[0][1] - bounds[0][0]) / pixel_size
    factor = int(round(map_shape[1] / cols))
    if factor > 1 and map_shape[0] == round(factor * rows) and map_shape[1] == round(factor * cols):
        return factor
    return 1


def downsample_maps(images, factor):
    """Shrinks maps `(..., H, W, 4)` (RGB, then height) by `factor` along both axes.

    Args:
        images: float array `(..., H, W, 4)` with `H` and `W` multiples of `factor`.
        factor: positive int.

    Returns:
        Float32 array `(..., H // factor, W // factor, 4)`: mean colour, maximum height.

    Example:

    ```python
    import numpy as np
    from keras_suite.zoo.transporter.map_scaling import downsample_maps

    downsample_maps(np.zeros((320, 160, 4)), 2).shape  # (160, 80, 4)
    ```
    """
    images = np.asarray(images, dtype=np.float32)
    factor = int(factor)
    if factor < 1 or images.ndim < 3 or images.shape[-1] != 4:
        raise ValueError(
            "`images` must be (..., H, W, 4) and `factor` a positive int. Received: "
            f"images.shape={images.shape}, factor={factor}"
        )
    if factor == 1:
        return images
    height, width = images.shape[-3], images.shape[-2]
    if height % factor or width % factor:
        raise ValueError(
            f"The map's height and width must be multiples of `factor`. Received: "
            f"shape={images.shape}, factor={factor}"
        )
    blocks = images.reshape(
        images.shape[:-3] + (height // factor, factor, width // factor, factor, 4)
    )
    color = blocks[..., :3].mean(axis=(-4, -2))
    heights = blocks[..., 3:].max(axis=(-4, -2))
    return np.concatenate([color, heights], axis=-1).astype(np.float32)


def downsample_pixels(pixels, factor):
    """The coarse `(row, col)` pixels `(..., 2)` holding fine pixels `(..., 2)`."""
    return (np.asarray(pixels) // int(factor)).astype(np.int32)
