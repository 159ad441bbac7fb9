"""DreamerV2 world-model evidence on ALE Pong: image loss and open-loop ball tracking.

Only the world model trains (no actor-critic), a `tiny` config widened to depth 16, 128 deter
units and 16x16 latents, with 1 free nat of KL (DreamerV1's setting) so that the posterior is
not pushed to drop the few-pixel ball before the prior can predict it. The data is
sticky-random play (a new uniformly random action with probability 0.2 per step, else the
previous one), which keeps the ball being served, stored in an `EpisodeReplay`. Held-out
episodes, played with another seed and never in the replay, give fixed windows of 5 observed
frames and `--horizon` imagined ones. In every true and predicted frame a detector finds the
ball: the brightest pixel of the play field (rows 11-57, the paddles' columns 5-8 and 55-58 left
out) that differs from the background grey 87 by at least 25, refined to the weighted centroid
of its 5x5 neighbourhood. The script checks the detector against the ball coordinates in the
console RAM (bytes 49 and 54) on the held-out frames. It reports, per open-loop step, the
fraction of frames with a visible ball whose prediction puts the ball within `--tolerance`
pixels, for the model and two baselines measured on the same windows: copying the last observed
frame, and moving the last observed ball at its last observed velocity. Training is resumable:
run the same command again to continue from `--out/checkpoint`.

    nice -n 5 .venv/bin/python benchmarks/dreamer_pong.py --budget 3300 --out /tmp/pong_wm
"""

import argparse
import json
import os
import time

import numpy as np

from keras_suite.zoo.dreamer import DreamerV2, EpisodeReplay, make_env
from keras_suite.zoo.dreamer.variable_checkpoint import load_checkpoint, save_checkpoint
from keras_suite.zoo.dreamer.video import save_video_prediction

BACKGROUND = 87.0
FIELD_ROWS = (11, 58)
PADDLE_COLUMNS = ((5, 9), (55, 59))
MODEL = dict(
    depth=16, deter_size=128, stoch_size=16, num_classes=16, hidden_size=128, free_nats=1.0
)


def ball_positions(frames, threshold=25.0):
    """(row, column) of the ball in each (..., 64, 64) grayscale frame, NaN where none."""
    frames = np.asarray(frames, np.float32)
    flat = frames.reshape(-1, 64, 64)
    positions = np.full((len(flat), 2), np.nan, np.float32)
    diff = np.abs(flat - BACKGROUND)
    diff[:, : FIELD_ROWS[0]] = 0.0
    diff[:, FIELD_ROWS[1] :] = 0.0
    for start, stop in PADDLE_COLUMNS:
        diff[:, :, start:stop] = 0.0
    for i, d in enumerate(diff):
        if d.max() < threshold:
            continue
        y, x = np.unravel_index(np.argmax(d), d.shape)
        y0, x0 = max(y - 2, 0), max(x - 2, 0)
        window = d[y0 : y + 3, x0 : x + 3]
        window = window * (window > threshold / 2)
        rows, cols = np.mgrid[y0 : y0 + window.shape[0], x0 : x0 + window.shape[1]]
        positions[i] = (rows * window).sum() / window.sum(), (cols * window).sum() / window.sum()
    return positions.reshape(frames.shape[:-2] + (2,))


def play(env, replay, steps, rng, ram=None):
    """Plays sticky-random actions for `steps` steps into `replay`; appends RAM ball (x, y)
    and the frame to `ram` when given."""
    obs = env.reset()
    action = int(rng.integers(env.num_actions))
    replay.add(obs, np.zeros(env.num_actions, np.float32))
    for _ in range(steps):
        if rng.random() < 0.2:
            action = int(rng.integers(env.num_actions))
        obs = env.step(action)
        replay.add(obs, np.eye(env.num_actions, dtype=np.float32)[action])
        if ram is not None:
            state = env.env.unwrapped.ale.getRAM()
            ram.append((float(state[49]), float(state[54]), obs["image"][..., 0]))
        if obs["is_last"]:
            obs = env.reset()
            replay.add(obs, np.zeros(env.num_actions, np.float32))
    replay.flush()


def detector_check(ram):
    """Fits the detected ball position linearly to the RAM coordinates; returns the residuals."""
    x, y = np.array([r[0] for r in ram]), np.array([r[1] for r in ram])
    found = ball_positions(np.stack([r[2] for r in ram]))
    ok = ~np.isnan(found[:, 0])
    result = {"frames": int(len(ram)), "ball_found": int(ok.sum())}
    for name, coordinate, detected in (("column", x, found[:, 1]), ("row", y, found[:, 0])):
        a = np.stack([coordinate[ok], np.ones(ok.sum())], axis=1)
        fit, *_ = np.linalg.lstsq(a, detected[ok], rcond=None)
        residual = np.abs(detected[ok] - a @ fit)
        result[f"{name}_residual_px_median"] = float(np.median(residual))
        result[f"{name}_residual_px_p95"] = float(np.percentile(residual, 95))
    return result


