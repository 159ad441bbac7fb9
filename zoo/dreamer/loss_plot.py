"""Plots a DreamerV2 run's losses and returns from its `metrics.jsonl`."""

import json

KEYS = ("train/image_loss", "train/reward_loss", "train/kl", "train/critic_loss")


def plot_losses(metrics_path, png_path):
    """Plots the training losses and episode returns of a `metrics.jsonl` file as a PNG.

    Args:
        metrics_path: the `metrics.jsonl` that `Trainer` writes in its logdir.
        png_path: where to write the figure.

    Returns:
        `png_path`.

    Example:

    ```python
    plot_losses("runs/pong/metrics.jsonl", "runs/pong/losses.png")
    ```
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with open(metrics_path) as f:
        rows = [json.loads(line) for line in f]
    keys = list(KEYS) + ["episode/return"]
    fig, axes = plt.subplots(1, len(keys), figsize=(4 * len(keys), 3))
    for ax, key in zip(axes, keys):
        points = [(r["step"], r[key]) for r in rows if key in r]
        if points:
            ax.plot(*zip(*points), marker=".")
        ax.set_title(key)
        ax.set_xlabel("env step")
    fig.tight_layout()
    fig.savefig(png_path, dpi=80)
    plt.close(fig)
    return png_path
