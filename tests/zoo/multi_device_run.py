"""Trains the sparse and the Transporter models on one device and on two, in one fresh process.

Run by `multi_device_test.py` as `KERAS_BACKEND=<jax|tensorflow> python multi_device_run.py`:
the process makes two virtual CPU devices before the framework starts (JAX's
`--xla_force_host_platform_device_count`, TensorFlow's logical devices), trains each model for
a few steps of `fit` on fixed data, once on one device and once data-parallel on both
(`keras.distribution.DataParallel` on JAX, `tf.distribute.MirroredStrategy` on TensorFlow), from
the same weights with the same global batch, and prints one JSON line: for each model the two
loss trajectories, the largest difference between the two sets of trained weights, and how many
devices held the data-parallel run.
"""

import contextlib
import functools
import json
import os
import sys

BACKEND = os.environ.get("KERAS_BACKEND", "tensorflow")
DEVICES = 2
if BACKEND == "jax":
    # Two host devices; and a quick compile rather than fast code: the steps are tiny, and
    # XLA's optimizing passes would take most of the run.
    flags = (
        f"--xla_force_host_platform_device_count={DEVICES}",
        "--xla_backend_optimization_level=0",
        "--xla_llvm_disable_expensive_passes=true",
    )
    os.environ["XLA_FLAGS"] = " ".join((os.environ.get("XLA_FLAGS", ""), *flags)).strip()
elif BACKEND == "tensorflow":
    import tensorflow as tf

    tf.config.set_logical_device_configuration(
        tf.config.list_physical_devices("CPU")[0],
        [tf.config.LogicalDeviceConfiguration() for _ in range(DEVICES)],
    )
else:
    raise SystemExit(f"KERAS_BACKEND must be jax or tensorflow. Received: {BACKEND!r}")

import keras  # noqa: E402
import numpy as np  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "transporter"))
from synthetic_scenes import synthetic_scenes  # noqa: E402

from keras_suite.zoo import SemanticSegmentation3D, SparseUNet3D, TransporterNet  # noqa: E402

STEPS = 3
BATCH = 4


def semantic_data():
    """Four scenes of 40 voxels with 40, 25, 30 and 10 valid ones: the two devices' halves of
    the batch hold different numbers of valid voxels (65 and 40)."""
    rng = np.random.default_rng(0)
    extent, num_voxels = 8, 40
    flat = np.stack([rng.choice(extent**3, num_voxels, replace=False) for _ in range(BATCH)])
    xyz = np.stack(np.unravel_index(flat, (extent,) * 3), -1).astype("int32")
    num_valid = np.array([40, 25, 30, 10], "int32")
    x = {
        "voxel_features": rng.normal(size=(BATCH, num_voxels, 3)).astype("float32"),
        "voxel_xyz_indices": xyz,
        "num_valid_voxels": num_valid,
    }
    y = (x["voxel_features"][..., 0] > 0).astype("int32") + (xyz[..., 2] > 3)
    y[np.arange(num_voxels)[None, :] >= num_valid[:, None]] = -1
    return x, y


def semantic_model():
    # Batch normalization (masked, over the global batch) stays on: it is what couples the
    # examples of a batch.
    backbone = SparseUNet3D([[4], [8]], [8], [[8], [4]])
    return SemanticSegmentation3D(backbone, num_classes=3), keras.optimizers.SGD(0.1)


def transporter_data():
    images, picks, places, bins = synthetic_scenes(BATCH, shape=(24, 16))
    x = {"image": images, "pick_pixel": picks.astype("int32")}
    y = {"pick_pixel": picks.astype("int32"), "place_pixel": places.astype("int32")}
    y["rotation_bin"] = bins
    return x, y


def transporter_model():
    filters = (4, 4, 8, 8, 8, 4, 4, 4)
    model = TransporterNet(
        crop_size=8, num_rotations=4, attention_filters=filters, transport_filters=filters
    )
    return model, keras.optimizers.SGD(0.01)


def data_parallel_scope(devices):
    """The scope in which a model is made and compiled to train on `devices` devices."""
    if BACKEND == "jax":
        import jax

        distribution = None
        if devices > 1:
            distribution = keras.distribution.DataParallel(devices=jax.devices("cpu")[:devices])
        keras.distribution.set_distribution(distribution)
        return contextlib.nullcontext()
    if devices > 1:
        return mirrored_strategy(devices).scope()
    return contextlib.nullcontext()


@functools.cache
def mirrored_strategy(devices):
    # One strategy per process: a second `MirroredStrategy` over the same devices numbers its
    # collective all-reduces from the start again, and they clash with the first one's.
    return tf.distribute.MirroredStrategy([f"/cpu:{i}" for i in range(devices)])


def devices_holding(model):
    """How many devices hold the model's first weight (a replica each)."""
    variable = model.trainable_variables[0]
    if BACKEND == "jax":
        return len(variable.value.sharding.device_set)
    return len(tf.distribute.get_strategy().experimental_local_results(variable.value))


def build(make, data):
    """A compiled model from `make`, built from the shapes of the inputs."""
    (x, y), (model, optimizer) = data, make()
    model.build({name: value.shape for name, value in x.items()})
    # Eager TensorFlow for the Transporter: tracing its step (a few hundred variables, once
    # per replica) costs a minute, far more than these few steps.
    eager = BACKEND == "tensorflow" and isinstance(model, TransporterNet)
    model.compile(optimizer=optimizer, run_eagerly=eager)
    if BACKEND == "tensorflow" and isinstance(model, SemanticSegmentation3D):
        # Under a strategy, Keras 3.15 builds a model's compiled loss and metrics from the
        # first batch averaged over the replicas, which turns the int32 voxel indices into
        # floats (that the model refuses): build them from one eager call instead.
        y_pred = model(x)
        model.compute_loss(x, y, y_pred)
        model.compute_metrics(x, y, y_pred, None)
    return model


def fit(model, data):
    history = model.fit(*data, batch_size=BATCH, epochs=STEPS, shuffle=False, verbose=0)
    return history.history["loss"], model.get_weights()


def compare(make, data):
    """Trains a model on one device, then a copy of its initial weights on `DEVICES`."""
    keras.utils.set_random_seed(0)
    with data_parallel_scope(1):
        model = build(make, data)
        initial = model.get_weights()
        one, trained_one = fit(model, data)
    with data_parallel_scope(DEVICES):
        model = build(make, data)
        model.set_weights(initial)
        many, trained_many = fit(model, data)
        held = devices_holding(model)
    if BACKEND == "jax":
        keras.distribution.set_distribution(None)
    return {
        "one_device": one,
        "data_parallel": many,
        "devices": held,
        "weight_change": max(float(np.max(np.abs(a - b))) for a, b in zip(trained_one, initial)),
        "weight_gap": max(float(np.max(np.abs(a - b))) for a, b in zip(trained_one, trained_many)),
    }


def main():
    names = sys.argv[1:] or ["semantic_segmentation3d", "transporter_net"]
    cases = {
        "semantic_segmentation3d": (semantic_model, semantic_data),
        "transporter_net": (transporter_model, transporter_data),
    }
    results = {name: compare(cases[name][0], cases[name][1]()) for name in names}
    print(json.dumps(results))


if __name__ == "__main__":
    main()
