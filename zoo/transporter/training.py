"""`train_transporter`: Transporter Networks trained on Ravens demonstrations, resumable."""

import json
import math
import os
import time

import keras
import numpy as np

from keras_suite.envs.ravens.demonstrations import demonstration_paths, seed_of
from keras_suite.layers.transporter.transporter_resnet import PAPER_FILTERS
from keras_suite.zoo.transporter.action_coding import PIXEL_SIZE

#: Stage widths of the model configurations `train_transporter` offers.
CONFIGS = {
    "narrow": (16, 16, 32, 32, 32, 16, 16, 16),
    "paper": PAPER_FILTERS,
}
#: The paper's crop side on full-size maps, in pixels, and its number of placement rotations.
PAPER_CROP_SIZE = 64
PAPER_NUM_ROTATIONS = 36
CHECKPOINT_FILE = "checkpoint.keras"
STATE_FILE = "state.json"


def default_downsampling(scale):
    """The backbone downsampling that keeps the paper's deep-feature grid (2.5 cm) at `scale`.

    The paper's ResNet shrinks full-size maps (3.125 mm pixels) 8 times. On maps shrunk `scale`
    times the same network would see features `scale` times coarser in metres (5 cm cells at
    `scale=2`): too coarse to tell the 10-degree rotations of a 10 cm block apart.
    """
    return max(1, 8 // int(scale))


def train_transporter(
    task,
    demos_dir,
    out_dir,
    n_demos=10,
    steps=1000,
    config=None,
    batch_size=1,
    learning_rate=None,
    save_every=100,
    minutes=None,
    seed=0,
    scale=2,
    downsampling=None,
    transport_downsampling=None,
    goal_conditioned=False,
    average_last=None,
    from_preset=None,
    progress=None,
    log=None,
):
    """Trains a `TransporterNet` on `n_demos` oracle demonstrations; resumes from `out_dir`.

    Training is one `fit` over epochs of `save_every` steps, from the step reached up to at
    least `steps`; each epoch ends with a checkpoint (`out_dir/checkpoint.keras`, optimizer
    state included, and `out_dir/state.json`), and training stops after the first epoch that
    ends past `minutes`: calling again with the same `out_dir` resumes. When `steps` are reached
    it writes a preset folder, `out_dir/preset`, whose `metadata.json` records the recipe.
    The demonstrations are read with `demonstration_paths` and `load_episode`, as the `ravens`
    TFDS builder reads them, from our episodes or from a dataset of the original Ravens; each
    draw takes a fresh random SE(2) augmentation.

    With `scale > 1` the model sees the maps shrunk `scale` times (see `map_scaling`) with a
    `64 // scale` crop: about `scale ** 2` times cheaper a step; `act` shrinks observations
    alike. With `average_last=K` the weights of the last `K` checkpoints are kept in
    `out_dir/snapshots` and the preset gets their mean: with batch 1 the success rate swings
    from one checkpoint to the next, and the mean of several does better than most of them.

    Args:
        task: the Ravens task name.
        demos_dir: the folder of `collect_demonstrations` (it holds `<task>/`) or of a dataset
            of the original Ravens (it holds `<task>-train/`).
        out_dir: the run's folder (checkpoints, snapshots, preset).
        n_demos: training episodes used (the first `n_demos` even seeds on disk).
        steps: training steps (batches) to reach.
        config: `"narrow"` (default for a new run) or `"paper"`: the stage widths (`CONFIGS`).
        batch_size: examples per step.
        learning_rate: Adam's rate of a new run (default 2e-4, what `TransporterNet.compile()`
            uses); given on a resumed run it replaces the saved rate from the step reached, and
            the preset's metadata lists `learning_rate_schedule`, `[step, rate]` pairs.
        save_every: steps between checkpoints.
        minutes: wall time after which training stops (resumably) at the next checkpoint.
        seed: seed of the shuffling and augmentation.
        scale: how many times the maps are shrunk; must divide 64.
        downsampling: how much coarser the networks' deepest features are than the map
            (default `default_downsampling(scale)`).
        transport_downsampling: the same for the transport's networks alone (default:
            `downsampling`).
        goal_conditioned: train a `GoalTransporterNet`, each example's goal its episode's last
            map.
        average_last: `K`: write the preset with the mean weights of the last `K` checkpoints.
        from_preset: a preset name or folder to start a new run from (its networks and
            weights); `config` and the downsamplings then default to the preset's and `scale`
            must be its map scale.
        progress: called as `progress(step, total, loss=..., pick_loss=..., place_loss=...)`
            after each training step.
        log: a function taking one line of text (resumption, averaging), or `None`.

    Returns:
        A dict: `preset` (the folder written, or `None` when time ran out first), `steps` (the
        step reached), `start_step` (the step this call started from), `seconds` (training
        time of the whole run), `checkpoint`, `examples`, `losses` (the last epoch's, `{}` if
        no step ran) and `averaged_checkpoints` (the steps averaged, or `None`).

    Example:

    ```python
    result = train_transporter("block-insertion", "demos", "runs/block", n_demos=1, steps=2,
                               save_every=2, scale=8)
    model = TransporterNet.from_preset(result["preset"])
    ```
    """
    from keras_suite.zoo.transporter.goal_transporter_net import GoalTransporterNet
    from keras_suite.zoo.transporter.map_scaling import downsample_maps, downsample_pixels
    from keras_suite.zoo.transporter.ravens_demonstrations import load_examples, load_goal_images
    from keras_suite.zoo.transporter.training_data import training_dataset
    from keras_suite.zoo.transporter.transporter_net import TransporterNet

    if scale < 1 or PAPER_CROP_SIZE % scale:
        raise ValueError(f"`scale` must divide the crop size 64. Received: scale={scale}")
    if config is not None and config not in CONFIGS:
        raise ValueError(f"`config` must be one of {sorted(CONFIGS)}. Received: config={config!r}")
    for name, value in (("steps", steps), ("save_every", save_every), ("n_demos", n_demos)):
        if value < 1:
            raise ValueError(f"`{name}` must be a positive integer. Received: {name}={value}")
    paths = demonstration_paths(demos_dir, task, "train", n_demos)
    checkpoint = os.path.join(out_dir, CHECKPOINT_FILE)
    state_path = os.path.join(out_dir, STATE_FILE)
    log = log or (lambda line: None)
    done, seconds = 0, 0.0
    if os.path.isfile(checkpoint) and os.path.isfile(state_path):
        model = keras.saving.load_model(checkpoint)
        if isinstance(model, GoalTransporterNet) != goal_conditioned:
            raise ValueError(
                f"The checkpoint in {out_dir} holds a {type(model).__name__}: resume it with "
                f"goal_conditioned={not goal_conditioned} (`--goal-conditioned` "
                f"{'given' if not goal_conditioned else 'left out'}). "
                f"Received: goal_conditioned={goal_conditioned}"
            )
        with open(state_path) as f:
            state = json.load(f)
        done, seconds = state["steps"], state.get("seconds", 0.0)
        log(f"resuming {task} from step {done} ({checkpoint})")
        saved_rate = float(f"{float(model.optimizer.learning_rate.numpy()):.6g}")  # float32
        rates = state.get("learning_rates", [[0, saved_rate]])
        if learning_rate is not None and not math.isclose(learning_rate, saved_rate, rel_tol=1e-6):
            model.optimizer.learning_rate.assign(learning_rate)
            rates.append([done, learning_rate])
    else:
        if from_preset is None:
            model_class = GoalTransporterNet if goal_conditioned else TransporterNet
            widths = CONFIGS[config or "narrow"]
            model = model_class(
                crop_size=PAPER_CROP_SIZE // scale,
                num_rotations=PAPER_NUM_ROTATIONS,
                attention_filters=widths,
                transport_filters=widths,
                pixel_size=PIXEL_SIZE * scale,
                downsampling=downsampling or default_downsampling(scale),
                transport_downsampling=transport_downsampling,
            )
        else:
            model = _preset_to_train_on(
                from_preset, scale, config, downsampling, transport_downsampling, goal_conditioned
            )
            log(f"starting from preset {from_preset}")
        optimizer = "auto" if learning_rate is None else keras.optimizers.Adam(learning_rate)
        model.compile(optimizer=optimizer)
        rates = [[0, float(f"{float(model.optimizer.learning_rate.numpy()):.6g}")]]
    start = done
    images, picks, places, bins = load_examples(paths, model.num_rotations)
    images = downsample_maps(images, scale)
    picks, places = downsample_pixels(picks, scale), downsample_pixels(places, scale)
    goals = downsample_maps(load_goal_images(paths), scale) if goal_conditioned else None
    os.makedirs(out_dir, exist_ok=True)
    # Epochs of `save_every` steps from the step reached, so that a run resumed with another
    # `save_every` still counts its steps right.
    epochs = max(-(-(steps - done) // save_every), 0)
    losses = {}
    if epochs:
        dataset = training_dataset(
            images, picks, places, bins, batch_size, seed=seed + done, goal_images=goals
        )
        saver = _CheckpointCallback(
            out_dir,
            save_every,
            minutes,
            seconds,
            start=done,
            total=done + epochs * save_every,
            keep=average_last,
            progress=progress,
            task=task,
            n_demos=n_demos,
            learning_rates=rates,
        )
        model.fit(
            dataset,
            steps_per_epoch=save_every,
            epochs=epochs,
            shuffle=False,  # the dataset shuffles itself
            verbose=0,
            callbacks=[saver],
        )
        done, seconds, losses = saver.steps or done, saver.seconds, saver.losses
    result = {
        "preset": None,
        "steps": done,
        "start_step": start,
        "seconds": seconds,
        "checkpoint": checkpoint,
        "examples": len(images),
        "losses": losses,
        "averaged_checkpoints": None,
    }
    if done < steps:
        return result
    if average_last:
        result["averaged_checkpoints"] = average_snapshots(
            model, os.path.join(out_dir, "snapshots"), average_last
        )
        log(f"averaged the weights of the checkpoints at steps {result['averaged_checkpoints']}")
    preset = os.path.join(out_dir, "preset")
    seeds = [str(seed_of(p)) for p in paths]
    model.save_to_preset(
        preset,
        metadata={
            "task": task,
            "n_demos": n_demos,
            "description": f"Transporter Networks for Ravens {task}, trained on {n_demos} "
            "oracle demonstrations",
            "training_steps": done,
            "training_seconds": round(seconds),
            # From the model: a resumed run or one from a preset keeps its networks.
            "config": _config_name(model),
            "map_scale": scale,
            "downsampling": model.downsampling,
            **(
                {"transport_downsampling": model.transport_downsampling}
                if model.transport_downsampling != model.downsampling
                else {}
            ),
            **({"goal_conditioned": True} if goal_conditioned else {}),
            **(
                {"averaged_checkpoints": result["averaged_checkpoints"]}
                if result["averaged_checkpoints"]
                else {}
            ),
            **({"initial_preset": from_preset} if from_preset is not None else {}),
            "learning_rate": rates[-1][1],
            **({"learning_rate_schedule": rates} if len(rates) > 1 else {}),
            "batch_size": batch_size,
            "training_data": f"{n_demos} Ravens oracle demonstrations of {task} (even seeds "
            f"{', '.join(seeds)})",
        },
    )
    result["preset"] = preset
    return result


def _preset_to_train_on(
    preset, scale, config, downsampling, transport_downsampling, goal_conditioned
):
    """The model of `preset`, with its weights, checked against the options of a new run."""
    from keras_suite.zoo.transporter.goal_transporter_net import GoalTransporterNet
    from keras_suite.zoo.transporter.transporter_net import TransporterNet

    model = TransporterNet.from_preset(preset)
    if isinstance(model, GoalTransporterNet) != goal_conditioned:
        raise ValueError(
            f"Preset {preset} holds a {type(model).__name__}: train on from it with "
            f"goal_conditioned={not goal_conditioned}. "
            f"Received: goal_conditioned={goal_conditioned}"
        )
    if model.crop_size * scale != PAPER_CROP_SIZE:
        own_scale = PAPER_CROP_SIZE // model.crop_size
        raise ValueError(
            f"Preset {preset} sees maps shrunk {own_scale} times: train on from it with "
            f"scale={own_scale}. Received: scale={scale}"
        )
    received = {
        "config": config,
        "downsampling": downsampling,
        "transport_downsampling": transport_downsampling,
    }
    own = {
        "config": _config_name(model),
        "downsampling": model.downsampling,
        "transport_downsampling": model.transport_downsampling,
    }
    for name, value in received.items():
        if value is not None and value != own[name]:
            raise ValueError(
                f"`{name}` must be left out or be preset {preset}'s ({own[name]!r}) to train on "
                f"from it. Received: {name}={value!r}"
            )
    return model


def _config_name(model):
    """The name in `CONFIGS` of `model`'s network widths, or None if they are none of them."""
    widths = (model.attention_filters, model.transport_filters)
    return next((name for name, w in CONFIGS.items() if widths == (w, w)), None)


def average_snapshots(model, folder, count):
    """Sets `model`'s weights to the mean of its last `count` weight snapshots in `folder`.

    Args:
        model: the model the snapshots were saved from.
        folder: a folder of `step-<N>.weights.h5` files (what `train_transporter` keeps with
            `average_last`).
        count: how many of the latest snapshots to average.

    Returns:
        The steps of the snapshots averaged, in order.

    Example:

    ```python
    average_snapshots(model, "runs/block/snapshots", 8)  # [6250, 6500, ..., 8000]
    ```
    """
    steps = _snapshot_steps(folder)[-count:]
    if not steps:
        raise FileNotFoundError(
            f"No checkpoint snapshots (`step-<N>.weights.h5`) to average in {folder}. "
            f"Received: folder={folder!r}"
        )
    weights = []
    for step in steps:
        model.load_weights(_snapshot_path(folder, step))
        weights.append(model.get_weights())
    model.set_weights([np.mean(group, axis=0) for group in zip(*weights)])
    return steps


def _snapshot_path(folder, step):
    return os.path.join(folder, f"step-{step}.weights.h5")


def _snapshot_steps(folder):
    if not os.path.isdir(folder):
        return []
    names = [n for n in os.listdir(folder) if n.startswith("step-") and n.endswith(".weights.h5")]
    return sorted(int(n[len("step-") : -len(".weights.h5")]) for n in names)


class _CheckpointCallback(keras.callbacks.Callback):
    """Reports each step; after each epoch saves the model, the state and (with `keep`) a
    weight snapshot; stops training once `minutes` have passed."""

    def __init__(
        self,
        out_dir,
        save_every,
        minutes,
        seconds,
        start,
        total,
        keep=None,
        progress=None,
        **state,
    ):
        super().__init__()
        self.checkpoint = os.path.join(out_dir, CHECKPOINT_FILE)
        self.state_path = os.path.join(out_dir, STATE_FILE)
        self.snapshots = os.path.join(out_dir, "snapshots") if keep else None
        self.save_every = save_every
        self.deadline = None if minutes is None else time.time() + 60.0 * minutes
        self.seconds = seconds
        self.start_step = start
        self.total = total
        self.keep = keep
        self.progress = progress
        self.state = state
        self.steps = None
        self.losses = {}
        self._epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch
        self._epoch_start = time.time()

    def on_train_batch_end(self, batch, logs=None):
        if self.progress:
            step = self.start_step + self._epoch * self.save_every + batch + 1
            values = {k: float(v) for k, v in (logs or {}).items()}
            self.progress(step, self.total, **values)

    def on_epoch_end(self, epoch, logs=None):
        self.seconds += time.time() - self._epoch_start
        self.steps = self.start_step + (epoch + 1) * self.save_every
        self.model.save(self.checkpoint)
        if self.snapshots:
            os.makedirs(self.snapshots, exist_ok=True)
            self.model.save_weights(_snapshot_path(self.snapshots, self.steps))
            for step in _snapshot_steps(self.snapshots)[: -self.keep]:
                os.remove(_snapshot_path(self.snapshots, step))
        with open(self.state_path, "w") as f:
            json.dump(dict(self.state, steps=self.steps, seconds=self.seconds), f)
        self.losses = {k: float(v) for k, v in (logs or {}).items()}
        if self.deadline is not None and time.time() > self.deadline:
            self.model.stop_training = True
