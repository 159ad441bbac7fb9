"""Sub-pixel places: the probability-weighted mean pixel around each place argmax.

A Transporter's place is a pixel of the map it sees; at a map shrunk twice (6.25 mm pixels) the
pixel's centre can be 3 mm from the demonstrated place along each axis, and a place one pixel
off is 6 mm off. The place probabilities around the argmax carry where within and between
those pixels the place lies: their mean over the `3 x 3` pixels around the argmax, at its
rotation, is a fractional pixel that `pixel_to_position` turns into a position between cell
centres.
"""

import numpy as np


def subpixel_places(probabilities, pixels, bins, radius=1):
    """The mean pixel of each place's probabilities around its argmax, at its rotation bin.

    Args:
        probabilities: array `(batch, H, W, num_rotations)`, each example's place probabilities.
        pixels: int array `(batch, 2)`, the `(row, col)` argmaxes.
        bins: int array `(batch,)`, the argmaxes' rotation bins.
        radius: the window is `2 * radius + 1` pixels wide (cut at the map's edges).

    Returns:
        Float array `(batch, 2)`: the `(row, col)` means, weighted by the probabilities.
    """
    probabilities = np.asarray(probabilities, np.float64)
    pixels, bins = np.asarray(pixels), np.asarray(bins)
    height, width = probabilities.shape[1:3]
    means = np.empty((len(pixels), 2))
    for k, ((row, col), rotation) in enumerate(zip(pixels, bins)):
        rows = np.arange(max(row - radius, 0), min(row + radius + 1, height))
        cols = np.arange(max(col - radius, 0), min(col + radius + 1, width))
        window = probabilities[k][np.ix_(rows, cols)][..., rotation]
        means[k] = window.sum(1) @ rows, window.sum(0) @ cols
        means[k] /= window.sum()
    return means
