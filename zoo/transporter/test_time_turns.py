"""Test-time augmentation of Transporter maps: the scene turned by quarter turns, and back.

A Transporter trained with random SE(2) augmentation should score a turned scene as the turned
scores of the scene; its errors do not turn with it. Averaging the pick (and then the place)
probabilities of the scene turned by 0, 90, 180 and 270 degrees, each turned back, averages
those errors out. Turning both the pick and the place keeps the place's rotation relative to the
pick, so the rotation bins need no change. Half and quarter turns move pixels exactly; for
quarter turns the maps are first padded to a square with zeros (what the augmentation fills in
too).
"""

import numpy as np

TEST_TIME_TURNS = (1, 2, 4)


def turned_maps(maps, turns):
    """`turns` copies of each map, turned by `360 / turns` degrees apart.

    Args:
        maps: array `(batch, H, W, channels)`.
        turns: 1, 2 or 4 (4: the maps are padded to `S x S`, `S = max(H, W)`, first).

    Returns:
        Array `(turns * batch, H', W', channels)`: first every map unturned, then every map
        turned once (counter-clockwise as `np.rot90` shows it), and so on.
    """
    maps = np.asarray(maps, np.float32)
    (height, width), (top, left) = _padded_size(maps.shape[1:3], turns)
    padded = np.zeros((maps.shape[0], height, width, maps.shape[3]), np.float32)
    padded[:, top : top + maps.shape[1], left : left + maps.shape[2]] = maps
    return np.concatenate(
        [np.rot90(padded, turn * (4 // turns), axes=(1, 2)) for turn in range(turns)]
    )


def turned_pixels(pixels, turns, map_size):
    """Where `(row, col)` pixels `(batch, 2)` of `(H, W)` maps land in `turned_maps`' copies.

    Returns:
        Int32 array `(turns * batch, 2)`, in the order of `turned_maps`.
    """
    (height, width), (top, left) = _padded_size(map_size, turns)
    rows, cols = np.asarray(pixels)[:, 0] + top, np.asarray(pixels)[:, 1] + left
    copies = []
    for turn in range(turns):
        turned_rows, turned_cols, turned_height, turned_width = rows, cols, height, width
        for _ in range(turn * (4 // turns)):  # np.rot90 once: (r, c) -> (W - 1 - c, r)
            turned_rows, turned_cols = turned_width - 1 - turned_cols, turned_rows
            turned_height, turned_width = turned_width, turned_height
        copies.append(np.stack([turned_rows, turned_cols], axis=-1))
    return np.concatenate(copies).astype(np.int32)


def unturned_mean(scores, turns, map_size):
    """The mean over `turned_maps`' copies of per-pixel `scores`, each turned back and cropped.

    Args:
        scores: array `(turns * batch, H', W', channels)` in the order of `turned_maps`.
        turns: as given to `turned_maps`.
        map_size: `(H, W)` of the original maps.

    Returns:
        Array `(batch, H, W, channels)`.
    """
    _, (top, left) = _padded_size(map_size, turns)
    copies = np.split(np.asarray(scores), turns)
    back = [np.rot90(copy, -turn * (4 // turns), axes=(1, 2)) for turn, copy in enumerate(copies)]
    return np.mean(back, axis=0)[:, top : top + map_size[0], left : left + map_size[1]]


def _padded_size(map_size, turns):
    """`(H', W')` of the maps `turned_maps` turns, and the `(top, left)` offset of the map in it."""
    height, width = map_size
    if turns != 4:
        return (height, width), (0, 0)
    size = max(height, width)
    return (size, size), ((size - height) // 2, (size - width) // 2)


def map_probabilities(logits):
    """Softmax of each example's logits `(batch, H, W, channels)` over all its entries."""
    logits = np.asarray(logits, np.float64)
    flat = logits.reshape(logits.shape[0], -1)
    flat = np.exp(flat - flat.max(axis=1, keepdims=True))
    return (flat / flat.sum(axis=1, keepdims=True)).reshape(logits.shape)
