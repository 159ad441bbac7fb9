"""Lineage of a Model Search run: each trial's parent and mutation, and plots of the search."""

import json


def lineage_records(oracle):
    """One record per trial of `oracle`, in trial order.

    Args:
        oracle: a `ModelSearchOracle` (local, with its trials).

    Returns:
        A list of dicts with `trial_id`, `trial_type`, `status`, `score`, `architecture` (list),
        `parent_trial_id` (or `None`), `mutation`, `members`, `teacher_trial_ids` (lists) and
        `num_params` (or `None`).
    """
    records = []
    for trial_id in sorted(oracle.trials, key=int):
        trial = oracle.trials[trial_id]
        values = trial.hyperparameters.values
        num_params = None
        if trial.metrics.exists("num_params"):
            num_params = int(trial.metrics.get_last_value("num_params"))
        parent = values.get("parent_trial_id", "none")
        records.append(
            {
                "trial_id": trial_id,
                "trial_type": values.get("trial_type"),
                "status": trial.status,
                "score": trial.score,
                "architecture": json.loads(values.get("architecture", "[]")),
                "parent_trial_id": None if parent == "none" else parent,
                "mutation": values.get("mutation"),
                "members": json.loads(values.get("members", "[]")),
                "teacher_trial_ids": json.loads(values.get("teacher_trial_ids", "[]")),
                "num_params": num_params,
            }
        )
    return records


def results_table(records, objective_name):
    """The results of `records` as a plain-text table, one row per trial."""
    header = f"{'trial':>5}  {'type':<12} {'status':<9} {objective_name:>14} {'params':>9}  "
    header += "parent  mutation / members"
    lines = [header, "-" * len(header)]
    for record in records:
        score = "-" if record["score"] is None else f"{record['score']:.4f}"
        params = "-" if record["num_params"] is None else str(record["num_params"])
        if record["trial_type"] == "ensemble":
            detail = "members " + ",".join(record["members"])
        else:
            detail = f"{record['mutation']} -> {record['architecture']}"
            if record["teacher_trial_ids"]:
                detail += f" teachers {','.join(record['teacher_trial_ids'])}"
        lines.append(
            f"{record['trial_id']:>5}  {record['trial_type']:<12} {record['status']:<9} "
            f"{score:>14} {params:>9}  {record['parent_trial_id'] or '-':>6}  {detail}"
        )
    return "\n".join(lines)


def plot_objective(records, path, objective_name, direction="max"):
    """Writes a PNG of each trial's objective and the best so far, coloured by trial type."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    colors = {"search": "tab:blue", "ensemble": "tab:orange", "distillation": "tab:green"}
    figure, axis = plt.subplots(figsize=(7, 4))
    best, best_x, best_y = None, [], []
    for index, record in enumerate(records):
        if record["score"] is None or record["status"] != "COMPLETED":
            continue
        score = record["score"]
        axis.scatter(
            [index],
            [score],
            color=colors.get(record["trial_type"], "gray"),
            zorder=3,
            label=record["trial_type"],
        )
        if best is None or (score > best if direction == "max" else score < best):
            best = score
        best_x.append(index)
        best_y.append(best)
    axis.plot(best_x, best_y, color="black", linewidth=1, label="best so far")
    handles, labels = axis.get_legend_handles_labels()
    unique = dict(zip(labels, handles))
    axis.legend(unique.values(), unique.keys(), loc="best")
    axis.set_xlabel("trial")
    axis.set_ylabel(objective_name)
    axis.set_title("Model Search: objective per trial")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path


def plot_lineage(records, path):
    """Writes a PNG of the lineage graph: parent -> child (mutation), members/teachers dashed."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    depth = {}
    for record in records:
        parent = record["parent_trial_id"]
        sources = record["members"] or ([parent] if parent else [])
        depth[record["trial_id"]] = 1 + max((depth.get(s, 0) for s in sources), default=-1)
    columns = {}
    position = {}
    for record in records:
        level = depth[record["trial_id"]]
        position[record["trial_id"]] = (columns.get(level, 0), -level)
        columns[level] = columns.get(level, 0) + 1
    colors = {"search": "tab:blue", "ensemble": "tab:orange", "distillation": "tab:green"}
    figure, axis = plt.subplots(figsize=(max(6, 1.2 * max(columns.values())), 1.5 + len(columns)))
    for record in records:
        x1, y1 = position[record["trial_id"]]
        edges = [(record["parent_trial_id"], "-")] if record["parent_trial_id"] else []
        edges += [(m, ":") for m in record["members"] + record["teacher_trial_ids"]]
        for source, style in edges:
            if source in position:
                x0, y0 = position[source]
                axis.plot([x0, x1], [y0, y1], style, color="gray", zorder=1)
    for record in records:
        x, y = position[record["trial_id"]]
        failed = record["status"] != "COMPLETED"
        axis.scatter(
            [x],
            [y],
            s=500,
            zorder=2,
            edgecolors="black",
            color="white" if failed else colors.get(record["trial_type"], "gray"),
        )
        axis.annotate(record["trial_id"], (x, y), ha="center", va="center", fontsize=8, zorder=3)
    axis.set_axis_off()
    axis.set_title(
        "Model Search lineage: blue search, green distillation, orange ensemble", fontsize=9
    )
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path
