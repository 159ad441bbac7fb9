import json
import os
import runpy
import signal
import subprocess
import sys
import textwrap

import keras
import keras_tuner
import numpy as np
import pytest

from keras_suite.testing.test_case import TestCase
from keras_suite.tuner import (
    ModelSearch,
    ModelSearchOracle,
    align_blocks,
    block_registry,
    register_block,
)

TABULAR = ["dense_32", "dense_64", "residual_dense_64"]


def _data(n=64, seed=0, classes=3):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 6)).astype("float32")
    y = (np.argmax(x[:, :classes], axis=1)).astype("int32")
    return x, y


def _tuner(directory, num_classes=3, blocks=TABULAR, **oracle_kwargs):
    oracle_kwargs.setdefault("objective", "val_accuracy")
    oracle_kwargs.setdefault("seed", 1)
    oracle = ModelSearchOracle(**oracle_kwargs)
    return ModelSearch(
        oracle,
        num_classes=num_classes,
        blocks=blocks,
        directory=directory,
        project_name="p",
        overwrite=True,
    )


class ModelSearchTest(TestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        import tempfile

        cls._dir = tempfile.TemporaryDirectory()
        cls.x, cls.y = _data(64)
        cls.x_val, cls.y_val = _data(32, seed=1)
        cls.tuner = _tuner(
            cls._dir.name,
            max_trials=5,
            num_initial_trials=2,
            ensemble_every=3,
            distillation_every=4,
        )
        cls.progress_calls = []
        cls.tuner.search(
            cls.x,
            cls.y,
            validation_data=(cls.x_val, cls.y_val),
            epochs=1,
            batch_size=16,
            verbose=0,
            progress=lambda done, total, **values: cls.progress_calls.append((done, total, values)),
        )
        cls.trials = cls.tuner.oracle.trials

    @classmethod
    def tearDownClass(cls):
        cls._dir.cleanup()
        super().tearDownClass()

    def test_every_trial_type_runs_and_completes(self):
        types = [self.trials[i].hyperparameters.values["trial_type"] for i in sorted(self.trials)]
        self.assertEqual(types, ["search", "search", "ensemble", "distillation", "search"])
        for trial in self.trials.values():
            self.assertEqual(trial.status, "COMPLETED", trial.message)

    def test_progress_reports_each_trial_its_score_and_the_best_so_far(self):
        scores = [self.trials[i].score for i in sorted(self.trials, key=int)]
        expected = [
            (done, 5, {"score": scores[done - 1], "best": max(scores[:done])})
            for done in range(1, 6)
        ]
        self.assertEqual(self.progress_calls, expected)

    def test_ensemble_averages_its_members_exactly(self):
        values = self.trials["2"].hyperparameters.values
        members = [self.tuner.load_model(self.trials[i]) for i in json.loads(values["members"])]
        ensemble = self.tuner.load_model(self.trials["2"])
        expected = np.mean([m.predict(self.x_val, verbose=0) for m in members], axis=0)
        predictions = ensemble.predict(self.x_val, verbose=0)
        self.assertAllClose(predictions, expected, atol=1e-6)
        accuracy = np.mean(np.argmax(expected, 1) == self.y_val)
        reported = self.trials["2"].metrics.get_last_value("val_accuracy")
        self.assertAllClose(reported, accuracy, atol=1e-6)

    def test_parameter_count_is_reported(self):
        for trial in self.trials.values():
            model = self.tuner.load_model(trial)
            self.assertEqual(trial.metrics.get_last_value("num_params"), model.count_params())

    def test_child_shares_the_layers_that_fit_with_its_parent(self):
        trial = self.trials["4"]
        parent_id = trial.hyperparameters.values["parent_trial_id"]
        path = os.path.join(self.tuner.get_trial_dir("4"), "weight_sharing.json")
        with open(path) as f:
            record = json.load(f)
        parent = self.tuner.load_model(self.trials[parent_id])
        child = self.tuner.load_model(trial)
        parent_arch = json.loads(self.trials[parent_id].hyperparameters.values["architecture"])
        child_arch = json.loads(trial.hyperparameters.values["architecture"])
        block_map = align_blocks(parent_arch, child_arch)
        shapes = {layer.name: [tuple(w.shape) for w in layer.weights] for layer in parent.layers}

        def parent_name(name):
            for index, block in enumerate(child_arch):
                if name.startswith(f"b{index}_{block}_"):
                    if index not in block_map:
                        return None
                    return f"b{block_map[index]}_{name[len(f'b{index}_') :]}"
            return name

        expected = sorted(
            layer.name
            for layer in child.layers
            if layer.weights
            and shapes.get(parent_name(layer.name)) == [tuple(w.shape) for w in layer.weights]
        )
        self.assertEqual(
            record, {"parent_trial_id": parent_id, "architecture": child_arch, "layers": expected}
        )
        self.assertEqual(trial.metrics.get_last_value("num_shared_layers"), len(expected))
        self.assertGreater(len(expected), 0)

    def test_distillation_trial_names_its_teachers(self):
        values = self.trials["3"].hyperparameters.values
        teachers = json.loads(values["teacher_trial_ids"])
        self.assertTrue(teachers)
        self.assertEqual(values["distillation"], "adaptive")
        self.assertTrue(self.trials["3"].metrics.exists("val_accuracy"))

    def test_best_models_summary_and_export(self):
        best = self.tuner.oracle.get_best_trials(1)[0]
        model = self.tuner.get_best_models(1)[0]
        accuracy = np.mean(np.argmax(model.predict(self.x_val, verbose=0), 1) == self.y_val)
        self.assertAllClose(accuracy, best.score, atol=1e-6)
        hp = self.tuner.get_best_hyperparameters(1)[0]
        self.assertEqual(hp.values, best.hyperparameters.values)
        self.tuner.results_summary(2)
        path = os.path.join(self.get_temp_dir(), "best.keras")
        self.tuner.export_model(path)
        restored = keras.saving.load_model(path)
        self.assertAllClose(
            restored.predict(self.x_val, verbose=0), model.predict(self.x_val, verbose=0)
        )
        with pytest.raises(ValueError, match="must end in `.keras`"):
            self.tuner.export_model("best.h5")


class ProblemsTest(TestCase):
    def test_regression_with_a_dataset_distillation_and_a_weighted_ensemble(self):
        # Keras takes `tf.data` input under every backend, and so does the search.
        import tensorflow as tf

        x, _ = _data(48)
        y = (x[:, :2] * [1.0, -2.0]).astype("float32")
        data = tf.data.Dataset.from_tensor_slices((x, y)).batch(16)
        tuner = _tuner(
            self.get_temp_dir(),
            num_classes=None,
            objective="val_loss",
            max_trials=3,
            ensemble_every=3,
            ensemble_method="weighted",
            distillation_every=2,
        )
        tuner.search(data, validation_data=data, epochs=2, verbose=0)
        trials = tuner.oracle.trials
        types = [trials[i].hyperparameters.values["trial_type"] for i in "012"]
        self.assertEqual(types, ["search", "distillation", "ensemble"])
        for trial in trials.values():
            self.assertEqual(trial.status, "COMPLETED", trial.message)
            self.assertTrue(trial.metrics.exists("val_mae"))
        ensemble = tuner.load_model(trials["2"])
        self.assertEqual(ensemble.output.shape, (None, 2))
        members = [tuner.load_model(trials[i]) for i in "01"]
        weights = keras.ops.convert_to_numpy(
            ensemble.get_layer("weighted_average").combination_weights()
        )
        self.assertFalse(np.allclose(weights, 0.5))  # trained away from the plain average
        expected = sum(w * m.predict(x, verbose=0) for w, m in zip(weights, members))
        self.assertAllClose(ensemble.predict(x, verbose=0), expected, atol=1e-5)
        mse = np.mean((expected - y) ** 2)
        self.assertAllClose(trials["2"].metrics.get_last_value("val_loss"), mse, atol=1e-4)

    def test_custom_head(self):
        x, y = _data(32)
        head = keras.layers.Dense(1, activation="sigmoid", name="my_head")
        oracle = ModelSearchOracle("val_loss", max_trials=2, distillation_every=None, seed=2)
        tuner = ModelSearch(
            oracle,
            blocks=TABULAR,
            head=head,
            loss="binary_crossentropy",
            directory=self.get_temp_dir(),
        )
        tuner.search(
            x,
            (y == 0).astype("float32"),
            validation_data=(x, (y == 0).astype("float32")),
            epochs=1,
            verbose=0,
        )
        model = tuner.get_best_models()[0]
        self.assertEqual(model.layers[-1].name, "my_head")

    @pytest.mark.tensorflow_only
    def test_distribution_strategy_passes_through(self):
        import tensorflow as tf

        x, y = _data(32)
        strategy = tf.distribute.MirroredStrategy(["/cpu:0"])
        seen = []

        class RecordStrategy(keras.callbacks.Callback):
            def on_train_begin(self, logs=None):
                seen.append(self.model.distribute_strategy)

        oracle = ModelSearchOracle("val_accuracy", max_trials=1, seed=3)
        tuner = ModelSearch(
            oracle,
            num_classes=3,
            blocks=TABULAR,
            directory=self.get_temp_dir(),
            distribution_strategy=strategy,
        )
        tuner.search(
            x, y, validation_data=(x, y), epochs=1, verbose=0, callbacks=[RecordStrategy()]
        )
        self.assertEqual(oracle.trials["0"].status, "COMPLETED", oracle.trials["0"].message)
        self.assertEqual(seen, [strategy])

    @pytest.mark.skipif(
        keras.config.backend() == "tensorflow", reason="the TensorFlow backend runs strategies"
    )
    def test_a_distribution_strategy_is_refused_under_other_backends(self):
        strategy = object()
        with pytest.raises(ValueError, match=r"only the TensorFlow backend.*backend='(jax|torch)'"):
            ModelSearch(
                ModelSearchOracle(),
                num_classes=3,
                directory=self.get_temp_dir(),
                distribution_strategy=strategy,
            )

    def test_distillation_batches_pack_the_teacher_and_the_adaptive_label_weight(self):
        import tensorflow as tf

        x, y = _data(40)
        teacher = keras.Sequential(
            [keras.Input((6,)), keras.layers.Dense(3, activation="softmax", name="t")]
        )
        tuner = _tuner(self.get_temp_dir(), max_trials=1)
        tuner._check_data(x, y, "x", "y")
        dataset = tf.data.Dataset.from_tensor_slices((x, y)).shuffle(40, seed=0).batch(16)
        for data, labels in ((x, y), (dataset, None)):
            fit_kwargs = {"epochs": 2, "batch_size": 16, "verbose": 0}
            batches, steps = tuner._with_teacher(data, labels, teacher, "adaptive", fit_kwargs)
            self.assertEqual(steps, 3)
            seen = []
            for step in range(2 * steps + 1):
                inputs, targets = next(batches)
                self.assertEqual(targets.shape, (len(inputs), 5))
                # The teacher's outputs on exactly this batch, after the label of each input.
                rows = [int(np.flatnonzero((x == row).all(1))[0]) for row in inputs]
                seen += rows
                self.assertAllEqual(targets[:, 0], y[rows])
                self.assertAllClose(targets[:, 1:4], teacher.predict_on_batch(inputs), atol=1e-6)
                self.assertAllClose(targets[:, 4], np.full(len(inputs), min(step / 6, 1.0)))
            # Each pass holds every example once.
            self.assertEqual(sorted(seen[:40]), list(range(40)))
            self.assertEqual(sorted(seen[40:80]), list(range(40)))

    def test_a_diverging_trial_is_recorded_as_failed_and_the_search_goes_on(self):
        registry = dict(block_registry._REGISTRY)
        self.addCleanup(setattr, block_registry, "_REGISTRY", registry)

        @register_block("explode", ranks=(2,))
        def explode(x, name):
            return keras.layers.Rescaling(np.inf, name=f"{name}_inf")(x)

        x, y = _data(32)
        tuner = _tuner(
            self.get_temp_dir(),
            blocks=["dense_32", "explode"],
            max_trials=5,
            ensemble_every=None,
            distillation_every=None,
            num_initial_trials=5,
            max_consecutive_failed_trials=10,
            seed=4,
        )
        tuner.search(x, y, validation_data=(x, y), epochs=1, verbose=0)
        trials = tuner.oracle.trials
        self.assertEqual(len(trials), 5)
        statuses = {}
        for trial in trials.values():
            has_explode = "explode" in trial.hyperparameters.values["architecture"]
            statuses[has_explode] = trial.status
            self.assertEqual(trial.status, "FAILED" if has_explode else "COMPLETED", trial.message)
        self.assertEqual(set(statuses), {True, False})
        failed = next(t for t in trials.values() if t.status == "FAILED")
        self.assertIn("not finite", failed.message)

    def test_an_objective_never_reported_stops_with_a_clear_error(self):
        x, y = _data(16)
        tuner = _tuner(self.get_temp_dir(), objective="val_auc", max_trials=1)
        with pytest.raises(keras_tuner.errors.FatalValueError, match="val_auc.*never reported"):
            tuner.search(x, y, validation_data=(x, y), epochs=1, verbose=0)

    def test_bad_data_is_refused_with_what_was_received(self):
        tuner = _tuner(self.get_temp_dir(), max_trials=1)
        x, y = _data(8)
        with pytest.raises(ValueError, match=r"`x` is empty. Received: x.shape=\(0, 6\)"):
            tuner.search(x[:0], y[:0])
        with pytest.raises(ValueError, match=r"same number of samples.*y.shape=\(5,\)"):
            tuner.search(x, y[:5])
        with pytest.raises(ValueError, match=r"rank 2.*shape\[1:\]=\(1, 1, 1, 6\)"):
            tuner.search(x.reshape(8, 1, 1, 1, 6), y)
        with pytest.raises(ValueError, match=r"lie in \[0, 3\). Received: min=0, max=7"):
            tuner.search(x, np.arange(8))
        with pytest.raises(ValueError, match=r"x.shape\[1:\]=\(6,\).*\(5,\)"):
            tuner.search(x, y, validation_data=(x[:, :5], y))
        with pytest.raises(ValueError, match="None of the blocks can take inputs of rank 2"):
            _tuner(self.get_temp_dir(), blocks=["conv3x3_16"]).search(x, y)
        with pytest.raises(ValueError, match="num_classes=1"):
            ModelSearch(ModelSearchOracle(), num_classes=1, directory=self.get_temp_dir())
        with pytest.raises(ValueError, match="Unknown block name"):
            ModelSearch(ModelSearchOracle(), blocks=["conv9"], directory=self.get_temp_dir())


# Keras' own `.keras` saving imports TensorFlow whenever it is installed (to recognize a
# `tf.TensorShape`), so rather than look for it in `sys.modules`, the script makes it
# unimportable: the whole search, distillation and ensemble included, must run without it.
_NUMPY_SEARCH_SCRIPT = textwrap.dedent(
    """
    import sys
    sys.modules["tensorflow"] = None
    import numpy as np
    from keras_suite.tuner import ModelSearch, ModelSearchOracle

    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, 6)).astype("float32")
    y = np.argmax(x[:, :3], axis=1)
    oracle = ModelSearchOracle("val_accuracy", max_trials=3, seed=1, num_initial_trials=2,
                               ensemble_every=3, distillation_every=2)
    tuner = ModelSearch(oracle, num_classes=3, blocks=["dense_32"], directory=sys.argv[1])
    tuner.search(x, y, validation_data=(x, y), epochs=1, batch_size=16, verbose=0)
    types = sorted(t.hyperparameters.values["trial_type"] for t in oracle.trials.values())
    statuses = {t.status for t in oracle.trials.values()}
    print(types, sorted(statuses))
    """
)


@pytest.mark.skipif(
    keras.config.backend() == "tensorflow", reason="the TensorFlow backend needs TensorFlow"
)
def test_a_search_on_arrays_runs_without_tensorflow(tmp_path):
    result = subprocess.run(
        [sys.executable, "-c", _NUMPY_SEARCH_SCRIPT, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    last_line = result.stdout.strip().splitlines()[-1]
    assert last_line == "['distillation', 'ensemble', 'search'] ['COMPLETED']"


_RESUME_SCRIPT = textwrap.dedent(
    """
    import os, sys
    import keras
    import numpy as np
    from keras_suite.tuner import ModelSearch, ModelSearchOracle

    rng = np.random.default_rng(0)
    x = rng.normal(size=(48, 6)).astype("float32")
    y = np.argmax(x[:, :3], axis=1)

    class KillInTrial(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if self.model.name == "trial_" + sys.argv[2] and batch == 1:
                os.kill(os.getpid(), 9)

    oracle = ModelSearchOracle("val_accuracy", max_trials=4, seed=5, ensemble_every=None,
                               distillation_every=None, num_initial_trials=2)
    tuner = ModelSearch(oracle, num_classes=3, blocks=["dense_32", "dense_64"],
                        directory=sys.argv[1], project_name="p", run_eagerly=True)
    tuner.search(x, y, validation_data=(x, y), epochs=1, batch_size=8, verbose=0,
                 callbacks=[KillInTrial()])
    """
)


@pytest.mark.slow
def test_a_killed_search_resumes_without_repeating_or_losing_trials(tmp_path, monkeypatch):
    script = tmp_path / "search.py"
    script.write_text(_RESUME_SCRIPT)
    project = tmp_path / "runs" / "p"
    killed = subprocess.run(
        [sys.executable, str(script), str(tmp_path / "runs"), "2"], capture_output=True, timeout=300
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr.decode()[-2000:]
    with open(project / "trial_2" / "trial.json") as f:
        running = json.load(f)
    assert running["status"] == "RUNNING"
    assert not os.path.exists(project / "trial_3")
    # Resume in this process, as the restarted script would.
    monkeypatch.setattr(sys, "argv", ["search.py", str(tmp_path / "runs"), "none"])
    runpy.run_path(str(script), run_name="__main__")
    trials = {}
    for index in range(4):
        with open(project / f"trial_{index}" / "trial.json") as f:
            trials[index] = json.load(f)
    assert sorted(os.listdir(project)) == sorted(
        [f"trial_{i}" for i in range(4)] + ["oracle.json", "tuner0.json"]
    )
    assert all(t["status"] == "COMPLETED" for t in trials.values())
    assert trials[2]["hyperparameters"]["values"] == running["hyperparameters"]["values"]
    configs = [json.dumps(t["hyperparameters"]["values"], sort_keys=True) for t in trials.values()]
    assert len(set(configs)) == 4
    with open(project / "oracle.json") as f:
        assert json.load(f)["end_order"] == ["0", "1", "2", "3"]


def test_a_training_mutation_continues_from_all_of_its_parents_weights(tmp_path):
    x, y = _data(64)
    tuner = _tuner(
        str(tmp_path),
        max_trials=2,
        num_initial_trials=1,
        mutate_training_probability=1.0,
        ensemble_every=None,
        distillation_every=None,
    )
    parent_weights = {}

    class RecordStart(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            if self.model.name == "trial_0":
                return
            # The child's weights before its first step: its parent's trained weights.
            for layer in self.model.layers:
                if layer.weights:
                    parent_weights[layer.name] = layer.get_weights()

    tuner.search(
        x, y, validation_data=(x, y), epochs=1, batch_size=16, verbose=0, callbacks=[RecordStart()]
    )
    child = tuner.oracle.trials["1"].hyperparameters.values
    parent = tuner.oracle.trials["0"].hyperparameters.values
    assert child["parent_trial_id"] == "0"
    assert child["architecture"] == parent["architecture"]
    assert child["mutation"].split()[0] in ("learning_rate", "optimizer", "dropout")
    trained = tuner.load_model(tuner.oracle.trials["0"])
    weighted = sorted(layer.name for layer in trained.layers if layer.weights)
    assert sorted(parent_weights) == weighted
    for name in weighted:
        for got, want in zip(parent_weights[name], trained.get_layer(name).get_weights()):
            np.testing.assert_array_equal(got, want)
    num_shared = tuner.oracle.trials["1"].metrics.get_last_value("num_shared_layers")
    assert num_shared == len(weighted)
