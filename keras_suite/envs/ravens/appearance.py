"""What an agent that sees only the fused maps sees of each object class in a Ravens scene."""

import numpy as np

#: Bins per colour channel of `appearance_statistics`' histograms (32 grey levels each).
HISTOGRAM_BINS = 8


def appearance_statistics(colormap, heightmap, segmap, classes):
    """Colour, footprint and height statistics of each object class in a fused map.

    A drift in how a scene looks (a colour, a size, a height) shows in these numbers, so they
    can be compared with reference values measured on another rendering of the same scene.

    Args:
        colormap: uint8 `(rows, cols, 3)` fused colour map.
        heightmap: float `(rows, cols)` heights in metres above the table.
        segmap: int `(rows, cols)` body id seen at each pixel (-1 where nothing was seen).
        classes: `{name: body ids}`. Pixels whose id is in no class (and seen pixels only)
            form the class "background".

    Returns:
        `{name: stats}` for "background" and each class that covers at least one pixel, where
        `stats` holds `pixels` (int), `count` (number of body ids in the class),
        `footprint_pixels` (pixels per body), `color_mean` (3 floats, 0-255),
        `color_histogram` (3 lists of `HISTOGRAM_BINS` fractions, one per channel),
        `height_mean` and `height_max` (metres).

    Example:

    >>> colormap = np.zeros((4, 4, 3), np.uint8); colormap[:2] = 200
    >>> heightmap = np.zeros((4, 4), np.float32); heightmap[:2] = 0.04
    >>> segmap = np.full((4, 4), 1); segmap[:2] = 5
    >>> stats = appearance_statistics(colormap, heightmap, segmap, {"block": [5]})
    >>> stats["block"]["pixels"], stats["block"]["color_mean"]
    (8, [200.0, 200.0, 200.0])
    """
    colormap = np.asarray(colormap)
    heightmap = np.asarray(heightmap)
    segmap = np.asarray(segmap)
    if colormap.shape[:2] != segmap.shape or heightmap.shape != segmap.shape:
        raise ValueError(
            "`colormap` (rows, cols, 3), `heightmap` and `segmap` (rows, cols) must cover the "
            f"same pixels. Received shapes: {colormap.shape}, {heightmap.shape}, {segmap.shape}"
        )
    claimed = np.zeros(segmap.shape, dtype=bool)
    masks = {}
    for name, ids in classes.items():
        ids = list(ids)
        mask = np.isin(segmap, ids)
        masks[name] = (mask, len(ids))
        claimed |= mask
    masks = {"background": ((segmap >= 0) & ~claimed, 1), **masks}
    stats = {}
    for name, (mask, count) in masks.items():
        pixels = int(mask.sum())
        if not pixels:
            continue
        colors = colormap[mask].astype(np.float64)
        heights = heightmap[mask].astype(np.float64)
        histogram = [
            (
                np.bincount(
                    channel.astype(np.int64) * HISTOGRAM_BINS // 256, minlength=HISTOGRAM_BINS
                )
                / pixels
            ).tolist()
            for channel in colors.T
        ]
        stats[name] = {
            "pixels": pixels,
            "count": count,
            "footprint_pixels": pixels / max(count, 1),
            "color_mean": colors.mean(axis=0).tolist(),
            "color_histogram": histogram,
            "height_mean": float(heights.mean()),
            "height_max": float(heights.max()),
        }
    return stats
