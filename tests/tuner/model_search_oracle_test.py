import json

import keras_tuner
import numpy as np
import pytest

from keras_suite.tuner import ModelSearchOracle, get_block, registered_blocks

BLOCKS = ["conv3x3_16", "max_pool", "conv1d_k3_32", "dense_32", "dense_64"]


def _oracle(directory, **kwargs):
    kwargs.setdefault("objective", "val_accuracy")
    kwargs.setdefault("max_trials", 12)
    kwargs.setdefault("seed", 3)
    oracle = ModelSearchOracle(**kwargs)
    oracle._set_project_dir(str(directory), "project")
    oracle.verbose = 0
    return oracle


def _score(values):
    """A fake objective: deterministic in the trial's values."""
    if values["trial_type"] == "ensemble":
        return 0.95
    architecture = json.loads(values["architecture"])
    return round(0.5 + 0.07 * len(architecture) + 0.01 * sum(map(len, architecture)) % 0.1, 6)


def _run(oracle, num_trials, end_last=True):
    trials = []
    for index in range(num_trials):
        trial = oracle.create_trial("tuner0")
        if trial.status == "STOPPED":
            break
        trials.append(trial)
        if index == num_trials - 1 and not end_last:
            break
        oracle.update_trial(trial.trial_id, {"val_accuracy": _score(trial.hyperparameters.values)})
        trial.status = "COMPLETED"
        oracle.end_trial(trial)
    return trials


def _edit_distance(a, b):
    rows = [[i + j if i * j == 0 else 0 for j in range(len(b) + 1)] for i in range(len(a) + 1)]
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            rows[i][j] = min(
                rows[i - 1][j] + 1, rows[i][j - 1] + 1, rows[i - 1][j - 1] + (a[i - 1] != b[j - 1])
            )
    return rows[-1][-1]


def _space(input_rank=4):
    oracle_blocks = {name: get_block(name) for name in BLOCKS}
    return oracle_blocks, input_rank


def test_default_twelve_trials_include_ensemble_and_distillation(tmp_path):
    oracle = _oracle(tmp_path)
    oracle.set_block_space(*_space())
    trials = _run(oracle, 12)
    types = [t.hyperparameters.values["trial_type"] for t in trials]
    assert len(trials) == 12
    assert types[4] == types[9] == "ensemble"
    assert types[5] == types[11] == "distillation"
    assert types.count("search") == 8


def test_first_trials_are_random_and_later_ones_mutate_one_step_from_a_beam_parent(tmp_path):
    oracle = _oracle(tmp_path, max_trials=30, ensemble_every=None, distillation_every=7)
    oracle.set_block_space(*_space())
    scores, kinds = {}, set()
    for trial in _run(oracle, 30):
        values = trial.hyperparameters.values
        index = int(trial.trial_id)
        if index < oracle.num_initial_trials:
            assert values["parent_trial_id"] == "none"
            assert values["mutation"] == "random"
        else:
            parent_id = values["parent_trial_id"]
            assert parent_id in scores
            # The parent was among the top `beam_size` completed trials when this one was made.
            ranked = sorted(scores.values(), reverse=True)
            assert scores[parent_id] >= ranked[: oracle.beam_size][-1]
            parent = oracle.trials[parent_id].hyperparameters.values
            child_arch = json.loads(values["architecture"])
            parent_arch = json.loads(parent["architecture"])
            assert len(child_arch) in (len(parent_arch), len(parent_arch) + 1)
            changed = [
                k for k in ("learning_rate", "optimizer", "dropout") if values[k] != parent[k]
            ]
            # Exactly one step: one block edit, or one training hyper-parameter changed.
            assert _edit_distance(parent_arch, child_arch) + len(changed) == 1
            assert oracle.is_valid_architecture(child_arch)
            kinds.add("training" if changed else "architecture")
        scores[trial.trial_id] = trial.score
    assert kinds == {"training", "architecture"}


