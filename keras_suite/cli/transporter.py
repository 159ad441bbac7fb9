"""`keras-suite ravens train|eval`: Transporter Networks trained and evaluated on Ravens."""

import argparse
import functools
import json
import math
import os
import time

import numpy as np

#: Transporter scores (%) in Zeng et al. (CoRL 2020), Table 1, at 1 / 10 / 100 demonstrations.
#: A score is the mean over test episodes of each episode's total reward, which gives partial
#: credit (Ravens' `test.py` / `plot.py`): a towers-of-hanoi episode that makes 6 of its 7
#: moves scores 6/7. On single-goal tasks (block-insertion, align-box-corner) it is the success
#: rate.
PAPER_SCORES = {
    "block-insertion": {1: 100.0, 10: 100.0, 100: 100.0},
    "place-red-in-green": {1: 84.5, 10: 100.0, 100: 100.0},
    "towers-of-hanoi": {1: 73.1, 10: 83.9, 100: 97.3},
    "align-box-corner": {1: 35.0, 10: 85.0, 100: 97.0},
}
#: Stage widths of the model configurations `train` offers.
CONFIGS = {
    "narrow": (16, 16, 32, 32, 32, 16, 16, 16),
    "paper": (64, 128, 256, 512, 256, 128, 64, 16),
}
DEMO_TASK = "block-insertion"
#: Built-in presets the demo runs, the first one that ships.
DEMO_PRESETS = ("ravens_block_insertion", "ravens_place_red_in_green")


def add_subcommands(ravens_subparsers):
    """Adds the Transporter sub-commands under `keras-suite ravens`."""
    train = ravens_subparsers.add_parser(
        "train", help="Transporter Networks: train on oracle demonstrations (resumable)"
    )
    train.add_argument("--task", required=True, help="a Ravens task name")
    train.add_argument(
        "--demos", default="out/ravens/demos", help="folder of `ravens collect` (has <task>/)"
    )
    train.add_argument("--n-demos", type=_positive, default=10, help="training episodes used")
    train.add_argument("--steps", type=_positive, default=1000, help="training iterations")
    train.add_argument(
        "--config", choices=sorted(CONFIGS), default=None, help="network widths (default narrow)"
    )
    train.add_argument("--batch-size", type=_positive, default=1)
    train.add_argument(
        "--learning-rate",
        type=float,
        default=None,
        help="Adam's rate (default 1e-4); given on a resumed run, it replaces the saved rate",
    )
    train.add_argument("--save-every", type=_positive, default=100, help="checkpoint interval")
    train.add_argument(
        "--minutes", type=float, default=None, help="stop (resumably) after this wall time"
    )
    train.add_argument("--seed", type=int, default=0)
    train.add_argument(
        "--scale", type=_positive, default=2, help="shrink the maps this many times (1: full size)"
    )
    train.add_argument(
        "--downsampling",
        type=int,
        choices=(1, 2, 4, 8),
        default=None,
        help="how much coarser the networks' deepest features are than the map (default: "
        "8 // scale, the paper's feature grid in metres)",
    )
    train.add_argument(
        "--transport-downsampling",
        type=int,
        choices=(1, 2, 4, 8),
        default=None,
        help="the same for the transport's key and query networks alone (default: --downsampling)",
    )
    train.add_argument(
        "--average-last",
        type=_positive,
        default=None,
        help="write the preset with the mean weights of the last K checkpoints (kept under "
        "OUT/snapshots), which swing less than any one of them",
    )
    train.add_argument(
        "--goal-conditioned",
        action="store_true",
        help="train a GoalTransporterNet, shown each demonstration's last map as its goal",
    )
    train.add_argument(
        "--from-preset",
        default=None,
        help="start from this preset's networks and weights (a name or folder; a new run only)",
    )
    train.add_argument(
        "--out", default=None, help="output folder (default out/ravens/train/<task>-<n>)"
    )
    train.set_defaults(func=run_train)

    evaluate = ravens_subparsers.add_parser(
        "eval", help="Transporter Networks: scores on unseen (odd) seeds, paper-style table"
    )
    evaluate.add_argument(
        "--model", nargs="+", required=True, help="preset names or preset folders to evaluate"
    )
    evaluate.add_argument("--episodes", type=_positive, default=10, help="test episodes a model")
    evaluate.add_argument(
        "--first-seed",
        type=_odd,
        default=1,
        help="the first test seed (odd: even seeds are training scenes); then every other one",
    )
    evaluate.add_argument("--out", default="out/ravens/eval", help="output folder")
    evaluate.add_argument(
        "--test-time-turns",
        type=int,
        choices=(1, 2, 4),
        default=None,
        help="average over the map turned this many times (default: each preset's own)",
    )
    evaluate.add_argument(
        "--subpixel-place",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="place at the mean pixel around the place argmax, or not (default: each preset's)",
    )
    evaluate.add_argument(
        "--record",
        action="store_true",
        help="also write each result into its preset's metadata.json (under `evaluation`)",
    )
    evaluate.set_defaults(func=run_eval)


