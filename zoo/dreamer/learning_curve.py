"""Plots a DreamerV2 run's learning curve: episode returns against environment frames."""

import json

import numpy as np


def learning_curve(metrics_path, frames_per_step=1, window=20):
    """The training and evaluation returns of a `metrics.jsonl` against environment frames.

    Args:
        metrics_path: the `metrics.jsonl` that `Trainer` writes in its logdir.
        frames_per_step: environment frames per agent step (4 on Atari, 1 on MinAtar).
        window: episodes in the running mean of the training returns.

    Returns:
        A dict of arrays: `frames` and `returns` (one per training episode, at the frame where
        it ended), `mean_returns` (the mean of the last `window` training episodes), and
        `eval_frames` and `eval_returns` (the evaluations during training).

    Example:

    ```python
    curve = learning_curve("runs/breakout/metrics.jsonl")
    curve["frames"][-1], curve["mean_returns"][-1]
    ```
    """
    with open(metrics_path) as f:
        rows = [json.loads(line) for line in f]

    def series(key):
        points = [(r["step"] * frames_per_step, r[key]) for r in rows if key in r]
        frames, values = zip(*points) if points else ((), ())
        return np.asarray(frames, np.int64), np.asarray(values, np.float64)

    frames, returns = series("episode/return")
    sums = np.concatenate([[0.0], np.cumsum(returns)])
    ends = np.arange(1, len(returns) + 1)
    starts = np.maximum(ends - window, 0)
    eval_frames, eval_returns = series("eval/return")
    return {
        "frames": frames,
        "returns": returns,
        "mean_returns": (sums[ends] - sums[starts]) / (ends - starts),
        "eval_frames": eval_frames,
        "eval_returns": eval_returns,
    }


def plot_learning_curve(metrics_path, png_path, frames_per_step=1, window=20, title=None):
    """Writes the learning curve of a `metrics.jsonl` (see `learning_curve`) as a PNG.

    Args:
        metrics_path: the `metrics.jsonl` that `Trainer` writes in its logdir.
        png_path: where to write the figure.
        frames_per_step: environment frames per agent step (4 on Atari, 1 on MinAtar).
        window: episodes in the running mean of the training returns.
        title: the figure's title.

    Returns:
        `png_path`.

    Example:

    ```python
    plot_learning_curve("runs/breakout/metrics.jsonl", "runs/breakout/learning_curve.png")
    ```
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    curve = learning_curve(metrics_path, frames_per_step, window)
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(curve["frames"], curve["returns"], ".", color="0.75", label="training episode")
    ax.plot(curve["frames"], curve["mean_returns"], label=f"mean of the last {window}")
    if len(curve["eval_frames"]):
        ax.plot(curve["eval_frames"], curve["eval_returns"], "o-", label="evaluation")
    ax.set_xlabel("environment frames")
    ax.set_ylabel("episode return")
    ax.set_title(title or "")
    ax.legend()
    fig.tight_layout()
    fig.savefig(png_path, dpi=80)
    plt.close(fig)
    return png_path


def plot_learning_curves(metrics_paths, png_path, references=None, window=100, columns=3):
    """Writes several runs' learning curves side by side as one PNG: per run, the running mean
    of its training returns and its evaluations against environment frames (1 per step, as on
    MinAtar), with horizontal reference lines.

    Args:
        metrics_paths: `{title: metrics.jsonl path}`, one panel each, in this order.
        png_path: where to write the figure.
        references: `{title: {label: return}}`, e.g. a baseline's score per game.
        window: episodes in the running mean of the training returns.
        columns: panels per row.

    Returns:
        `png_path`.

    Example:

    ```python
    plot_learning_curves(
        {"breakout": "runs/breakout/metrics.jsonl", "asterix": "runs/asterix/metrics.jsonl"},
        "curves.png",
        references={"breakout": {"DQN at 5M": 10.0}, "asterix": {"DQN at 5M": 17.0}},
    )
    ```
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if not metrics_paths:
        raise ValueError("`metrics_paths` must name at least one run. Received: {}")
    references = references or {}
    rows = -(-len(metrics_paths) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(4 * columns, 3 * rows), squeeze=False)
    for ax, (title, path) in zip(axes.ravel(), metrics_paths.items()):
        curve = learning_curve(path, window=window)
        ax.plot(curve["frames"], curve["mean_returns"], label=f"training, last {window}")
        if len(curve["eval_frames"]):
            ax.plot(curve["eval_frames"], curve["eval_returns"], "o", label="evaluation")
        for (label, value), style in zip(references.get(title, {}).items(), ("--", ":", "-.")):
            ax.axhline(value, color="0.4", linestyle=style, linewidth=1, label=label)
        ax.set_title(title)
        ax.set_xlabel("environment frames")
        ax.set_ylabel("episode return")
        ax.legend(fontsize=7)
    for ax in axes.ravel()[len(metrics_paths) :]:
        ax.axis("off")
    fig.tight_layout()
    fig.savefig(png_path, dpi=72)
    plt.close(fig)
    return png_path
