"""`ModelSearch`: the KerasTuner tuner that builds, trains and combines Model Search trials."""

import contextlib
import json
import math
import os

import keras
import keras_tuner
import numpy as np

from keras_suite.tuner.block_registry import build_tower, resolve_blocks, transition
from keras_suite.tuner.distillation_loss import (
    DistillationLoss,
    label_weight_at,
    pack_distillation_targets,
)
from keras_suite.tuner.ensemble import build_ensemble
from keras_suite.tuner.model_search_oracle import ModelSearchOracle
from keras_suite.tuner.weight_sharing import align_blocks, share_weights

MODEL_FILE = "model.keras"
SHARING_FILE = "weight_sharing.json"
# `tf.data.Dataset.cardinality()` of a dataset whose length tf.data cannot tell in advance.
_UNKNOWN_CARDINALITY = -2
# The `fit` arguments that a distillation trial's batch generator handles itself.
_BATCHING_ARGUMENTS = ("batch_size", "shuffle", "steps_per_epoch")


class ModelSearch(keras_tuner.Tuner):
    """The Model Search tuner: builds each trial's model from blocks and a problem head.

    For a `"search"` trial it stacks the trial's blocks (inserting rank transitions), adds
    dropout and the head, starts from the parent trial's trained weights where they fit (weight
    sharing), and trains with `model.fit`. For an `"ensemble"` trial it loads the members' saved
    models and averages (or learns to weight) their predictions. For a `"distillation"` trial it
    trains a search child on the labels and on the teachers' averaged predictions with
    `DistillationLoss`. Each trial reports its metrics, `num_params` (the parameter count) and
    `num_shared_layers`, and saves its model as `model.keras` in its trial folder (shared by all
    workers in distributed mode). A trial whose loss becomes NaN or infinite is recorded as
    failed and the search goes on.

    The search runs under every Keras backend (JAX, PyTorch, TensorFlow): the data may be NumPy
    arrays or a `tf.data.Dataset` on each of them, and the tuner needs TensorFlow only for a
    `tf.data.Dataset` or a `distribution_strategy` (TensorFlow backend only).

    Args:
        oracle: a `ModelSearchOracle`.
        num_classes: the number of classes for classification (integer labels, or one-hot);
            `None` for regression.
        blocks: the blocks to search over: `None` (every registered block), a list of registered
            names and Keras layers/models, or a dict from names to layers or build functions.
        head: optional; a Keras layer or function mapping the `(batch, features)` tensor of the
            tower to the model's output. Requires `loss`.
        loss: the training loss; defaults to sparse (or plain, for one-hot labels) categorical
            cross-entropy for classification and mean squared error for regression.
        metrics: the metrics to report; defaults to `["accuracy"]` (classification) or
            `["mae"]` (regression).
        directory: the folder holding the project (trials, models, oracle state).
        project_name: the project's sub-folder name.
        distribution_strategy: an optional `tf.distribute.Strategy` (e.g. `MirroredStrategy`)
            under which every model is built and trained; TensorFlow backend only (under JAX,
            use `keras.distribution` instead).
        overwrite: whether to delete an existing project instead of resuming it.
        run_eagerly: passed to `compile`; eager steps are faster for tiny models and data.
        jit_compile: passed to `compile` (XLA).
        **kwargs: other `keras_tuner.Tuner` arguments.

    Example:

    ```python
    oracle = keras_suite.tuner.ModelSearchOracle(objective="val_accuracy", max_trials=6)
    tuner = keras_suite.tuner.ModelSearch(oracle, num_classes=10, directory="runs")
    tuner.search(x, y, validation_data=(x_val, y_val), epochs=2, verbose=0)
    tuner.results_summary()
    tuner.export_model("best.keras")
    ```
    """

    def __init__(
        self,
        oracle,
        num_classes=None,
        blocks=None,
        head=None,
        loss=None,
        metrics=None,
        directory=None,
        project_name=None,
        distribution_strategy=None,
        overwrite=False,
        run_eagerly=False,
        jit_compile="auto",
        **kwargs,
    ):
        if num_classes is not None and (
            isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 2
        ):
            raise ValueError(
                "`num_classes` must be an integer >= 2 (classification) or None (regression). "
                f"Received: num_classes={num_classes!r}"
            )
        if head is not None and loss is None:
            raise ValueError(
                f"A custom `head` needs its `loss`. Received: head={head!r}, loss=None"
            )
        if distribution_strategy is not None and keras.config.backend() != "tensorflow":
            raise ValueError(
                "`distribution_strategy` is a `tf.distribute.Strategy`, which only the "
                "TensorFlow backend runs; set `KERAS_BACKEND=tensorflow` or leave it out (under "
                "JAX, `keras.distribution` spreads training over devices). Received: "
                f"distribution_strategy={distribution_strategy!r} with "
                f"backend={keras.config.backend()!r}"
            )
        if head is not None and not callable(head):
            raise ValueError(
                f"`head` must be a Keras layer or a function of a tensor. Received: head={head!r}"
            )
        self.num_classes = num_classes
        self.head = head
        self.run_eagerly = run_eagerly
        self.jit_compile = jit_compile
        self.block_specs = resolve_blocks(blocks)
        self._one_hot = False
        self._output_dim = 1
        self._progress = None
        self._trials_done = 0
        super().__init__(
            oracle=oracle,
            hypermodel=None,
            loss=loss,
            metrics=metrics,
            directory=directory,
            project_name=project_name,
            distribution_strategy=distribution_strategy,
            overwrite=overwrite,
            **kwargs,
        )

    @property
    def problem(self):
        """`"classification"`, `"regression"` or `"custom"`."""
        if self.head is not None:
            return "custom"
        return "classification" if self.num_classes is not None else "regression"

    def search(self, x=None, y=None, validation_data=None, progress=None, **fit_kwargs):
        """Runs the search: `x`, `y`, `validation_data` and other arguments as for `fit`.

        Args:
            x: the training inputs (an array of rank 2, 3 or 4 with the batch first), or a
                `tf.data.Dataset` of `(inputs, targets)` batches.
            y: the training targets (with array inputs).
            validation_data: `(x_val, y_val)` or a `tf.data.Dataset`; needed by `val_*`
                objectives.
            progress: optional `progress(done, total, **values)` callable, called after each
                trial this tuner runs with the number of trials ended (those of a resumed run
                included; in chief/worker mode, this worker's), the oracle's `max_trials`, and
                as `values` the trial's `score` (when it has one) and the `best` score so far.
            **fit_kwargs: `epochs`, `batch_size`, `callbacks`, `verbose`, ... passed to `fit`.
        """
        input_shape = self._check_data(x, y, "x", "y")
        if validation_data is not None:
            if _is_tf_dataset(validation_data):
                val_shape = self._check_data(validation_data, None, "validation_data", "")
            elif isinstance(validation_data, (tuple, list)) and len(validation_data) == 2:
                val_shape = self._check_data(
                    *validation_data, "validation_data[0]", "validation_data[1]"
                )
            else:
                raise ValueError(
                    "`validation_data` must be `(x_val, y_val)` or a `tf.data.Dataset`. "
                    f"Received: validation_data of type {type(validation_data).__name__}"
                )
            if val_shape != input_shape:
                raise ValueError(
                    "Validation inputs must have the training inputs' shape. Received: "
                    f"x.shape[1:]={input_shape}, validation inputs shape[1:]={val_shape}"
                )
        if isinstance(self.oracle, ModelSearchOracle):
            self.oracle.set_block_space(self.block_specs, len(input_shape) + 1)
        self._input_shape = input_shape
        self._progress = progress
        self._trials_done = len(getattr(self.oracle, "end_order", ()))
        try:
            return super().search(x, y, validation_data=validation_data, **fit_kwargs)
        finally:
            self._progress = None

    def on_trial_end(self, trial):
        super().on_trial_end(trial)
        self._trials_done += 1
        if self._progress is None:
            return
        values = {}
        score = self.oracle.get_trial(trial.trial_id).score
        if score is not None:
            values["score"] = float(score)
        best = self.oracle.get_best_trials(1)
        if best and best[0].score is not None:
            values["best"] = float(best[0].score)
        self._progress(self._trials_done, getattr(self.oracle, "max_trials", None), **values)

    def build_model(self, values, input_shape, name="model"):
        """Builds (untrained) the single model of a search or distillation trial's `values`."""
        architecture = json.loads(values["architecture"])
        inputs = keras.Input(shape=input_shape, name="inputs")
        x = build_tower(inputs, architecture, self.block_specs)
        x = transition(x, 2, name="features")
        if values["dropout"] > 0:
            x = keras.layers.Dropout(values["dropout"], name="dropout")(x)
        if self.head is not None:
            outputs = self.head(x)
        elif self.num_classes is not None:
            outputs = keras.layers.Dense(self.num_classes, activation="softmax", name="head")(x)
        else:
            outputs = keras.layers.Dense(self._output_dim, name="head")(x)
        return keras.Model(inputs, outputs, name=name)

    def run_trial(self, trial, x=None, y=None, validation_data=None, **fit_kwargs):
        values = trial.hyperparameters.values
        trial_dir = self.get_trial_dir(trial.trial_id)
        if _is_tf_dataset(x):
            # A dataset shuffles itself; `fit` would warn that its own `shuffle` is ignored.
            fit_kwargs.setdefault("shuffle", False)
        keras.utils.clear_session()
        with self._scope():
            if values["trial_type"] == "ensemble":
                model, metrics = self._run_ensemble(values, x, y, validation_data, fit_kwargs)
                metrics["num_shared_layers"] = 0.0
            else:
                model, metrics, shared = self._run_single(
                    trial, values, x, y, validation_data, fit_kwargs
                )
                metrics["num_shared_layers"] = float(len(shared))
                with open(os.path.join(trial_dir, SHARING_FILE), "w") as f:
                    json.dump(
                        {
                            "parent_trial_id": values["parent_trial_id"],
                            "architecture": json.loads(values["architecture"]),
                            "layers": shared,
                        },
                        f,
                    )
        metrics["num_params"] = float(model.count_params())
        bad = {name: value for name, value in metrics.items() if not math.isfinite(value)}
        if bad:
            raise keras_tuner.errors.FailedTrialError(
                f"Trial {trial.trial_id} diverged: its metrics are not finite, so it is recorded "
                f"as failed. Received: {bad}"
            )
        self._check_objective_reported(metrics)
        model.save(os.path.join(trial_dir, MODEL_FILE))
        return metrics

    def load_model(self, trial):
        path = os.path.join(self.get_trial_dir(trial.trial_id), MODEL_FILE)
        if not os.path.exists(path):
            raise ValueError(
                f"Trial {trial.trial_id} has no saved model (it failed or has not finished). "
                f"Received: status={trial.status}, path={path}"
            )
        return keras.saving.load_model(path)

    def export_model(self, path):
        """Saves the best trial's model (a single tower or an ensemble) as a `.keras` file.

        Args:
            path: the file to write; must end in `.keras`.

        Returns:
            The path written.
        """
        if not str(path).endswith(".keras"):
            raise ValueError(f"`path` must end in `.keras`. Received: path={path!r}")
        best = [t for t in self.oracle.get_best_trials(1) if t.status == "COMPLETED"]
        if not best:
            raise ValueError("No trial has completed yet, so there is no model to export.")
        self.load_model(best[0]).save(path)
        return path

    def _scope(self):
        if self.distribution_strategy is None:
            return contextlib.nullcontext()
        return self.distribution_strategy.scope()

    def _compile(self, model, values):
        model.compile(
            optimizer=_optimizer(values["optimizer"], values["learning_rate"]),
            loss=self._loss(),
            metrics=self._metrics(),
            run_eagerly=self.run_eagerly,
            jit_compile=self.jit_compile,
        )

    def _loss(self):
        if self.loss is not None:
            return self.loss
        if self.num_classes is None:
            return "mean_squared_error"
        return "categorical_crossentropy" if self._one_hot else "sparse_categorical_crossentropy"

    def _metrics(self):
        if self.metrics is not None:
            return list(self.metrics)
        if self.head is not None:
            return []
        return ["accuracy"] if self.num_classes is not None else ["mae"]

    def _run_single(self, trial, values, x, y, validation_data, fit_kwargs):
        model = self.build_model(values, self._input_shape, name=f"trial_{trial.trial_id}")
        shared = []
        parent_path = os.path.join(
            self.project_dir, f"trial_{values['parent_trial_id']}", MODEL_FILE
        )
        if values["weight_sharing"] and os.path.exists(parent_path):
            shared = share_weights(
                keras.saving.load_model(parent_path, compile=False),
                model,
                self._block_map(values["parent_trial_id"], json.loads(values["architecture"])),
            )
        fit_kwargs = dict(fit_kwargs)
        callbacks = list(fit_kwargs.pop("callbacks", None) or []) + [
            keras.callbacks.TerminateOnNaN()
        ]
        if values["trial_type"] == "distillation":
            if self.problem == "custom":
                raise keras_tuner.errors.FatalValueError(
                    "Distillation needs a classification or regression head; turn it off with "
                    f"`distillation_every=None` for a custom head. Received: head={self.head!r}"
                )
            teacher = self._load_members(json.loads(values["teacher_trial_ids"]), "teacher")
            loss = DistillationLoss(self.problem, values["distillation_temperature"])
            data, steps = self._with_teacher(x, y, teacher, values["distillation"], fit_kwargs)
            model.compile(
                optimizer=_optimizer(values["optimizer"], values["learning_rate"]),
                loss=loss,
                run_eagerly=self.run_eagerly,
                jit_compile=self.jit_compile,
            )
            student_kwargs = {k: v for k, v in fit_kwargs.items() if k not in _BATCHING_ARGUMENTS}
            history = model.fit(
                data, steps_per_epoch=steps, shuffle=False, callbacks=callbacks, **student_kwargs
            )
            metrics = {k: float(v[-1]) for k, v in history.history.items()}
            self._compile(model, values)
            metrics.update(self._evaluate(model, None, None, validation_data, fit_kwargs))
            return model, metrics, shared
        self._compile(model, values)
        history = model.fit(
            x, y, validation_data=validation_data, callbacks=callbacks, **fit_kwargs
        )
        metrics = {k: float(v[-1]) for k, v in history.history.items()}
        return model, metrics, shared

    def _block_map(self, parent_trial_id, architecture):
        path = os.path.join(self.project_dir, f"trial_{parent_trial_id}", SHARING_FILE)
        if not os.path.exists(path):
            return None
        with open(path) as f:
            parent_architecture = json.load(f).get("architecture")
        if parent_architecture is None:
            return None
        return align_blocks(parent_architecture, architecture)

    def _run_ensemble(self, values, x, y, validation_data, fit_kwargs):
        model = self._load_members(json.loads(values["members"]), "ensemble", values)
        self._compile(model, values)
        fit_kwargs = {k: v for k, v in fit_kwargs.items() if k != "callbacks"}
        if values["ensemble_method"] == "weighted":
            model.fit(x, y, **fit_kwargs)
        metrics = self._evaluate(model, x, y, None, fit_kwargs)
        metrics.update(self._evaluate(model, None, None, validation_data, fit_kwargs))
        return model, metrics

    def _load_members(self, trial_ids, name, values=None):
        members = []
        for trial_id in trial_ids:
            path = os.path.join(self.project_dir, f"trial_{trial_id}", MODEL_FILE)
            if not os.path.exists(path):
                raise keras_tuner.errors.FailedTrialError(
                    f"Trial {trial_id}, needed as a member or teacher, has no saved model. "
                    f"Received: path={path}"
                )
            members.append(keras.saving.load_model(path, compile=False))
        if len(members) == 1 and values is None:
            return members[0]
        method = values["ensemble_method"] if values is not None else "average"
        return build_ensemble(members, method=method, name=name)

    def _with_teacher(self, x, y, teacher, mode, fit_kwargs):
        """The student's training batches: inputs, and labels packed with the teacher's outputs.

        Returns an endless generator of `(inputs, packed_targets)` batches, one pass over the
        data after another, and the number of batches in a pass. Each batch carries the label
        weight of its training step under the distillation `mode`, so the schedule holds on
        every backend (a compiled JAX step reads a loss's own variables as constants). The
        generator does the work of the `_BATCHING_ARGUMENTS` of `fit_kwargs`.
        """
        epochs = fit_kwargs.get("epochs", 1)
        steps = fit_kwargs.get("steps_per_epoch")
        if _is_tf_dataset(x):
            if steps is None:
                steps = _num_batches(x)

            def one_pass():
                for inputs, labels in x.as_numpy_iterator():
                    yield inputs, labels, teacher.predict_on_batch(inputs)

        else:
            x, y = np.asarray(x), np.asarray(y)
            batch_size = fit_kwargs.get("batch_size") or 32
            shuffle = fit_kwargs.get("shuffle", True)
            predictions = teacher.predict(x, batch_size=batch_size, verbose=0)
            if steps is None:
                steps = math.ceil(len(x) / batch_size)

            def one_pass():
                order = np.random.permutation(len(x)) if shuffle else np.arange(len(x))
                for start in range(0, len(x), batch_size):
                    batch = order[start : start + batch_size]
                    yield x[batch], y[batch], predictions[batch]

        total_steps = max(steps * epochs, 1)

        def batches():
            step = 0
            while True:
                for inputs, labels, predictions in one_pass():
                    weight = label_weight_at(mode, step / total_steps)
                    targets = pack_distillation_targets(labels, predictions, self.problem, weight)
                    yield inputs, targets
                    step += 1

        return batches(), steps

    def _evaluate(self, model, x, y, data, fit_kwargs):
        prefix = ""
        if data is not None:
            prefix = "val_"
            x, y = (data, None) if _is_tf_dataset(data) else data
        if x is None:
            return {}
        batch_size = None if _is_tf_dataset(x) else fit_kwargs.get("batch_size")
        results = model.evaluate(x, y, batch_size=batch_size, verbose=0, return_dict=True)
        return {f"{prefix}{k}": float(v) for k, v in results.items()}

    def _check_objective_reported(self, metrics):
        objective = self.oracle.objective
        names = (
            list(objective.name_to_direction)
            if hasattr(objective, "name_to_direction")
            else [objective.name]
        )
        missing = [name for name in names if name not in metrics]
        if missing:
            raise keras_tuner.errors.FatalValueError(
                f"The objective {missing} is never reported. Choose one of the reported metrics, "
                "or pass `validation_data` for a `val_*` objective. Received: reported "
                f"metrics={sorted(metrics)}"
            )

    def _check_data(self, x, y, x_name, y_name):
        if x is None:
            raise ValueError(f"`{x_name}` is required. Received: {x_name}=None")
        if _is_tf_dataset(x):
            if y is not None:
                raise ValueError(
                    f"With a `tf.data.Dataset` as `{x_name}`, the targets come from the dataset; "
                    f"do not pass `{y_name}`. Received: {y_name} of type {type(y).__name__}"
                )
            spec = x.element_spec
            if not isinstance(spec, tuple) or len(spec) < 2:
                raise ValueError(
                    f"`{x_name}` must yield `(inputs, targets)` batches. Received: "
                    f"element_spec={spec}"
                )
            if int(x.cardinality()) == 0:
                raise ValueError(f"`{x_name}` is an empty dataset. Received: cardinality=0")
            input_shape = tuple(spec[0].shape[1:])
            target_shape = tuple(spec[1].shape[1:])
        else:
            if y is None:
                raise ValueError(f"`{y_name}` is required with array inputs. Received: None")
            x_shape, y_shape = np.shape(x), np.shape(y)
            if not x_shape or x_shape[0] == 0:
                raise ValueError(f"`{x_name}` is empty. Received: {x_name}.shape={x_shape}")
            if not y_shape or y_shape[0] != x_shape[0]:
                raise ValueError(
                    f"`{x_name}` and `{y_name}` must hold the same number of samples. "
                    f"Received: {x_name}.shape={x_shape}, {y_name}.shape={y_shape}"
                )
            input_shape = tuple(x_shape[1:])
            target_shape = tuple(y_shape[1:])
            if self.num_classes is not None and self.head is None and not target_shape:
                labels = np.asarray(y)
                if labels.min() < 0 or labels.max() >= self.num_classes:
                    raise ValueError(
                        f"Class labels in `{y_name}` must lie in [0, {self.num_classes}). "
                        f"Received: min={labels.min()}, max={labels.max()}"
                    )
        if len(input_shape) + 1 not in (2, 3, 4):
            raise ValueError(
                f"`{x_name}` must have rank 2 (batch, features), 3 (batch, steps, channels) or 4 "
                f"(batch, height, width, channels). Received: shape[1:]={input_shape}"
            )
        if y_name and self.head is None:
            if self.num_classes is not None:
                self._one_hot = bool(target_shape) and target_shape[-1] == self.num_classes
            else:
                self._output_dim = int(np.prod(target_shape)) if target_shape else 1
        return input_shape


