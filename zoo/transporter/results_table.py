"""The paper's results table for Transporter evaluations: scores per task and demo count.

Results are a dict `{row: {str(n_demos): result}}`, a row being a task name (or
`"<task>, goal-conditioned"` for a goal-conditioned preset, whose numbers are not the paper's)
and a result a dict of `evaluate_preset` (at least `score`, `success_rate` and `episodes`).
"""

import json
import os

#: Transporter scores (%) in Zeng et al. (CoRL 2020), Table 1, at 1 / 10 / 100 demonstrations.
#: A score is the mean over test episodes of each episode's total reward (partial credit).
PAPER_SCORES = {
    "block-insertion": {1: 100.0, 10: 100.0, 100: 100.0},
    "place-red-in-green": {1: 84.5, 10: 100.0, 100: 100.0},
    "towers-of-hanoi": {1: 73.1, 10: 83.9, 100: 97.3},
    "align-box-corner": {1: 35.0, 10: 85.0, 100: 97.0},
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


def write_results_table(results, path):
    """Writes the paper's results-table layout (Markdown): scores (%) at 1 / 10 / 100 demos.

    Each of our cells reads `score (solved%, episodes)`: the paper's metric first, then the
    share of episodes that reached every goal, then the paper's score.

    Example:

    ```python
    results = {"block-insertion": {"10": {"score": 90.0, "success_rate": 90.0, "episodes": 10}}}
    write_results_table(results, "results.md")
    ```
    """
    tasks = sorted(set(results) | set(PAPER_SCORES))
    lines = [
        "| task | 1 demo | 10 demos | 100 demos |",
        "| --- | --- | --- | --- |",
    ]
    for task in tasks:
        cells = []
        for n in DEMO_COUNTS:
            ours = results.get(task, {}).get(str(n))
            paper = PAPER_SCORES.get(task, {}).get(n)
            text = "-"
            if ours is not None:
                text = (
                    f"{ours['score']:.1f} ({ours['success_rate']:.0f}% solved, "
                    f"{ours['episodes']} ep.)"
                )
            if paper is not None:
                text += f" / paper {paper:.1f}"
            cells.append(text)
        lines.append(f"| {task} | " + " | ".join(cells) + " |")
    lines.append("")
    lines.append(
        "Scores (%) of Transporter Networks on unseen scenes (odd seeds): ours / paper "
        "(Zeng et al., CoRL 2020, Table 1). A score is the mean of the episodes' total rewards, "
        "which give partial credit (a towers-of-hanoi episode that makes 6 of its 7 moves "
        "scores 85.7); 'solved': the share of episodes that reached every goal. '-': not "
        "evaluated here."
    )
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def write_results_plot(results, path):
    """Writes a bar chart (PNG) of our score per task and demo count, the paper's as marks."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    tasks = sorted(set(results) | set(PAPER_SCORES))
    figure, axis = plt.subplots(figsize=(max(6, 1.6 * len(tasks)), 4))
    width = 0.25
    for offset, n in enumerate(DEMO_COUNTS):
        xs = [i + (offset - 1) * width for i in range(len(tasks))]
        ours = [results.get(t, {}).get(str(n), {}).get("score", 0.0) for t in tasks]
        axis.bar(xs, ours, width, label=f"ours, {n} demos")
        paper = [PAPER_SCORES.get(t, {}).get(n) for t in tasks]
        axis.scatter(
            [x for x, p in zip(xs, paper) if p is not None],
            [p for p in paper if p is not None],
            marker="_",
            s=200,
            color="black",
            label="paper" if n == 1 else None,
        )
    axis.set_xticks(range(len(tasks)))
    axis.set_xticklabels(tasks, rotation=20, ha="right")
    axis.set_ylabel("score on unseen seeds (%)")
    axis.set_ylim(0, 105)
    axis.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
