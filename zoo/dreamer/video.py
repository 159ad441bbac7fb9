"""Writes observation frames as GIFs: open-loop video predictions and played episodes."""

import numpy as np
from PIL import Image


def prediction_frames(truth, prediction, max_sequences=4):
    """Frames of (truth / model / error) rows, sequences side by side: (time, H', W', 3),
    shown as `display_frames` does."""
    truth = np.asarray(truth)[:max_sequences].astype(np.int16)
    prediction = np.asarray(prediction)[:max_sequences].astype(np.int16)
    error = np.abs(truth - prediction)
    rows = np.concatenate([truth, prediction, error], axis=2)  # (B, T, 3H, W, C)
    frames = np.concatenate(list(rows), axis=2)  # (T, 3H, B*W, C)
    return display_frames(np.clip(frames, 0, 255).astype(np.uint8), small=3 * 32)


def display_frames(frames, small=32):
    """RGB frames to show observations (time, H, W, C) of uint8 values in [0, 255].

    One channel is shown as gray, three as RGB, any other number as colours (`_colour`);
    frames under `small` pixels high are enlarged 4 times (MinAtar's 10x10 grids)."""
    frames = np.asarray(frames)
    if frames.shape[-1] == 1:
        frames = np.repeat(frames, 3, axis=-1)
    elif frames.shape[-1] != 3:
        frames = _colour(frames)
    if frames.shape[1] < small:
        frames = np.repeat(np.repeat(frames, 4, axis=1), 4, axis=2)
    return frames


def _colour(frames):
    """RGB frames of channel stacks (e.g. MinAtar's object channels): every channel its own
    hue from matplotlib's `tab10` cycle, a pixel the brightest of its channels' colours."""
    hues = np.array(
        [
            [31, 119, 180],
            [255, 127, 14],
            [44, 160, 44],
            [214, 39, 40],
            [148, 103, 189],
            [140, 86, 75],
            [227, 119, 194],
            [127, 127, 127],
            [188, 189, 34],
            [23, 190, 207],
        ],
        np.float32,
    )
    channels = frames.shape[-1]
    palette = hues[np.arange(channels) % len(hues)]  # (channels, 3)
    weighted = frames[..., :, None].astype(np.float32) / 255.0 * palette  # (..., C, 3)
    return weighted.max(axis=-2).astype(np.uint8)


def save_video_prediction(truth, prediction, path_prefix, fps=10, strip_every=5):
    """Saves `path_prefix.gif` (all frames) and `path_prefix.png` (every `strip_every`-th frame
    side by side); returns the two paths."""
    frames = prediction_frames(truth, prediction)
    gif = save_gif(frames, f"{path_prefix}.gif", fps=fps)
    strip = np.concatenate(list(frames[::strip_every]), axis=1)
    png = f"{path_prefix}.png"
    Image.fromarray(strip).save(png)
    return gif, png


def save_gif(frames, path, fps=10):
    """Saves RGB frames (time, H, W, 3) of uint8 as a looping GIF at `path`; returns `path`."""
    images = [Image.fromarray(np.asarray(f)) for f in frames]
    images[0].save(path, save_all=True, append_images=images[1:], duration=int(1000 / fps), loop=0)
    return path