def _optimizer(name, learning_rate):
    if name == "sgd":
        return keras.optimizers.SGD(learning_rate=learning_rate, momentum=0.9)
    if name == "rmsprop":
        return keras.optimizers.RMSprop(learning_rate=learning_rate)
    if name == "adam":
        return keras.optimizers.Adam(learning_rate=learning_rate)
    raise ValueError(f"Unknown optimizer. Expected 'adam', 'rmsprop' or 'sgd'. Received: {name!r}")


def _is_tf_dataset(data):
    """Whether `data` is a `tf.data.Dataset`, told without importing TensorFlow.

    Checks the class names and modules, as Keras' own `is_tf_dataset` does
    (`keras/src/trainers/data_adapters/__init__.py`).
    """
    return any(
        parent.__name__ == "DatasetV2" and parent.__module__.startswith("tensorflow.python.")
        for parent in type(data).__mro__
    )


def _num_batches(dataset):
    """The number of batches in one pass over a finite `tf.data.Dataset`."""
    steps = int(dataset.cardinality())
    if steps == _UNKNOWN_CARDINALITY:
        steps = sum(1 for _ in dataset)
    if steps < 0:
        raise ValueError(
            "A `tf.data.Dataset` that repeats forever needs `steps_per_epoch` for distillation "
            f"trials. Received: cardinality={steps}"
        )
    return steps
