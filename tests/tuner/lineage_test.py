import json

from keras_suite.tuner import (
    ModelSearchOracle,
    get_block,
    lineage_records,
    plot_lineage,
    plot_objective,
    results_table,
)

PNG = b"\x89PNG\r\n\x1a\n"


def _searched_oracle(tmp_path, num_trials=12):
    oracle = ModelSearchOracle("val_accuracy", max_trials=num_trials, seed=2)
    oracle._set_project_dir(str(tmp_path), "p")
    oracle.verbose = 0
    oracle.set_block_space({n: get_block(n) for n in ["dense_32", "dense_64"]}, 2)
    for index in range(num_trials):
        trial = oracle.create_trial("tuner0")
        oracle.update_trial(
            trial.trial_id, {"val_accuracy": 0.5 + 0.01 * index, "num_params": 10.0}
        )
        trial.status = "FAILED" if index == 7 else "COMPLETED"
        oracle.end_trial(trial)
    return oracle


def test_records_follow_the_trials(tmp_path):
    oracle = _searched_oracle(tmp_path)
    records = lineage_records(oracle)
    assert [r["trial_id"] for r in records] == sorted(oracle.trials)
    for record in records:
        values = oracle.trials[record["trial_id"]].hyperparameters.values
        assert record["trial_type"] == values["trial_type"]
        assert record["architecture"] == json.loads(values["architecture"])
        parent = values["parent_trial_id"]
        assert record["parent_trial_id"] == (None if parent == "none" else parent)
        assert record["members"] == json.loads(values["members"])
    assert records[7]["status"] == "FAILED"
    assert records[4]["num_params"] == 10
    table = results_table(records, "val_accuracy").splitlines()
    assert len(table) == 2 + len(records)
    assert "ensemble" in table[2 + 4] and "members" in table[2 + 4]


def test_plots_are_pngs(tmp_path):
    records = lineage_records(_searched_oracle(tmp_path))
    for plot, args in ((plot_objective, ("val_accuracy",)), (plot_lineage, ())):
        path = plot(records, str(tmp_path / f"{plot.__name__}.png"), *args)
        with open(path, "rb") as f:
            assert f.read(8) == PNG
