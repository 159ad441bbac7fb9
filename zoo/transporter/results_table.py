"""The paper's results table for Transporter evaluations: scores per task and demo count.

Results are a dict `{row: {str(n_demos): result}}`, a row being a task name (or
`"<task>, goal-conditioned"` for a goal-conditioned preset, whose numbers are not the paper's)
and a result a dict of `evaluate_preset` (at least `score`, `success_rate` and `episodes`).
"""

import json
import os

#: Transporter Networks' scores (%) in Zeng et al., "Transporter Networks: Rearranging the Visual
#: World for Robotic Manipulation" (CoRL 2020), Table 1, at 1 / 10 / 100 demonstrations: the mean
#: over test episodes of each episode's total reward (partial credit).
PAPER_SCORES = {
    "block-insertion": {1: 100.0, 10: 100.0, 100: 100.0},
    "place-red-in-green": {1: 84.5, 10: 100.0, 100: 100.0},
    "towers-of-hanoi": {1: 73.1, 10: 83.9, 100: 97.3},
    "align-box-corner": {1: 35.0, 10: 85.0, 100: 97.0},
    "stack-block-pyramid": {1: 13.3, 10: 42.6, 100: 56.2},
    "palletizing-boxes": {1: 63.2, 10: 77.4, 100: 91.7},
    "assembling-kits": {1: 28.4, 10: 78.6, 100: 90.4},
    "packing-boxes": {1: 56.8, 10: 58.3, 100: 72.1},
    "manipulating-rope": {1: 21.9, 10: 73.2, 100: 85.4},
    "sweeping-piles": {1: 52.4, 10: 74.4, 100: 71.5},
}
#: GR-ConvNet-Transporter's scores (%) in Kumra et al. (Sensors 2022), Table 9, at 1 / 10 / 100
#: demonstrations, for the six tasks quoted here.
GR_CONVNET_SCORES = {
    "stack-block-pyramid": {1: 23.5, 10: 79.3, 100: 94.6},
    "palletizing-boxes": {1: 84.2, 10: 98.2, 100: 100.0},
    "assembling-kits": {1: 56.8, 10: 83.2, 100: 99.4},
    "packing-boxes": {1: 96.1, 10: 99.9, 100: 99.9},
    "manipulating-rope": {1: 25.7, 10: 87.0, 100: 99.9},
    "sweeping-piles": {1: 98.2, 10: 99.1, 100: 99.2},
}
DEMO_COUNTS = (1, 10, 100)


def read_results(path):
    """The results stored at `path` by `write_results`, or `{}` when there is no file.

    Cells stored before scores were recorded hold a `mean_reward`: they get `score` from it.
    """
    if not os.path.isfile(path):
        return {}
    with open(path) as f:
        results = json.load(f)
    for cells in results.values():
        for cell in cells.values():
            cell.setdefault("score", 100.0 * cell["mean_reward"])
    return results


def add_result(results, result):
    """Puts an `evaluate_preset` result into its row and demo-count cell; returns `results`."""
    row = f"{result['task']}, goal-conditioned" if result["goal_conditioned"] else result["task"]
    results.setdefault(row, {})[str(result["n_demos"])] = result
    return results


def write_results(results, path):
    """Writes `results` as JSON at `path`."""
    with open(path, "w") as f:
        json.dump(results, f, indent=2, sort_keys=True)


def recorded_results(presets):
    """The evaluations recorded in presets' metadata (`ravens eval --record`), as results.

    Args:
        presets: preset names or folders; a preset without a recorded evaluation is skipped.

    Returns:
        A results dict (see the module docstring), each cell naming its `model`.
    """
    from keras_suite.zoo.transporter.evaluation import preset_metadata

    results = {}
    for preset in presets:
        metadata = preset_metadata(preset)
        evaluation = metadata.get("evaluation")
        if not evaluation:
            continue
        result = dict(
            evaluation,
            score=100.0 * evaluation["mean_reward"],
            model=preset,
            task=metadata["task"],
            n_demos=metadata["n_demos"],
            goal_conditioned=bool(metadata.get("goal_conditioned", False)),
        )
        add_result(results, result)
    return results


