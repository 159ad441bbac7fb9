"""DreamerV2's training recipe: an environment by name, a fresh agent, the loop, the outputs."""

import os

from keras_suite.zoo.dreamer.configs import get_config


def train(
    env="atari:pong",
    out_dir="out/dreamer",
    config="tiny",
    steps=100_000,
    prefill=None,
    loop=None,
    time_limit=27000,
    render=False,
    jit_compile=False,
    seed=0,
    video=True,
    from_preset=None,
    progress=None,
):
    """Trains a DreamerV2 agent on an environment named by `env`; resumes a run in `out_dir`.

    Makes the environment (`keras_suite.zoo.dreamer.make_env`), a fresh agent with the
    hyper-parameters of `config` (`keras_suite.zoo.dreamer.configs`), and runs the resumable
    `Trainer` in `out_dir` until `steps` environment steps in total: `prefill` random steps, then
    one gradient update every `train_every` steps. Then it writes the agent as a preset
    (`out_dir/preset`, its metadata holding the environment steps, frames, updates,
    `train_every` and `train_hours`, the wall time of every run on `out_dir`), the
    loss curves (`out_dir/losses.png`), the learning curve (`out_dir/learning_curve.png`:
    training and evaluation returns against environment frames) and, when updates ran and the
    agent sees images, an open-loop video prediction (`out_dir/videos/final.gif` and `.png`).
    Running it again on the same `out_dir` with a larger `steps` continues the run.

    Seeds: the training environment's first reset is seeded with `seed` (later episodes
    continue its random stream), the evaluations during training play on an environment seeded
    with `TRAIN_EVAL_SEED + seed`, and `evaluate` uses seeds from `EVAL_SEED` on
    (`keras_suite.zoo.dreamer.evaluate`), so `seed` must stay below `EVAL_SEED` (1,000,000).

    Args:
        env: `"atari:<rom>"`, `"minatar:<game>"`, `"cartpole_pixels"` or a gymnasium id (see
            `make_env`).
        out_dir: the run's folder (TensorBoard events, `metrics.jsonl`, replay, checkpoint).
        config: `"atari"`, `"dmc"`, `"small"`, `"tiny"` or `"minatar"`.
        steps: environment steps in total, counting those of a resumed run.
        prefill: random steps before training (default: the config's).
        loop: other `Trainer` settings overriding the config's (e.g. `{"train_every": 4}`).
        time_limit: the Atari and MinAtar episode limit in agent steps.
        render: train on the environment's rendering (gymnasium ids).
        jit_compile: compile the update with XLA.
        seed: seed of the agent, the environment and the loop.
        video: write the open-loop video prediction at the end.
        from_preset: start from this preset's agent (a name or folder: its networks and
            weights, e.g. `"pong_world_model"` to train behaviour on a learned world model)
            instead of a fresh `config` agent; `config` still gives the loop settings. Only a
            new run uses its weights: a resumed run loads its checkpoint (give the same
            `from_preset` to resume it).
        progress: optional `progress(done, total, **values)`, called after every environment
            step (see `Trainer.run`).

    Returns:
        A dict: `env_steps`, `frames` (environment frames: 4 per step on Atari) and `updates`
        (totals in `out_dir`), `new_env_steps` and `new_updates` (this call), `episodes`,
        `prefill`, `prefill_done`, and the paths `out_dir`, `preset`, `metrics`,
        `losses_plot`, `learning_curve` and `video` (`None` when not written).

    Example:

    ```python
    results = train("cartpole_pixels", "runs/cartpole", config="tiny", steps=200, prefill=100)
    results["env_steps"], results["updates"]
    ```
    """
    from keras_suite.zoo.dreamer.dreamer_v2 import DreamerV2
    from keras_suite.zoo.dreamer.evaluate import EVAL_SEED, TRAIN_EVAL_SEED
    from keras_suite.zoo.dreamer.learning_curve import plot_learning_curve
    from keras_suite.zoo.dreamer.loss_plot import plot_losses
    from keras_suite.zoo.dreamer.make_env import frames_per_step, make_env
    from keras_suite.zoo.dreamer.trainer import Trainer

    settings = get_config(config)["loop"]
    if not isinstance(steps, int) or steps < 1:
        raise ValueError(f"`steps` must be a positive integer. Received: steps={steps!r}")
    if not isinstance(seed, int) or not 0 <= seed < EVAL_SEED:
        raise ValueError(
            f"`seed` must be an integer in [0, {EVAL_SEED}): evaluation episodes use the seeds "
            f"from {EVAL_SEED} on. Received: seed={seed!r}"
        )
    if prefill is not None and (not isinstance(prefill, int) or prefill < 0):
        raise ValueError(f"`prefill` must be an integer >= 0. Received: prefill={prefill!r}")
    unknown = sorted(set(loop or {}) - set(settings))
    if unknown:
        raise ValueError(
            f"`loop` takes the keys {sorted(settings)}. Received: unknown keys {unknown}"
        )
    settings.update(loop or {})
    if prefill is not None:
        settings["prefill"] = prefill
    environment = make_env(env, time_limit=time_limit, render=render, seed=seed)
    eval_env = make_env(env, time_limit=time_limit, render=render, seed=TRAIN_EVAL_SEED + seed)
    if from_preset is None:
        agent = DreamerV2.from_hparams(
            config,
            environment.obs_shape,
            environment.num_actions,
            continuous_actions=environment.continuous,
            seed=seed,
        )
    else:
        agent = DreamerV2.from_preset(from_preset)
        seen = (agent.obs_shape, agent.num_actions)
        if seen != (environment.obs_shape, environment.num_actions):
            raise ValueError(
                f"`from_preset` must be an agent for {env}: observations {environment.obs_shape} "
                f"and {environment.num_actions} actions. Received: from_preset={from_preset!r} "
                f"(observations {seen[0]}, {seen[1]} actions)"
            )
    trainer = Trainer(
        agent,
        environment,
        out_dir,
        eval_env=eval_env,
        jit_compile=jit_compile,
        seed=seed,
        **settings,
    )
    start_steps, start_updates = trainer.step, trainer.updates
    trainer.run(steps, progress=progress)
    out_dir = trainer.logdir
    frames = trainer.step * frames_per_step(env)
    preset = os.path.join(out_dir, "preset")
    origin = f"`{config}` agent" if from_preset is None else f"agent from {from_preset}"
    agent.save_to_preset(
        preset,
        metadata={
            "description": f"DreamerV2 {origin} on {env}: {trainer.step:,} steps, "
            f"{trainer.updates:,} updates.",
            "env": env,
            "config": config,
            "seed": seed,
            "env_steps": trainer.step,
            "frames": frames,
            "updates": trainer.updates,
            "train_every": settings["train_every"],
            "train_hours": round(trainer.seconds / 3600, 2),
            "from_preset": from_preset,
        },
    )
    metrics = os.path.join(out_dir, "metrics.jsonl")
    losses_plot = curve_plot = None
    if os.path.isfile(metrics):
        losses_plot = plot_losses(metrics, os.path.join(out_dir, "losses.png"))
        curve_plot = plot_learning_curve(
            metrics,
            os.path.join(out_dir, "learning_curve.png"),
            frames_per_step(env),
            title=f"DreamerV2 `{config}` on {env}",
        )
    gif = None
    if video and trainer.updates and agent.world_model.image_keys:
        gif, _ = trainer.write_video("final", length=min(50, trainer.replay.num_steps))
    return {
        "env_steps": trainer.step,
        "frames": frames,
        "updates": trainer.updates,
        "new_env_steps": trainer.step - start_steps,
        "new_updates": trainer.updates - start_updates,
        "episodes": trainer.episodes,
        "prefill": settings["prefill"],
        "prefill_done": trainer.prefill_done,
        "out_dir": out_dir,
        "preset": preset,
        "metrics": metrics if os.path.isfile(metrics) else None,
        "losses_plot": losses_plot,
        "learning_curve": curve_plot,
        "video": gif,
    }
