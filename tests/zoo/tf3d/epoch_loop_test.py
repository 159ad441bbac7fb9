import json
import os

import keras
import numpy as np
import pytest

from keras_suite.zoo.tf3d.epoch_loop import run_epochs

X = np.linspace(-1.0, 1.0, 24, dtype="float32").reshape(8, 3)
Y = np.stack([X.sum(1), X[:, 0] * X[:, 1]], axis=1)


def dense_model(seed=0):
    model = keras.Sequential(
        [keras.Input((3,)), keras.layers.Dense(4, "tanh"), keras.layers.Dense(2)]
    )
    rng = np.random.default_rng(seed)
    model.set_weights([rng.normal(size=w.shape).astype("float32") for w in model.get_weights()])
    model.compile(keras.optimizers.Adam(0.05), "mse")
    return model


def fit_epoch_of(model):
    def fit_epoch(epoch):
        history = model.fit(X, Y, batch_size=2, shuffle=False, verbose=0)
        return {"loss": history.history["loss"][-1]}

    return fit_epoch


def test_resumed_run_continues_with_saved_weights_and_optimizer(tmp_path):
    # Reference: 3 epochs without a stop.
    straight = dense_model()
    run_epochs(straight, 3, fit_epoch_of(straight))

    first = dense_model()
    run = run_epochs(first, 2, fit_epoch_of(first), checkpoint_dir=str(tmp_path))
    assert run["epochs_run"] == 2
    assert sorted(os.listdir(tmp_path)) == ["model.weights.h5", "state.json"]
    with open(tmp_path / "state.json") as f:
        assert json.load(f)["epochs_done"] == 2

    resumed = dense_model(seed=1)  # other weights: they must come from the checkpoint
    calls = []
    run = run_epochs(
        resumed,
        3,
        fit_epoch_of(resumed),
        progress=lambda done, total, **v: calls.append((done, total, sorted(v))),
        checkpoint_dir=str(tmp_path),
        resume=True,
    )
    assert (run["first_epoch"], run["epochs_run"]) == (2, 1)
    assert calls == [(3, 3, ["loss"])]
    assert int(resumed.optimizer.iterations.numpy()) == int(straight.optimizer.iterations.numpy())
    for a, b in zip(resumed.get_weights(), straight.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)

    # Adam's moments matter: weights alone, with a fresh optimizer, end elsewhere.
    weights_only = dense_model(seed=1)
    with pytest.warns(UserWarning, match="Skipping variable loading for optimizer"):
        weights_only.load_weights(str(tmp_path / "model.weights.h5"))
    fit_epoch_of(weights_only)(2)
    pairs = zip(weights_only.get_weights(), straight.get_weights())
    assert max(np.abs(a - b).max() for a, b in pairs) > 1e-3


def test_resume_without_a_checkpoint_starts_at_epoch_zero(tmp_path):
    model = dense_model()
    run = run_epochs(model, 2, fit_epoch_of(model), checkpoint_dir=str(tmp_path / "c"), resume=True)
    assert (run["first_epoch"], run["epochs_run"], len(run["logs"])) == (0, 2, 2)
    assert np.isfinite(run["logs"][-1]["loss"])


def test_a_finished_run_resumes_to_no_epoch(tmp_path):
    model = dense_model()
    run_epochs(model, 1, fit_epoch_of(model), checkpoint_dir=str(tmp_path))
    again = dense_model(seed=2)
    run = run_epochs(again, 1, fit_epoch_of(again), checkpoint_dir=str(tmp_path), resume=True)
    assert (run["first_epoch"], run["epochs_run"], run["logs"]) == (1, 0, [])
    for a, b in zip(again.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_an_unbuilt_model_is_built_from_the_example_before_loading(tmp_path):
    model = dense_model()
    run_epochs(model, 1, fit_epoch_of(model), checkpoint_dir=str(tmp_path))
    unbuilt = keras.Sequential([keras.layers.Dense(4, "tanh"), keras.layers.Dense(2)])
    unbuilt.compile(keras.optimizers.Adam(0.05), "mse")
    run_epochs(unbuilt, 1, fit_epoch_of(unbuilt), None, str(tmp_path), True, lambda: X[:1])
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(unbuilt(X)), keras.ops.convert_to_numpy(model(X)), rtol=1e-6
    )