def _positive(text):
    import argparse

    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer. Received: {text!r}")
    return value


def _odd(text):
    import argparse

    value = int(text)
    if value < 1 or value % 2 == 0:
        raise argparse.ArgumentTypeError(
            f"must be an odd positive seed (even seeds are training scenes). Received: {text!r}"
        )
    return value


def default_downsampling(scale):
    """The backbone downsampling that keeps the paper's deep-feature grid (2.5 cm) at `scale`.

    The paper's ResNet shrinks full-size maps (3.125 mm pixels) 8 times. On maps shrunk `scale`
    times the same network would see features `scale` times coarser in metres (5 cm cells at
    `scale=2`): too coarse to tell the 10-degree rotations of a 10 cm block apart. Measured on
    block-insertion at `scale=2` (10 demos, 10 unseen scenes, the oracle's pick): with 8, 2 of
    10 placements within one rotation bin after 700 steps; with 4, 5 of 10 after 300 steps.
    """
    return max(1, 8 // int(scale))


def _demo_paths(folder, task, n_demos):
    from keras_suite.envs.ravens.demonstrations import list_episodes

    paths = [
        p
        for p in list_episodes(os.path.join(folder, task))
        if int(os.path.basename(p).split(".")[0]) % 2 == 0
    ]
    if len(paths) < n_demos:
        raise ValueError(
            f"`--n-demos {n_demos}` needs {n_demos} training episodes of {task} in "
            f"{os.path.join(folder, task)}, found {len(paths)}. Collect them with `keras-suite "
            f"ravens collect --task {task} --n {n_demos} --out {folder}`."
        )
    return paths[:n_demos]


def train(
    task,
    demos,
    n_demos=10,
    steps=1000,
    config=None,
    batch_size=1,
    learning_rate=None,
    save_every=100,
    minutes=None,
    seed=0,
    out=None,
    scale=2,
    log=print,
    downsampling=None,
    transport_downsampling=None,
    goal_conditioned=False,
    average_last=None,
    from_preset=None,
):
    """Trains a TransporterNet on `n_demos` oracle episodes; resumes from `out` if it exists.

    With `scale > 1` the model sees the maps shrunk `scale` times (`map_scaling`), with a
    `64 // scale` crop: about `scale ** 2` times cheaper a step; `act` shrinks observations alike.
    `downsampling` (default `default_downsampling(scale)`) sets how much coarser the networks'
    deepest features are than the map; `transport_downsampling` (default: `downsampling`) sets it
    for the transport's networks alone. `learning_rate` (default 1e-4) given on a resumed run
    replaces the saved optimizer's rate, e.g. to end a run at a lower rate; the preset's
    metadata then lists `learning_rate_schedule`, `[step, rate]` pairs. With `goal_conditioned`
    the model is a `GoalTransporterNet` and each example's goal is its episode's last map.
    With `average_last=K` every checkpoint's weights are also kept (the last K, under
    `out/snapshots`) and the preset gets their mean: with batch 1 the success rate swings from
    one checkpoint to the next, and the mean of several does better than most of them.
    `from_preset` (a preset name or folder) starts a new run from that preset's networks and
    weights, e.g. a 10-demonstration preset trained on with 100; `config`, `downsampling` and
    `transport_downsampling` then default to the preset's, and `scale` must be its map scale.
    Training is one `fit` over epochs of `save_every` steps (from the step reached up to at least
    `steps`), so the augmented data stream runs on across epochs; each epoch ends with a
    checkpoint.

    Returns:
        The preset folder written when training reached `steps`, else `None` (time ran out;
        run again to resume).
    """
    import keras

    from keras_suite.zoo import GoalTransporterNet, TransporterNet
    from keras_suite.zoo.transporter.action_coding import PIXEL_SIZE
    from keras_suite.zoo.transporter.map_scaling import downsample_maps, downsample_pixels
    from keras_suite.zoo.transporter.ravens_demonstrations import load_examples, load_goal_images
    from keras_suite.zoo.transporter.training_data import training_dataset

    if scale < 1 or 64 % scale:
        raise ValueError(f"`scale` must divide the crop size 64. Received: scale={scale}")
    out = out or os.path.join("out", "ravens", "train", f"{task}-{n_demos}")
    os.makedirs(out, exist_ok=True)
    checkpoint = os.path.join(out, "checkpoint.keras")
    state_path = os.path.join(out, "state.json")
    paths = _demo_paths(demos, task, n_demos)
    model_class = GoalTransporterNet if goal_conditioned else TransporterNet
    done, seconds = 0, 0.0
    if os.path.isfile(checkpoint) and os.path.isfile(state_path):
        model = keras.saving.load_model(checkpoint)
        if isinstance(model, GoalTransporterNet) != goal_conditioned:
            raise ValueError(
                f"The checkpoint in {out} holds a {type(model).__name__}: resume it with "
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
            model = model_class(
                crop_size=64 // scale,
                num_rotations=36,
                attention_filters=CONFIGS[config or "narrow"],
                transport_filters=CONFIGS[config or "narrow"],
                pixel_size=PIXEL_SIZE * scale,
                downsampling=downsampling or default_downsampling(scale),
                transport_downsampling=transport_downsampling,
            )
        else:
            model = _preset_to_train_on(
                from_preset, scale, config, downsampling, transport_downsampling, goal_conditioned
            )
            log(f"starting from preset {from_preset}")
        rates = [[0, learning_rate or 1e-4]]
        model.compile(optimizer=keras.optimizers.Adam(rates[0][1]))
    images, picks, places, bins = load_examples(paths, model.num_rotations)
    images = downsample_maps(images, scale)
    picks, places = downsample_pixels(picks, scale), downsample_pixels(places, scale)
    goals = downsample_maps(load_goal_images(paths), scale) if goal_conditioned else None
    log(f"{task}: {len(images)} examples from {len(paths)} demos; {done}/{steps} steps")
    # Epochs of `save_every` steps from the step reached, so that a run resumed with another
    # `save_every` still counts its steps right.
    epochs = max(-(-(steps - done) // save_every), 0)
    if epochs:
        dataset = training_dataset(
            images, picks, places, bins, batch_size, seed=seed + done, goal_images=goals
        )
        saver = _checkpoint_callback(
            checkpoint,
            state_path,
            save_every,
            minutes,
            seconds,
            log,
            start=done,
            snapshots=average_last and os.path.join(out, "snapshots"),
            keep=average_last,
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
        done, seconds = saver.steps or done, saver.seconds
    if done < steps:
        log(f"time budget spent at step {done}; run the same command again to resume")
        return None
    averaged = {}
    if average_last:
        steps_averaged = average_snapshots(model, os.path.join(out, "snapshots"), average_last)
        averaged = {"averaged_checkpoints": steps_averaged}
        log(f"averaged the weights of the checkpoints at steps {steps_averaged}")
    preset = os.path.join(out, "preset")
    model.save_to_preset(
        preset,
        metadata={
            "task": task,
            "n_demos": n_demos,
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
            **averaged,
            **({"initial_preset": from_preset} if from_preset is not None else {}),
            "learning_rate": rates[-1][1],
            **({"learning_rate_schedule": rates} if len(rates) > 1 else {}),
            "batch_size": batch_size,
            "training_data": f"{n_demos} Ravens oracle demonstrations of {task} (even seeds "
            f"{', '.join(os.path.basename(p).split('.')[0].lstrip('0') or '0' for p in paths)})",
        },
    )
    log(f"wrote preset {preset}")
    return preset


def _preset_to_train_on(
    preset, scale, config, downsampling, transport_downsampling, goal_conditioned
):
    """The model of `preset`, with its weights, checked against the options of a new run."""
    from keras_suite.zoo import GoalTransporterNet, TransporterNet

    model = TransporterNet.from_preset(preset)
    if isinstance(model, GoalTransporterNet) != goal_conditioned:
        raise ValueError(
            f"Preset {preset} holds a {type(model).__name__}: train on from it with "
            f"goal_conditioned={not goal_conditioned}. "
            f"Received: goal_conditioned={goal_conditioned}"
        )
    if model.crop_size * scale != 64:
        raise ValueError(
            f"Preset {preset} sees maps shrunk {64 // model.crop_size} times: train on from it "
            f"with scale={64 // model.crop_size}. Received: scale={scale}"
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
    """Sets `model`'s weights to the mean of its last `count` snapshots in `folder`.

    Returns:
        The steps of the snapshots averaged, in order.
    """
    steps = _snapshot_steps(folder)[-count:]
    if not steps:
        raise ValueError(f"No checkpoint snapshots to average in {folder}.")
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


def _checkpoint_callback(
    checkpoint,
    state_path,
    save_every,
    minutes,
    seconds,
    log,
    start=0,
    snapshots=None,
    keep=None,
    **state,
):
    """A callback that saves the model and the step count after each epoch, and stops the
    training once `minutes` have passed (None: never)."""
    import keras

    class CheckpointEachEpoch(keras.callbacks.Callback):
        """Saves the model and the step count after each epoch; stops when time is up."""

        def __init__(self, checkpoint, state_path, save_every, minutes, seconds, log, **state):
            super().__init__()
            self.checkpoint = checkpoint
            self.state_path = state_path
            self.save_every = save_every
            self.deadline = None if minutes is None else time.time() + 60.0 * minutes
            self.seconds = seconds
            self.log = log
            self.state = state
            self.steps = None

        def on_epoch_begin(self, epoch, logs=None):
            self.start = time.time()

        def on_epoch_end(self, epoch, logs=None):
            self.seconds += time.time() - self.start
            self.steps = start + (epoch + 1) * self.save_every
            self.model.save(self.checkpoint)
            if snapshots:
                os.makedirs(snapshots, exist_ok=True)
                self.model.save_weights(_snapshot_path(snapshots, self.steps))
                for step in _snapshot_steps(snapshots)[:-keep]:
                    os.remove(_snapshot_path(snapshots, step))
            with open(self.state_path, "w") as f:
                json.dump(dict(self.state, steps=self.steps, seconds=self.seconds), f)
            losses = {k: round(float(v), 3) for k, v in (logs or {}).items()}
            self.log(f"step {self.steps}: {losses} ({self.seconds:.0f} s of training)")
            if self.deadline is not None and time.time() > self.deadline:
                self.model.stop_training = True

    return CheckpointEachEpoch(checkpoint, state_path, save_every, minutes, seconds, log, **state)


def run_train(args):
    preset = train(
        args.task,
        args.demos,
        args.n_demos,
        args.steps,
        args.config,
        args.batch_size,
        args.learning_rate,
        args.save_every,
        args.minutes,
        args.seed,
        args.out,
        args.scale,
        log=lambda line: print(line, flush=True),
        downsampling=args.downsampling,
        transport_downsampling=args.transport_downsampling,
        goal_conditioned=args.goal_conditioned,
        average_last=args.average_last,
        from_preset=args.from_preset,
    )
    return 0 if preset else 3


def evaluate(model, task, episodes, log=print, gif_path=None, max_steps=None, first_seed=1):
    """Runs `model.act` on `episodes` unseen Ravens scenes (odd seeds `first_seed`, +2, ...).

    A `GoalTransporterNet` is shown, as its goal, the last observation of the oracle's episode
    on the same seed.

    Returns:
        A dict: `score` (the paper's metric: the mean episode reward, in %), `success_rate`
        (%, episodes that reach every goal), `mean_reward`, `episodes`, `seeds`, `successes`,
        `rewards` (each episode's total) and the model's `test_time_turns` and
        `subpixel_place`.
    """
    if first_seed < 1 or first_seed % 2 == 0:
        raise ValueError(
            "`first_seed` must be odd and positive (even seeds are training scenes). "
            f"Received: first_seed={first_seed}"
        )
    from keras_suite.envs import ravens
    from keras_suite.envs.ravens.demonstrations import run_episode, write_gif
    from keras_suite.zoo import GoalTransporterNet

    env = ravens.make(task, max_steps=max_steps)
    successes, rewards, seeds = [], [], []
    act = model.act
    try:
        for index in range(episodes):
            seed = first_seed + 2 * index
            if isinstance(model, GoalTransporterNet):
                oracle_episode, _ = run_episode(env, ravens.OracleAgent(env), seed)
                goal = {key: oracle_episode[key][-1] for key in ("colormap", "heightmap")}
                act = functools.partial(model.act, goal=goal)
            obs, info = env.reset(seed=seed)
            frames = [obs["color"][0]] if gif_path and index == 0 else None
            total = 0.0
            while True:
                obs, reward, terminated, truncated, info = env.step(act(obs, info))
                total += reward
                if frames is not None:
                    frames.append(obs["color"][0])
                if terminated or truncated:
                    break
            if frames is not None:
                write_gif(frames, gif_path)
            successes.append(bool(info["success"]))
            rewards.append(total)
            seeds.append(seed)
            log(
                f"{task} seed {seed}: {'success' if info['success'] else 'failure'} "
                f"(reward {total:.2f}, {info['steps']} steps)"
            )
    finally:
        env.close()
    mean_reward = float(sum(rewards) / len(rewards))
    return {
        "score": 100.0 * mean_reward,
        "success_rate": 100.0 * sum(successes) / len(successes),
        "mean_reward": mean_reward,
        "episodes": len(successes),
        "seeds": seeds,
        "successes": successes,
        "rewards": [round(reward, 4) for reward in rewards],
        "test_time_turns": model.test_time_turns,
        "subpixel_place": model.subpixel_place,
    }


def run_eval(args):
    from keras_suite.zoo import TransporterNet

    os.makedirs(args.out, exist_ok=True)
    results_path = os.path.join(args.out, "results.json")
    results = {}
    if os.path.isfile(results_path):
        with open(results_path) as f:
            results = json.load(f)
        for cells in results.values():  # results written before scores were have mean rewards
            for cell in cells.values():
                cell.setdefault("score", 100.0 * cell["mean_reward"])
    for name in args.model:
        overrides = {
            option: value
            for option, value in (
                ("test_time_turns", args.test_time_turns),
                ("subpixel_place", args.subpixel_place),
            )
            if value is not None
        }
        model = TransporterNet.from_preset(name, **overrides)
        metadata = _preset_metadata(TransporterNet, name)
        task, n_demos = metadata.get("task"), metadata.get("n_demos")
        if task is None or n_demos is None:
            raise ValueError(
                "The preset's metadata.json must name its `task` and `n_demos` (presets written "
                f"by `keras-suite ravens train` do). Received: model={name!r}"
            )
        result = evaluate(
            model,
            task,
            args.episodes,
            log=lambda line: print(line, flush=True),
            first_seed=args.first_seed,
        )
        result["model"] = name
        # A goal-conditioned model gets a row of its own: the paper's numbers are not its own.
        row = f"{task}, goal-conditioned" if metadata.get("goal_conditioned") else task
        results.setdefault(row, {})[str(n_demos)] = result
        print(
            f"{row} ({n_demos} demos): score {result['score']:.1f}, "
            f"{result['success_rate']:.1f}% of the episodes solved",
            flush=True,
        )
        if args.record:
            _record_in_metadata(TransporterNet, name, result)
        with open(results_path, "w") as f:
            json.dump(results, f, indent=2, sort_keys=True)
    write_table(results, os.path.join(args.out, "results.md"))
    write_plot(results, os.path.join(args.out, "results.png"))
    print(f"wrote {args.out}/results.md and results.png", flush=True)
    return 0


def _preset_folder(cls, name):
    return os.path.join(cls.preset_dir, name) if name in cls.presets else name


def _preset_metadata(cls, name):
    with open(os.path.join(_preset_folder(cls, name), "metadata.json")) as f:
        return json.load(f)


def _record_in_metadata(cls, name, result):
    """Stores an evaluation in the preset's `metadata.json` (`score`, `success_rate`, ...)."""
    metadata = _preset_metadata(cls, name)
    metadata["score"] = round(result["score"], 2)
    metadata["success_rate"] = result["success_rate"]
    metadata["evaluation"] = {
        "success_rate": result["success_rate"],
        "mean_reward": round(result["mean_reward"], 4),
        "episodes": result["episodes"],
        "seeds": result["seeds"],
        "successes": result["successes"],
        "rewards": result["rewards"],
        "test_time_turns": result["test_time_turns"],
        "subpixel_place": result["subpixel_place"],
    }
    with open(os.path.join(_preset_folder(cls, name), "metadata.json"), "w") as f:
        json.dump(metadata, f, indent=2, sort_keys=True)
        f.write("\n")


def write_table(results, path):
    """Writes the paper's results-table layout: scores (%) per task at 1 / 10 / 100 demos.

    Each of our cells reads `score (solved%, episodes)`: the paper's metric first, then the
    share of episodes that reached every goal.
    """
    tasks = sorted(set(results) | set(PAPER_SCORES))
    lines = [
        "| task | 1 demo | 10 demos | 100 demos |",
        "| --- | --- | --- | --- |",
    ]
    for task in tasks:
        cells = []
        for n in (1, 10, 100):
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


def write_plot(results, path):
    """Bar chart of our score per task and demo count, with the paper's as markers."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    tasks = sorted(set(results) | set(PAPER_SCORES))
    figure, axis = plt.subplots(figsize=(max(6, 1.6 * len(tasks)), 4))
    width = 0.25
    for offset, n in enumerate((1, 10, 100)):
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


def run_demo(out_dir):
    """Runs a Transporter on one unseen Ravens scene and saves the episode as a GIF.

    Uses the first built-in preset of `DEMO_PRESETS` that ships (one episode, odd seed 1, about
    a minute); without one, collects two oracle demonstrations of block insertion and trains a
    narrow model for ten steps (a demo of the pipeline, not a trained agent).
    """
    from keras_suite.zoo import TransporterNet

    os.makedirs(out_dir, exist_ok=True)
    shipped = [name for name in DEMO_PRESETS if name in TransporterNet.presets]
    if shipped:
        preset = shipped[0]
        task = TransporterNet.presets[preset]["task"]
        print(f"loading the built-in preset {preset}", flush=True)
    else:
        from keras_suite.envs import ravens
        from keras_suite.envs.ravens.demonstrations import collect

        task = DEMO_TASK
        demos = os.path.join(out_dir, "demos")
        env = ravens.make(task)
        try:
            collect(
                env, ravens.OracleAgent(env), 2, demos, log=lambda line: print(line, flush=True)
            )
        finally:
            env.close()
        preset = train(
            task,
            demos,
            n_demos=2,
            steps=10,
            save_every=10,
            out=os.path.join(out_dir, "train"),
            log=lambda line: print(line, flush=True),
        )
    model = TransporterNet.from_preset(preset)
    gif = os.path.join(out_dir, f"{task}.gif")
    result = evaluate(model, task, 1, log=lambda line: print(line, flush=True), gif_path=gif)
    with open(os.path.join(out_dir, "result.json"), "w") as f:
        json.dump(dict(result, model=preset), f, indent=2)
    print(f"episode animation: {gif}", flush=True)
