"""Synthetic pick-and-place maps for the TransporterNet tests: a block and its target square."""

import numpy as np


def synthetic_scenes(count, shape=(40, 24), seed=0):
    """Maps with a red 5x5 block (2 cm tall) and a flat green 7x7 target elsewhere.

    Returns `(images (count, H, W, 4), pick_pixels, place_pixels, rotation_bins)`: the demo picks
    the block's centre and places it on the target's centre, unrotated.
    """
    rng = np.random.default_rng(seed)
    images = np.zeros((count, *shape, 4), "float32")
    images[..., :3] = 40.0
    picks, places = [], []
    for image in images:
        while True:
            pick = rng.integers(4, np.array(shape) - 4)
            place = rng.integers(4, np.array(shape) - 4)
            if np.abs(pick - place).max() > 7:
                break
        image[place[0] - 3 : place[0] + 4, place[1] - 3 : place[1] + 4, :3] = (30, 200, 30)
        image[pick[0] - 2 : pick[0] + 3, pick[1] - 2 : pick[1] + 3] = (220, 30, 30, 0.02)
        picks.append(pick)
        places.append(place)
    return images, np.array(picks), np.array(places), np.zeros(count, "int32")
