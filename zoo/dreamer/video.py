"""Writes open-loop video predictions as a GIF and a PNG strip."""

import numpy as np
from PIL import Image


def prediction_frames(truth, prediction, max_sequences=4):
    """Frames of (truth / model / error) rows, sequences side by side: (time, H', W', 3)."""
    truth = np.asarray(truth)[:max_sequences].astype(np.int16)
    prediction = np.asarray(prediction)[:max_sequences].astype(np.int16)
    error = np.abs(truth - prediction)
    rows = np.concatenate([truth, prediction, error], axis=2)  # (B, T, 3H, W, C)
    frames = np.concatenate(list(rows), axis=2)  # (T, 3H, B*W, C)
    frames = np.clip(frames, 0, 255).astype(np.uint8)
    if frames.shape[-1] == 1:
        frames = np.repeat(frames, 3, axis=-1)
    return frames


def save_video_prediction(truth, prediction, path_prefix, fps=10, strip_every=5):
    """Saves `path_prefix.gif` (all frames) and `path_prefix.png` (every `strip_every`-th frame
    side by side); returns the two paths."""
    frames = prediction_frames(truth, prediction)
    images = [Image.fromarray(f) for f in frames]
    gif = f"{path_prefix}.gif"
    images[0].save(gif, save_all=True, append_images=images[1:], duration=int(1000 / fps), loop=0)
    strip = np.concatenate(list(frames[::strip_every]), axis=1)
    png = f"{path_prefix}.png"
    Image.fromarray(strip).save(png)
    return gif, png
