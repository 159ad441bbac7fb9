"""`ModelSearchOracle`: Model Search's beam-search mutation, ensembling and distillation."""

import json

import keras_tuner
import numpy as np

from keras_suite.tuner.block_registry import BlockSpec
from keras_suite.tuner.distillation_loss import DISTILLATION_MODES
from keras_suite.tuner.ensemble import ENSEMBLE_METHODS

TRIAL_TYPES = ("search", "ensemble", "distillation")
SINGLE_MODEL_TYPES = ("search", "distillation")
NO_PARENT = "none"
PARENT_SELECTIONS = ("rank", "uniform")
_MAX_ATTEMPTS = 50


class ModelSearchOracle(keras_tuner.Oracle):
    """Model Search (Google Research, 2021) as a KerasTuner oracle.

    Model Search is an adaptive, greedy, incremental architecture search. Each trial is one of:

    - `"search"`: an `architecture` (a JSON list of block names, input to output). The first
      `num_initial_trials` are random; later ones take one trial from the current top
      `beam_size` completed trials (`parent_trial_id`; by default the best is the likeliest,
      see `parent_selection`) and mutate it by exactly one step: add one
      block (with probability `increase_complexity_probability`, while the depth bound allows)
      or replace one block. The depth bound starts at `min_depth + 1` and grows by one every
      `depth_growth_every` completed single-model trials, up to `max_depth`. With probability
      `mutate_training_probability` the step changes the training technique instead: the child
      keeps the parent's architecture (and so, with weight sharing, all its trained weights)
      and changes one of `learning_rate`, `optimizer` or `dropout`. Otherwise the training
      technique is inherited. The random first trials train with `initial_training`.
    - `"ensemble"` (every `ensemble_every`-th trial): `members`, the JSON list of the ids of the
      best `ensemble_width` completed single-model trials, combined by `ensemble_method`.
    - `"distillation"` (every `distillation_every`-th trial): a search trial that also learns
      from the predictions of `teacher_trial_ids` (the best ensemble's members, or the best
      trial), balanced by `distillation` at `distillation_temperature`.

    Every value is a plain bool, int, float or str (lists as JSON strings), so KerasTuner's
    distributed mode carries them; every trial records its parent and its `mutation` (the
    lineage). The oracle's state holds the block space and the lineage, so a killed search
    resumes without repeating or losing trials. The block space (which blocks, which input rank)
    is set by `ModelSearch` from the data, or by `set_block_space`.

    Args:
        objective: the metric to optimise (a name such as `"val_accuracy"` or a
            `keras_tuner.Objective`). Defaults to `"val_loss"`.
        max_trials: the number of trials.
        beam_size: how many of the best completed trials may be mutated.
        parent_selection: how the parent is drawn from the beam: `"rank"` (each trial half as
            likely as the one ranked just above it, so the search stays greedy while the beam
            keeps it exploring) or `"uniform"`.
        increase_complexity_probability: the probability that a mutation adds a block rather
            than replacing one.
        min_depth: the fewest blocks in an architecture.
        max_depth: the most blocks in an architecture.
        num_initial_trials: how many random architectures start the search.
        depth_growth_every: completed trials per increase of the depth bound; defaults to
            `beam_size`.
        ensemble_every: every how many trials an ensemble trial is made (`None`: never).
        ensemble_width: how many members an ensemble has at most.
        ensemble_method: `"average"` or `"weighted"` (learned weights).
        distillation_every: every how many trials a distillation trial is made (`None`: never).
        distillation: how the label and teacher losses are balanced: `"adaptive"` (from the
            teacher to the labels over training) or `"balanced"` (half and half).
        distillation_temperature: the softening temperature of distillation.
        weight_sharing: whether a child starts from its parent's weights where they fit.
        mutate_training_probability: the probability that a mutation changes one training
            hyper-parameter instead of the architecture.
        initial_training: the training technique of the random first trials: a dict with
            `learning_rate`, `optimizer` and `dropout` (a value missing from it takes its
            default), or `"random"` to sample each from the searched values. Defaults to Adam at
            the searched learning rate closest to 1e-3 (Keras' default) without dropout, the
            usual known-good start, which the mutations then tune.
        learning_rates: the learning rates searched.
        optimizers: the optimizer names searched (`"adam"`, `"rmsprop"`, `"sgd"`).
        dropout_rates: the dropout rates (before the head) searched.
        seed: the random seed.
        **kwargs: other `keras_tuner.Oracle` arguments (`max_retries_per_trial`,
            `max_consecutive_failed_trials`, ...).

    Example:

    ```python
    oracle = keras_suite.tuner.ModelSearchOracle(objective="val_accuracy", max_trials=12)
    tuner = keras_suite.tuner.ModelSearch(oracle, num_classes=10, directory="runs")
    tuner.search(x, y, validation_data=(x_val, y_val), epochs=2)
    ```
    """

    def __init__(
        self,
        objective="val_loss",
        max_trials=12,
        beam_size=5,
        parent_selection="rank",
        increase_complexity_probability=0.9,
        min_depth=1,
        max_depth=6,
        num_initial_trials=3,
        depth_growth_every=None,
        ensemble_every=5,
        ensemble_width=3,
        ensemble_method="average",
        distillation_every=6,
        distillation="adaptive",
        distillation_temperature=2.0,
        weight_sharing=True,
        mutate_training_probability=0.3,
        initial_training=None,
        learning_rates=(3e-4, 1e-3, 3e-3, 1e-2),
        optimizers=("adam", "rmsprop", "sgd"),
        dropout_rates=(0.0, 0.1, 0.2, 0.3),
        seed=None,
        **kwargs,
    ):
        _check_int(max_trials, "max_trials", 1)
        _check_int(beam_size, "beam_size", 1)
        _check_int(min_depth, "min_depth", 1)
        _check_int(max_depth, "max_depth", min_depth)
        _check_int(num_initial_trials, "num_initial_trials", 1)
        _check_int(ensemble_width, "ensemble_width", 2)
        if depth_growth_every is not None:
            _check_int(depth_growth_every, "depth_growth_every", 1)
        for name, every in (
            ("ensemble_every", ensemble_every),
            ("distillation_every", distillation_every),
        ):
            if every is not None:
                _check_int(every, name, 2)
        for name, value in (
            ("increase_complexity_probability", increase_complexity_probability),
            ("mutate_training_probability", mutate_training_probability),
        ):
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"`{name}` must be in [0, 1]. Received: {name}={value}")
        if parent_selection not in PARENT_SELECTIONS:
            raise ValueError(
                f"`parent_selection` must be one of {PARENT_SELECTIONS}. "
                f"Received: parent_selection={parent_selection!r}"
            )
        if ensemble_method not in ENSEMBLE_METHODS:
            raise ValueError(
                f"`ensemble_method` must be one of {ENSEMBLE_METHODS}. "
                f"Received: ensemble_method={ensemble_method!r}"
            )
        if distillation not in DISTILLATION_MODES:
            raise ValueError(
                f"`distillation` must be one of {DISTILLATION_MODES}. "
                f"Received: distillation={distillation!r}"
            )
        if not distillation_temperature > 0:
            raise ValueError(
                "`distillation_temperature` must be positive. "
                f"Received: distillation_temperature={distillation_temperature}"
            )
        unknown = [name for name in optimizers if name not in ("adam", "rmsprop", "sgd")]
        if not optimizers or unknown:
            raise ValueError(
                "`optimizers` must be a non-empty list among 'adam', 'rmsprop' and 'sgd'. "
                f"Received: optimizers={optimizers}"
            )
        hyperparameters = keras_tuner.HyperParameters()
        hyperparameters.Choice("trial_type", list(TRIAL_TYPES))
        hyperparameters.Choice("learning_rate", [float(v) for v in learning_rates])
        hyperparameters.Choice("optimizer", list(optimizers))
        hyperparameters.Choice("dropout", [float(v) for v in dropout_rates])
        super().__init__(
            objective=objective,
            max_trials=max_trials,
            hyperparameters=hyperparameters,
            seed=seed,
            **kwargs,
        )
        self.beam_size = beam_size
        self.parent_selection = parent_selection
        self.increase_complexity_probability = float(increase_complexity_probability)
        self.min_depth = min_depth
        self.max_depth = max_depth
        self.num_initial_trials = num_initial_trials
        self.depth_growth_every = depth_growth_every or beam_size
        self.ensemble_every = ensemble_every
        self.ensemble_width = ensemble_width
        self.ensemble_method = ensemble_method
        self.distillation_every = distillation_every
        self.distillation = distillation
        self.distillation_temperature = float(distillation_temperature)
        self.weight_sharing = bool(weight_sharing)
        self.mutate_training_probability = float(mutate_training_probability)
        self.learning_rates = [float(v) for v in learning_rates]
        self.optimizers = list(optimizers)
        self.dropout_rates = [float(v) for v in dropout_rates]
        self.initial_training = self._check_initial_training(initial_training)
        self.block_space = None
        self.input_rank = None
        self.lineage = {}

    def set_block_space(self, blocks, input_rank):
        """Sets the blocks the search may use and the rank of the model's input.

        Args:
            blocks: a dict from block names to `BlockSpec`s (or to their JSON form,
                `{"ranks": [...], "output_rank": ...}`).
            input_rank: the rank of the input batch: 2, 3 or 4.
        """
        if input_rank not in (2, 3, 4):
            raise ValueError(
                "The input must have rank 2 (batch, features), 3 (batch, steps, channels) or "
                f"4 (batch, height, width, channels). Received: input_rank={input_rank}"
            )
        space = {}
        for name, spec in blocks.items():
            space[name] = spec.to_json() if isinstance(spec, BlockSpec) else dict(spec)
        usable = [name for name in space if self._spec(name, space).rank_after(input_rank)]
        if not usable:
            raise ValueError(
                f"None of the blocks can take inputs of rank {input_rank}. "
                f"Received: blocks={sorted(space)}"
            )
        self.block_space = space
        self.input_rank = int(input_rank)

    def depth_bounds(self):
        """The current `(min_depth, max_depth)` of new architectures, which grows over time."""
        completed = len(self._completed(SINGLE_MODEL_TYPES))
        upper = self.min_depth + 1 + completed // self.depth_growth_every
        return self.min_depth, min(self.max_depth, upper)

    def beam(self):
        """The ids of the best `beam_size` completed single-model trials, best first."""
        return [trial.trial_id for trial in self._completed(SINGLE_MODEL_TYPES)[: self.beam_size]]

    def is_valid_architecture(self, architecture):
        """Whether every block of `architecture` can follow its predecessor (ranks only)."""
        rank = self.input_rank
        for name in architecture:
            if name not in self.block_space:
                return False
            rank = self._spec(name).rank_after(rank)
            if rank is None:
                return False
        return True

    def populate_space(self, trial_id):
        if self.block_space is None:
            raise ValueError(
                "`ModelSearchOracle` has no block space yet. Use it through "
                "`keras_suite.tuner.ModelSearch`, or call `oracle.set_block_space(blocks, "
                "input_rank)` first. Received: block_space=None"
            )
        index = int(trial_id)
        values = None
        if self._is_turn(index, self.ensemble_every):
            values = self._ensemble_values()
        if values is None and self._is_turn(index, self.distillation_every):
            values = self._search_values(index, distill=True)
        if values is None:
            values = self._search_values(index, distill=False)
        if values is None:
            return {"status": keras_tuner.engine.trial.TrialStatus.STOPPED, "values": None}
        self.lineage[trial_id] = {
            "trial_type": values["trial_type"],
            "parent_trial_id": values["parent_trial_id"],
            "mutation": values["mutation"],
            "members": values["members"],
            "teacher_trial_ids": values["teacher_trial_ids"],
        }
        return {"status": keras_tuner.engine.trial.TrialStatus.RUNNING, "values": values}

    def get_state(self):
        state = super().get_state()
        state.update(
            block_space=self.block_space,
            input_rank=self.input_rank,
            lineage=self.lineage,
            beam=self.beam(),
        )
        return state

    def set_state(self, state):
        super().set_state(state)
        self.block_space = state.get("block_space")
        self.input_rank = state.get("input_rank")
        self.lineage = dict(state.get("lineage", {}))

    def _check_initial_training(self, initial_training):
        if initial_training == "random":
            return "random"
        if initial_training is not None and not isinstance(initial_training, dict):
            raise ValueError(
                "`initial_training` must be a dict of `learning_rate`, `optimizer` and `dropout`, "
                f"or 'random'. Received: initial_training={initial_training!r}"
            )
        given = dict(initial_training or {})
        unknown = sorted(set(given) - {"learning_rate", "optimizer", "dropout"})
        if unknown:
            raise ValueError(
                "`initial_training` may only set `learning_rate`, `optimizer` and `dropout`. "
                f"Received: initial_training={initial_training!r}"
            )
        defaults = {
            "learning_rate": min(self.learning_rates, key=lambda v: abs(np.log(v / 1e-3))),
            "optimizer": "adam" if "adam" in self.optimizers else self.optimizers[0],
            "dropout": min(self.dropout_rates),
        }
        defaults.update(given)
        for name, options in (
            ("learning_rate", self.learning_rates),
            ("optimizer", self.optimizers),
            ("dropout", self.dropout_rates),
        ):
            if defaults[name] not in options:
                raise ValueError(
                    f"`initial_training['{name}']` must be one of the searched values {options}. "
                    f"Received: initial_training={initial_training!r}"
                )
        return defaults

    def _is_turn(self, index, every):
        return every is not None and (index + 1) % every == 0

    def _spec(self, name, space=None):
        config = (space or self.block_space)[name]
        ranks = tuple(config["ranks"]) if config.get("ranks") is not None else None
        return BlockSpec(name, None, ranks, config.get("output_rank"))

    def _completed(self, trial_types):
        trials = [
            trial
            for trial in self.trials.values()
            if trial.status == keras_tuner.engine.trial.TrialStatus.COMPLETED
            and trial.score is not None
            and not np.isnan(trial.score)
            and trial.hyperparameters.values.get("trial_type") in trial_types
        ]
        return sorted(
            trials, key=lambda trial: trial.score, reverse=self.objective.direction == "max"
        )

    def _tried(self):
        return {_config_key(trial.hyperparameters.values) for trial in self.trials.values()}

    def _rng(self, index, attempt):
        return np.random.default_rng([int(self.seed), index, attempt])

    def _ensemble_values(self):
        candidates = self._completed(SINGLE_MODEL_TYPES)[: self.ensemble_width]
        if len(candidates) < 2:
            return None
        members = sorted(trial.trial_id for trial in candidates)
        best = candidates[0].hyperparameters.values
        values = self._base_values("ensemble")
        values.update(
            members=json.dumps(members),
            ensemble_method=self.ensemble_method,
            mutation=f"ensemble of {len(members)}",
            learning_rate=best["learning_rate"],
            optimizer=best["optimizer"],
        )
        if _config_key(values) in self._tried():
            return None
        return values

    def _teachers(self):
        best = self._completed(TRIAL_TYPES)
        if not best:
            return None
        values = best[0].hyperparameters.values
        if values["trial_type"] == "ensemble":
            return json.loads(values["members"])
        return [best[0].trial_id]

    def _search_values(self, index, distill):
        teachers = self._teachers() if distill else None
        if distill and teachers is None:
            return None
        searches = [
            trial
            for trial in self.trials.values()
            if trial.hyperparameters.values.get("trial_type") in SINGLE_MODEL_TYPES
        ]
        beam = self._completed(SINGLE_MODEL_TYPES)[: self.beam_size]
        tried = self._tried()
        for attempt in range(_MAX_ATTEMPTS):
            rng = self._rng(index, attempt)
            if not beam or len(searches) < self.num_initial_trials:
                values = self._random_search_values(rng)
            else:
                parent = beam[self._parent_index(len(beam), rng)]
                values = self._mutate(parent, rng)
            if values is None:
                continue
            if distill:
                values.update(
                    trial_type="distillation",
                    teacher_trial_ids=json.dumps(teachers),
                    distillation=self.distillation,
                    distillation_temperature=self.distillation_temperature,
                )
            if _config_key(values) not in tried:
                return values
        return None

    def parent_probabilities(self, beam_length):
        """The probability of each beam trial (best first) to be the next parent."""
        if self.parent_selection == "uniform":
            weights = np.ones(beam_length)
        else:
            weights = 0.5 ** np.arange(beam_length)
        return weights / weights.sum()

    def _parent_index(self, beam_length, rng):
        return int(rng.choice(beam_length, p=self.parent_probabilities(beam_length)))

    def _base_values(self, trial_type):
        return {
            "trial_type": trial_type,
            "architecture": "[]",
            "parent_trial_id": NO_PARENT,
            "mutation": "none",
            "learning_rate": self.learning_rates[0],
            "optimizer": self.optimizers[0],
            "dropout": 0.0,
            "members": "[]",
            "ensemble_method": "none",
            "teacher_trial_ids": "[]",
            "distillation": "none",
            "distillation_temperature": 0.0,
            "weight_sharing": self.weight_sharing,
        }

    def _random_search_values(self, rng):
        low, high = self.depth_bounds()
        depth = int(rng.integers(low, high + 1))
        architecture = []
        rank = self.input_rank
        for _ in range(depth):
            choices = [
                name for name in sorted(self.block_space) if self._spec(name).rank_after(rank)
            ]
            name = choices[rng.integers(len(choices))]
            architecture.append(name)
            rank = self._spec(name).rank_after(rank)
        values = self._base_values("search")
        values.update(architecture=json.dumps(architecture), mutation="random")
        if self.initial_training == "random":
            values.update(
                learning_rate=self.learning_rates[rng.integers(len(self.learning_rates))],
                optimizer=self.optimizers[rng.integers(len(self.optimizers))],
                dropout=self.dropout_rates[rng.integers(len(self.dropout_rates))],
            )
        else:
            values.update(self.initial_training)
        return values

    def one_step_mutations(self, architecture):
        """All architectures one step from `architecture`, within the current depth bounds.

        Returns:
            A pair of lists `(adds, replaces)` of `(new_architecture, description)` pairs.
        """
        low, high = self.depth_bounds()
        names = sorted(self.block_space)
        adds, replaces = [], []
        if len(architecture) < high:
            for position in range(len(architecture) + 1):
                for name in names:
                    child = architecture[:position] + [name] + architecture[position:]
                    if self.is_valid_architecture(child):
                        adds.append((child, f"add {name} at {position}"))
        if low <= len(architecture) <= high:
            for position, old in enumerate(architecture):
                for name in names:
                    if name == old:
                        continue
                    child = architecture[:position] + [name] + architecture[position + 1 :]
                    if self.is_valid_architecture(child):
                        replaces.append((child, f"replace {old} at {position} with {name}"))
        return adds, replaces

    def one_step_training_mutations(self, values):
        """All training techniques one step from `values` (one hyper-parameter changed).

        Returns:
            A list of `(changes, description)` pairs, `changes` a one-entry dict.
        """
        mutations = []
        for name, options in (
            ("learning_rate", self.learning_rates),
            ("optimizer", self.optimizers),
            ("dropout", self.dropout_rates),
        ):
            for option in options:
                if option != values[name]:
                    mutations.append(({name: option}, f"{name} {values[name]} -> {option}"))
        return mutations

    def _mutate(self, parent, rng):
        parent_values = parent.hyperparameters.values
        architecture = json.loads(parent_values["architecture"])
        values = self._base_values("search")
        values.update(
            architecture=parent_values["architecture"],
            parent_trial_id=parent.trial_id,
            learning_rate=parent_values["learning_rate"],
            optimizer=parent_values["optimizer"],
            dropout=parent_values["dropout"],
        )
        if rng.random() < self.mutate_training_probability:
            pool = self.one_step_training_mutations(values)
            if pool:
                changes, description = pool[rng.integers(len(pool))]
                values.update(changes, mutation=description)
                return values
        adds, replaces = self.one_step_mutations(architecture)
        grow = rng.random() < self.increase_complexity_probability
        pool = (adds or replaces) if grow else (replaces or adds)
        if not pool:
            return None
        architecture, description = pool[rng.integers(len(pool))]
        values.update(architecture=json.dumps(architecture), mutation=description)
        return values


def _config_key(values):
    trial_type = values.get("trial_type")
    if trial_type == "ensemble":
        return ("ensemble", values.get("members"), values.get("ensemble_method"))
    return (
        trial_type,
        values.get("architecture"),
        values.get("learning_rate"),
        values.get("optimizer"),
        values.get("dropout"),
        values.get("teacher_trial_ids"),
    )


def _check_int(value, name, minimum):
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"`{name}` must be an integer >= {minimum}. Received: {name}={value!r}")
