"""Transporter Networks speed: action latency and training iterations/s, FFT vs direct.

The transport's cross-correlation of the key features with the 36 rotated query kernels is the
expensive step. This script times, in one process, with the direct convolution as the baseline:

1. action latency (`act`: attention + transport at 36 rotations, one 320 x 160 map) of the
   paper-size model and of the narrow configuration that `keras-suite ravens train` uses;
2. training iterations/s (forward + backward + Adam update, batch 1) of the narrow
   configuration on a 160 x 80 map with a 32-pixel crop (the direct convolution's backward pass
   at full size takes over a minute an iteration on a CPU);
3. the time to the end of the first training step (compile + trace + one step) of the narrow
   configuration, with `TransporterNet.compile` building the optimizer eagerly against Keras'
   default of building it inside the traced step (the baseline);
4. the action latency of a shipped preset (`ravens_align_box_corner`, a 320 x 160 Ravens map
   shrunk twice) with `test_time_turns` 2 and 4 against 1 (the baseline);
5. the action latency of the `ravens_towers_of_hanoi` preset with `subpixel_place` against
   placing at the argmax pixel's centre (the baseline).

The two variants share their weights and are timed alternately, keeping each one's fastest
repeat, so that load from other processes skews both alike. It prints each time and the ratio
(above 1: FFT is faster; for test-time turns and sub-pixel places, how many times dearer the
action is).
"""

import time

import keras
import numpy as np

from keras_suite.envs.ravens.workspace import HEIGHTMAP_SHAPE
from keras_suite.zoo import TransporterNet
from keras_suite.zoo.transporter.training import CONFIGS
from keras_suite.zoo.transporter.transporter_net import DEFAULT_LEARNING_RATE

NARROW = CONFIGS["narrow"]
#: The narrow configuration's training map: a Ravens map shrunk twice.
HALF_MAP = (HEIGHTMAP_SHAPE[0] // 2, HEIGHTMAP_SHAPE[1] // 2)


def _pair(filters, crop_size):
    sizes = {} if filters is None else {"attention_filters": filters, "transport_filters": filters}
    models = {
        method: TransporterNet(crop_size=crop_size, num_rotations=36, correlation=method, **sizes)
        for method in ("fft", "direct")
    }
    return models


def _alternate(fns, repeats):
    """Fastest of `repeats` timings of each function, the functions called in turn."""
    for fn in fns.values():
        fn()  # warm-up (tracing, allocation)
    best = {name: float("inf") for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            start = time.perf_counter()
            fn()
            best[name] = min(best[name], time.perf_counter() - start)
    return best


def _random_map():
    """A 320 x 160 map of noise: Ravens' size, colour in [0, 255], heights up to 5 cm."""
    rng = np.random.default_rng(0)
    return np.concatenate(
        [rng.uniform(0, 255, (*HEIGHTMAP_SHAPE, 3)), rng.uniform(0, 0.05, (*HEIGHTMAP_SHAPE, 1))],
        axis=-1,
    ).astype("float32")


def action_latency(filters=None, repeats=3):
    models = _pair(filters, 64)
    image = _random_map()
    models["fft"].act(image)
    models["direct"].act(image)
    models["direct"].set_weights(models["fft"].get_weights())
    fns = {name: (lambda m=model: m.act(image)) for name, model in models.items()}
    return _alternate(fns, repeats), models["fft"].count_params()


def training_rate(repeats=3):
    models = _pair(NARROW, 32)
    rng = np.random.default_rng(0)
    x = {
        "image": rng.uniform(0, 1, (1, *HALF_MAP, 4)).astype("float32"),
        "pick_pixel": np.array([[40, 30]], "int32"),
    }
    y = {
        "pick_pixel": x["pick_pixel"],
        "place_pixel": np.array([[100, 50]], "int32"),
        "rotation_bin": np.array([7], "int32"),
    }
    for model in models.values():
        model.compile()
    fns = {name: (lambda m=model: m.train_on_batch(x, y)) for name, model in models.items()}
    seconds = _alternate(fns, repeats)
    return {name: 1.0 / s for name, s in seconds.items()}


def first_step_seconds():
    """Compile + first `train_on_batch` of fresh narrow models: ours, then Keras' default."""
    rng = np.random.default_rng(0)
    x = {
        "image": rng.uniform(0, 1, (1, *HALF_MAP, 4)).astype("float32"),
        "pick_pixel": np.array([[40, 30]], "int32"),
    }
    y = {
        "pick_pixel": x["pick_pixel"],
        "place_pixel": np.array([[100, 50]], "int32"),
        "rotation_bin": np.array([7], "int32"),
    }
    seconds = {}
    for name in ("eager optimizer build", "keras default"):
        model = TransporterNet(
            crop_size=32, num_rotations=36, attention_filters=NARROW, transport_filters=NARROW
        )
        start = time.perf_counter()
        if name == "keras default":
            keras.Model.compile(model, optimizer=keras.optimizers.Adam(DEFAULT_LEARNING_RATE))
        else:
            model.compile()
        model.train_on_batch(x, y)
        seconds[name] = time.perf_counter() - start
    return seconds


def preset_action_latency(preset, option, values, repeats):
    """`act` of a shipped preset on a Ravens-size map, for each value of one of its settings."""
    image = _random_map()
    fns = {}
    for value in values:
        model = TransporterNet.from_preset(preset, **{option: value})
        fns[value] = lambda m=model: m.act(image)
    return _alternate(fns, repeats)


def main():
    print("Transporter action latency (act: attention + transport, 36 rotations, 320x160 map):")
    for label, filters in [("paper size", None), ("narrow", NARROW)]:
        seconds, params = action_latency(filters)
        speed_up = seconds["direct"] / seconds["fft"]
        print(
            f"  {label} ({params / 1e6:.1f}M parameters): direct {seconds['direct']:.2f} s, "
            f"FFT {seconds['fft']:.2f} s, speed-up of FFT {speed_up:.2f}x",
            flush=True,
        )
    rate = training_rate()
    print("Transporter training iterations/s (narrow, 160x80 map, crop 32, 36 rotations):")
    print(
        f"  direct {rate['direct']:.3f} it/s, FFT {rate['fft']:.3f} it/s, "
        f"speed-up of FFT {rate['fft'] / rate['direct']:.2f}x"
    )
    seconds = first_step_seconds()
    ours, default = seconds["eager optimizer build"], seconds["keras default"]
    print("Transporter time to the first training step (narrow, compile + trace + 1 step):")
    print(
        f"  Keras default {default:.1f} s, eager optimizer build {ours:.1f} s, "
        f"speed-up {default / ours:.2f}x"
    )
    seconds = preset_action_latency("ravens_align_box_corner", "test_time_turns", (1, 2, 4), 3)
    print("Transporter action latency with test-time turns (ravens_align_box_corner preset):")
    print(
        f"  1 turn {seconds[1]:.3f} s, 2 turns {seconds[2]:.3f} s "
        f"({seconds[2] / seconds[1]:.2f}x), 4 turns {seconds[4]:.3f} s "
        f"({seconds[4] / seconds[1]:.2f}x)"
    )
    seconds = preset_action_latency("ravens_towers_of_hanoi", "subpixel_place", (False, True), 5)
    print("Transporter action latency with sub-pixel places (ravens_towers_of_hanoi preset):")
    print(
        f"  at the pixel's centre {seconds[False]:.3f} s, subpixel_place {seconds[True]:.3f} s "
        f"({seconds[True] / seconds[False]:.2f}x)"
    )


if __name__ == "__main__":
    main()