def _anchor_cell(scores, task):
    values = scores.get(task)
    return " / ".join(f"{values[n]:.1f}" for n in DEMO_COUNTS) if values else ""


def write_results_table(results, path):
    """Writes the results table (Markdown): our scores at 1 / 10 / 100 demos beside two anchors.

    Each of our cells reads `score (solved%, episodes)`: the paper's metric first, then the
    share of episodes that reached every goal. Cells we did not measure stay empty. The anchors
    are Transporter Networks (`PAPER_SCORES`) and GR-ConvNet-Transporter (`GR_CONVNET_SCORES`).

    Example:

    ```python
    results = {"block-insertion": {"10": {"score": 90.0, "success_rate": 90.0, "episodes": 10}}}
    write_results_table(results, "results.md")
    ```
    """
    tasks = sorted(set(results) | set(PAPER_SCORES))
    lines = [
        "| task | 1 demo | 10 demos | 100 demos | Transporter 1 / 10 / 100 "
        "| GR-ConvNet-Transporter 1 / 10 / 100 |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for task in tasks:
        cells = []
        for n in DEMO_COUNTS:
            ours = results.get(task, {}).get(str(n))
            cells.append(
                ""
                if ours is None
                else f"{ours['score']:.1f} ({ours['success_rate']:.0f}% solved, "
                f"{ours['episodes']} ep.)"
            )
        cells += [_anchor_cell(PAPER_SCORES, task), _anchor_cell(GR_CONVNET_SCORES, task)]
        lines.append(f"| {task} | " + " | ".join(cells) + " |")
    lines.append("")
    lines.append(
        "Scores (%) on unseen scenes (odd seeds). A score is the mean of the episodes' total "
        "rewards, which give partial credit (a towers-of-hanoi episode that makes 6 of its 7 "
        "moves scores 85.7); 'solved': the share of episodes that reached every goal. Anchors: "
        "Transporter Networks (Zeng et al., CoRL 2020, Table 1) and GR-ConvNet-Transporter "
        "(Kumra et al., Sensors 2022, Table 9). An empty cell was not measured."
    )
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def write_results_plot(results, path):
    """Writes a bar chart (PNG) of our scores per task and demo count, the anchors as marks."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    tasks = sorted(set(results) | set(PAPER_SCORES))
    figure, axis = plt.subplots(figsize=(max(6, 1.2 * len(tasks)), 4.5))
    width = 0.27
    for offset, n in enumerate(DEMO_COUNTS):
        xs = [i + (offset - 1) * width for i in range(len(tasks))]
        cells = [results.get(t, {}).get(str(n)) for t in tasks]
        axis.bar(
            [x for x, cell in zip(xs, cells) if cell],
            [cell["score"] for cell in cells if cell],
            width,
            label=f"ours, {n} demo{'s' if n > 1 else ''}",
        )
        for scores, color, name in (
            (PAPER_SCORES, "black", "Transporter"),
            (GR_CONVNET_SCORES, "grey", "GR-ConvNet-Transporter"),
        ):
            marks = [(x, scores[t][n]) for x, t in zip(xs, tasks) if t in scores]
            axis.scatter(
                [x for x, _ in marks],
                [score for _, score in marks],
                marker="_",
                s=150,
                color=color,
                label=name if n == DEMO_COUNTS[0] else None,
            )
    axis.set_xticks(range(len(tasks)))
    axis.set_xticklabels(tasks, rotation=25, ha="right", fontsize=8)
    axis.set_ylabel("score on unseen seeds (%)")
    axis.set_ylim(0, 105)
    axis.legend(fontsize=7, ncol=2)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