def eval_windows(folder, count, length, context, rng):
    """`count` fixed windows of `length` steps inside the held-out episodes saved in `folder`,
    each with the ball visible in its last two observed frames."""
    episodes = []
    for name in sorted(os.listdir(folder)):
        with np.load(os.path.join(folder, name)) as episode:
            if len(episode["reward"]) > length + 1:
                episodes.append({k: episode[k] for k in episode.files})
    windows = []
    while len(windows) < count:
        episode = episodes[rng.integers(len(episodes))]
        start = int(rng.integers(1, len(episode["reward"]) - length))
        window = {k: v[start : start + length] for k, v in episode.items()}
        seen = ball_positions(window["image"][context - 2 : context, ..., 0])
        if not np.isnan(seen).any():
            windows.append(window)
    batch = {k: np.stack([w[k] for w in windows]) for k in windows[0]}
    batch["is_first"][:, 0] = True
    return batch


def evaluate(world_model, windows, context, tolerance):
    """Open-loop ball tracking and image error of the model and the baselines per step."""
    truths, predictions = [], []
    for i in range(0, len(windows["reward"]), 16):
        chunk = {k: v[i : i + 16] for k, v in windows.items()}
        truth, prediction = world_model.video_prediction(chunk, context=context)
        truths.append(np.asarray(truth))
        predictions.append(np.asarray(prediction))
    truth = np.concatenate(truths)[..., 0].astype(np.float32)
    prediction = np.concatenate(predictions)[..., 0].astype(np.float32)
    true_ball = ball_positions(truth)
    model_ball = ball_positions(prediction)
    last, before = true_ball[:, context - 1], true_ball[:, context - 2]
    steps = np.arange(1, truth.shape[1] - context + 1)[None, :, None]
    baselines = {
        "copy_last_frame": np.broadcast_to(last[:, None], true_ball[:, context:].shape),
        "constant_velocity": last[:, None] + steps * (last - before)[:, None],
    }
    future = true_ball[:, context:]
    visible = ~np.isnan(future[..., 0])

    def hits(guess):
        error = np.linalg.norm(guess - future, axis=-1)
        return np.where(np.isnan(error), False, error <= tolerance), error

    model_hit, model_error = hits(model_ball[:, context:])
    result = {
        "visible_frames_per_step": visible.sum(0).tolist(),
        "model_hit_rate": _rate(model_hit, visible),
        "model_ball_found_rate": _rate(~np.isnan(model_error), visible),
        "model_error_px_median": _median(model_error, visible),
    }
    for name, guess in baselines.items():
        hit, error = hits(guess)
        result[f"{name}_hit_rate"] = _rate(hit, visible)
        result[f"{name}_error_px_median"] = _median(error, visible)
    result["model_image_error"] = frame_error(prediction[:, context:], truth[:, context:]).tolist()
    result["copy_last_frame_image_error"] = frame_error(
        truth[:, context - 1 : context], truth[:, context:]
    ).tolist()
    result["posterior_image_error"] = float(
        frame_error(prediction[:, :context], truth[:, :context]).mean()
    )
    return result, truth, prediction


def frame_error(a, b):
    """The image loss of frames `a` against `b` (0-255), mean over windows, per step."""
    return (0.5 * ((a - b) / 255.0) ** 2).sum((-2, -1)).mean(0)


def _rate(hit, visible):
    return (np.where(visible, hit, False).sum(0) / np.maximum(visible.sum(0), 1)).tolist()


def _median(error, visible):
    error = np.where(visible & ~np.isnan(error), error, np.nan)
    return [float(np.nanmedian(e)) if np.isfinite(e).any() else None for e in error.T]


def _summary(result, horizon):
    def mean(key, upto):
        return float(np.mean(result[key][:upto]))

    summary = {
        f"{key}_steps_1_{upto}": mean(key, upto)
        for upto in (5, horizon)
        for key in ("model_hit_rate", "copy_last_frame_hit_rate", "constant_velocity_hit_rate")
    }
    summary["open_loop_image_error"] = mean("model_image_error", horizon)
    summary["copy_last_frame_image_error"] = mean("copy_last_frame_image_error", horizon)
    summary["posterior_image_error"] = result["posterior_image_error"]
    return summary