def test_depth_bound_grows_with_completed_trials(tmp_path):
    oracle = _oracle(
        tmp_path,
        max_trials=20,
        beam_size=2,
        max_depth=4,
        ensemble_every=None,
        distillation_every=None,
    )
    oracle.set_block_space(*_space())
    assert oracle.depth_bounds() == (1, 2)
    for trial in _run(oracle, 20):
        assert len(json.loads(trial.hyperparameters.values["architecture"])) <= 4
    assert oracle.depth_bounds() == (1, 4)
    _, high = oracle.depth_bounds()
    assert high == min(4, 1 + 1 + 20 // 2)


def test_one_step_mutations_are_exactly_the_valid_single_edits(tmp_path):
    oracle = _oracle(tmp_path, max_depth=3)
    oracle.set_block_space({n: get_block(n) for n in ["conv3x3_16", "dense_32"]}, 4)
    adds, replaces = oracle.one_step_mutations(["conv3x3_16"])
    # Depth bound is 2 at the start; a conv cannot follow a dense (ranks only go down).
    # Adding at position 0 or 1 gives the same pair of convolutions, both listed.
    assert sorted(tuple(a) for a, _ in adds) == [
        ("conv3x3_16", "conv3x3_16"),
        ("conv3x3_16", "conv3x3_16"),
        ("conv3x3_16", "dense_32"),
    ]
    assert [tuple(a) for a, _ in replaces] == [("dense_32",)]


def test_ensemble_members_are_the_best_completed_trials(tmp_path):
    oracle = _oracle(tmp_path, max_trials=5, ensemble_width=3)
    oracle.set_block_space(*_space())
    trials = _run(oracle, 5)
    ensemble = trials[4].hyperparameters.values
    best = sorted(trials[:4], key=lambda t: -t.score)[:3]
    assert json.loads(ensemble["members"]) == sorted(t.trial_id for t in best)
    assert ensemble["ensemble_method"] == "average"


def test_values_are_plain_and_survive_the_grpc_proto(tmp_path):
    oracle = _oracle(tmp_path)
    oracle.set_block_space(*_space())
    for trial in _run(oracle, 12):
        values = trial.hyperparameters.values
        assert all(type(v) in (bool, int, float, str) for v in values.values()), values
        restored = keras_tuner.engine.trial.Trial.from_proto(trial.to_proto())
        assert restored.hyperparameters.values == values


def _values(oracle):
    return [oracle.trials[i].hyperparameters.values for i in sorted(oracle.trials)]


def test_resume_after_a_kill_repeats_and_loses_nothing(tmp_path):
    reference = _oracle(tmp_path / "reference")
    reference.set_block_space(*_space())
    _run(reference, 12)

    first = _oracle(tmp_path / "run")
    first.set_block_space(*_space())
    started = _run(first, 7, end_last=False)  # killed while trial 06 runs
    assert started[-1].trial_id == "06" and started[-1].status == "RUNNING"

    resumed = _oracle(tmp_path / "run")  # a fresh process: no block space given
    resumed.reload()
    assert resumed.block_space == first.block_space
    assert resumed.lineage == first.lineage
    retried = resumed.create_trial("tuner0")
    assert retried.trial_id == "06"
    assert retried.hyperparameters.values == started[-1].hyperparameters.values
    resumed.update_trial("06", {"val_accuracy": _score(retried.hyperparameters.values)})
    retried.status = "COMPLETED"
    resumed.end_trial(retried)
    _run(resumed, 12)
    assert sorted(resumed.trials) == [f"{i:02d}" for i in range(12)]
    assert all(t.status == "COMPLETED" for t in resumed.trials.values())
    assert _values(resumed) == _values(reference)


def test_state_holds_beam_and_lineage(tmp_path):
    oracle = _oracle(tmp_path, max_trials=6)
    oracle.set_block_space(*_space())
    _run(oracle, 6)
    state = oracle.get_state()
    singles = [
        t for t in oracle.trials.values() if t.hyperparameters.values["trial_type"] != "ensemble"
    ]
    best_scores = sorted((t.score for t in singles), reverse=True)[:5]
    assert [oracle.trials[i].score for i in state["beam"]] == best_scores
    for trial_id, trial in oracle.trials.items():
        values = trial.hyperparameters.values
        assert state["lineage"][trial_id]["parent_trial_id"] == values["parent_trial_id"]
        assert state["lineage"][trial_id]["mutation"] == values["mutation"]
    json.dumps(state)


def test_needs_a_block_space(tmp_path):
    oracle = _oracle(tmp_path)
    with pytest.raises(ValueError, match="no block space"):
        oracle.create_trial("tuner0")


def test_block_space_must_fit_the_input_rank(tmp_path):
    oracle = _oracle(tmp_path)
    with pytest.raises(ValueError, match=r"None of the blocks can take inputs of rank 2"):
        oracle.set_block_space({"conv3x3_16": get_block("conv3x3_16")}, 2)
    with pytest.raises(ValueError, match="input_rank=5"):
        oracle.set_block_space({"dense_32": get_block("dense_32")}, 5)
    assert "dense_32" in registered_blocks(2)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"beam_size": 0}, "beam_size"),
        ({"min_depth": 3, "max_depth": 2}, "max_depth"),
        ({"ensemble_method": "vote"}, "ensemble_method"),
        ({"distillation": "nope"}, "distillation"),
        ({"increase_complexity_probability": 1.5}, "increase_complexity_probability"),
        ({"optimizers": ["adagrad"]}, "optimizers"),
        ({"ensemble_every": 1}, "ensemble_every"),
        ({"parent_selection": "best"}, "parent_selection"),
        ({"initial_training": "best"}, "initial_training"),
        ({"initial_training": {"momentum": 0.9}}, "initial_training"),
        ({"initial_training": {"learning_rate": 0.5}}, "initial_training"),
    ],
)
def test_bad_arguments_are_named(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ModelSearchOracle(**kwargs)


def test_first_trials_train_with_the_initial_training_technique(tmp_path):
    oracle = _oracle(tmp_path, learning_rates=(1e-4, 2e-3, 1e-2), optimizers=("sgd", "adam"))
    # Defaults: Adam, the learning rate closest to 1e-3 in log scale, the smallest dropout.
    assert oracle.initial_training == {"learning_rate": 2e-3, "optimizer": "adam", "dropout": 0.0}
    oracle.set_block_space(*_space())
    for trial in _run(oracle, oracle.num_initial_trials):
        values = trial.hyperparameters.values
        assert (values["learning_rate"], values["optimizer"], values["dropout"]) == (
            2e-3,
            "adam",
            0.0,
        )
    given = _oracle(tmp_path / "given", initial_training={"optimizer": "sgd", "dropout": 0.2})
    assert given.initial_training == {"learning_rate": 1e-3, "optimizer": "sgd", "dropout": 0.2}
    sampled = _oracle(tmp_path / "sampled", initial_training="random", max_trials=30)
    sampled.set_block_space(*_space())
    sampled.num_initial_trials = 30
    techniques = {
        (v["learning_rate"], v["optimizer"], v["dropout"])
        for v in (t.hyperparameters.values for t in _run(sampled, 30))
        if v["trial_type"] == "search"
    }
    assert len(techniques) > 5


def test_one_step_training_mutations_change_exactly_one_value(tmp_path):
    oracle = _oracle(tmp_path, learning_rates=(1e-3, 1e-2), optimizers=("adam", "sgd"))
    values = {"learning_rate": 1e-3, "optimizer": "adam", "dropout": 0.1}
    mutations = oracle.one_step_training_mutations(values)
    expected = [("learning_rate", 1e-2), ("optimizer", "sgd")] + [
        ("dropout", d) for d in (0.0, 0.2, 0.3)
    ]
    assert [next(iter(c.items())) for c, _ in mutations] == expected
    assert mutations[0][1] == "learning_rate 0.001 -> 0.01"


def test_rank_parent_selection_halves_with_each_rank(tmp_path):
    oracle = _oracle(tmp_path)
    np.testing.assert_allclose(oracle.parent_probabilities(3), [4 / 7, 2 / 7, 1 / 7])
    uniform = _oracle(tmp_path / "uniform", parent_selection="uniform")
    np.testing.assert_allclose(uniform.parent_probabilities(4), [0.25] * 4)
    # Drawn parents follow the probabilities: the best of a beam of 3 about 4 times in 7.
    rng = np.random.default_rng(0)
    counts = np.bincount([oracle._parent_index(3, rng) for _ in range(7000)], minlength=3)
    np.testing.assert_allclose(counts / 7000, [4 / 7, 2 / 7, 1 / 7], atol=0.02)