class Checkpoint:
    """The world model's and its optimizer's variables plus the run's state, in `folder`."""

    def __init__(self, world_model, replay, folder):
        self.world_model, self.replay, self.folder = world_model, replay, folder

    def _variables(self):
        return list(self.world_model.variables) + list(self.world_model.optimizer.variables)

    def save(self, state):
        state = dict(state, replay_rng=self.replay.rng_state)
        save_checkpoint(self.folder, self._variables(), state)

    def restore(self):
        state = load_checkpoint(self.folder, self._variables())
        if state is not None:
            self.replay.rng_state = state.pop("replay_rng")
        return state


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=float, default=3000, help="training seconds in total")
    parser.add_argument("--out", default="/tmp/dreamer_pong")
    parser.add_argument("--train-steps", type=int, default=40_000, help="replay env steps")
    parser.add_argument("--heldout-steps", type=int, default=3000)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--seq-len", type=int, default=32)
    parser.add_argument("--windows", type=int, default=64, help="held-out eval windows")
    parser.add_argument("--horizon", type=int, default=15, help="open-loop steps")
    parser.add_argument("--tolerance", type=float, default=3.0, help="pixels")
    parser.add_argument("--eval-every", type=float, default=600, help="seconds")
    parser.add_argument("--preset", help="also write the agent as a preset folder here")
    args = parser.parse_args()
    context = 5
    env = make_env("atari:pong", time_limit=1000, seed=0)
    agent = DreamerV2.from_hparams("tiny", env.obs_shape, env.num_actions, seed=0, **MODEL)
    world_model = agent.world_model
    world_model.compile()
    replay = EpisodeReplay(
        os.path.join(args.out, "replay"),
        seq_len=args.seq_len,
        batch_size=args.batch_size,
        seed=0,
    )
    heldout = EpisodeReplay(os.path.join(args.out, "heldout"), seq_len=1, batch_size=1)
    checkpoint = Checkpoint(world_model, replay, os.path.join(args.out, "checkpoint"))
    state = checkpoint.restore()
    if state is None:
        start = time.time()
        play(env, replay, args.train_steps, np.random.default_rng(0))
        ram = []
        play(
            make_env("atari:pong", time_limit=1000, seed=1),
            heldout,
            args.heldout_steps,
            np.random.default_rng(1),
            ram,
        )
        state = {
            "updates": 0,
            "seconds": 0.0,
            "collect_seconds": time.time() - start,
            "detector_check": detector_check(ram),
            "loss_curve": [],
            "eval_curve": [],
        }
        print(
            f"collected in {state['collect_seconds']:.0f} s; detector check: "
            f"{state['detector_check']}",
            flush=True,
        )
    windows = eval_windows(
        heldout.directory, args.windows, context + args.horizon, context, np.random.default_rng(2)
    )
    print(
        f"replay: {replay.num_episodes} episodes, {replay.num_steps} steps; held-out: "
        f"{heldout.num_episodes} episodes, {heldout.num_steps} steps",
        flush=True,
    )

    def run_eval():
        result, truth, prediction = evaluate(world_model, windows, context, args.tolerance)
        point = dict(
            updates=state["updates"], seconds=state["seconds"], **_summary(result, args.horizon)
        )
        state["eval_curve"].append(point)
        print(json.dumps(point), flush=True)
        return result, truth, prediction

    if not state["eval_curve"]:
        run_eval()
    losses, last_eval = [], state["seconds"]
    try:
        while state["seconds"] < args.budget:
            tick = time.time()
            logs = world_model.train_on_batch(replay.sample_batch(), return_dict=True)
            state["seconds"] += time.time() - tick
            state["updates"] += 1
            losses.append([float(logs["image_loss"]), float(logs["kl"])])
            if state["updates"] % 100 == 0:
                image_loss, kl = np.mean(losses, axis=0)
                state["loss_curve"].append(
                    dict(
                        updates=state["updates"],
                        seconds=state["seconds"],
                        image_loss=float(image_loss),
                        kl=float(kl),
                    )
                )
                print(json.dumps(state["loss_curve"][-1]), flush=True)
                losses = []
            if args.eval_every <= state["seconds"] - last_eval < args.budget - state["seconds"]:
                run_eval()
                checkpoint.save(state)
                last_eval = state["seconds"]
    finally:
        checkpoint.save(state)
    result, truth, prediction = run_eval()
    checkpoint.save(state)
    report = dict(
        config=dict(MODEL, base="tiny", batch_size=args.batch_size, seq_len=args.seq_len),
        replay_episodes=replay.num_episodes,
        replay_steps=replay.num_steps,
        heldout_episodes=heldout.num_episodes,
        heldout_steps=heldout.num_steps,
        windows=args.windows,
        context=context,
        tolerance_px=args.tolerance,
        final=result,
        **state,
    )
    with open(os.path.join(args.out, "pong_world_model.json"), "w") as f:
        json.dump(report, f, indent=1)
    order = np.argsort([-np.sum(~np.isnan(ball_positions(t)[:, 0])) for t in truth])[:2]
    save_video_prediction(
        truth[order, ..., None].astype(np.uint8),
        prediction[order, ..., None].astype(np.uint8),
        os.path.join(args.out, "open_loop"),
        strip_every=2,
    )
    if args.preset:
        summary = state["eval_curve"][-1]
        agent.save_to_preset(
            args.preset,
            metadata=dict(
                description="DreamerV2 world model trained on ALE Pong frames; untrained actor.",
                training_data=f"ALE Pong (make_env('atari:pong'), action repeat 4, "
                f"sticky actions 0.25, 64x64 grayscale, episodes cut at 1000 steps): "
                f"{replay.num_steps} steps of sticky-random play; {state['updates']} world-model "
                f"updates of batch {args.batch_size}x{args.seq_len} in "
                f"{state['seconds'] / 60:.0f} minutes on a shared 2-core CPU; "
                "benchmarks/dreamer_pong.py",
                metrics=summary,
            ),
        )


if __name__ == "__main__":
    main()
