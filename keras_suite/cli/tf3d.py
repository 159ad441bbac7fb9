"""`keras-suite tf3d`: TensorFlow 3D: sparse 3D semantic segmentation.

Trains on generated synthetic scenes by default, or on ScanNet / 3RScan (`rio`) read from a
manual download with `--dataset scannet --manual-dir DIR`.
"""

import json
import os
import time

CLASS_COLOURS = (
    (0.55, 0.45, 0.35),
    (0.7, 0.7, 0.7),
    (0.85, 0.2, 0.2),
    (0.2, 0.4, 0.85),
    (0.2, 0.7, 0.3),
)
VOXEL_SIZE = 0.15
MAX_VOXELS = 5000
NUM_POINTS = 12000
TEST_SEED_OFFSET = 1_000_000
VALIDATION_SEED_OFFSET = 500_000
VALIDATION_SCENES = 12
DATASETS = ("synthetic_scenes", "scannet", "rio")
VOXEL_KEYS = ("voxel_features", "voxel_xyz_indices", "num_valid_voxels")
#: Synthetic-scene voxel features with `--point-geometry`: colour and height, then the 9 of
#: `keras_suite.datasets.synthetic_scenes.voxel_batch.POINT_GEOMETRY_FEATURES`.
POINT_GEOMETRY_FEATURES = 13
REAL_VOXEL_SIZE = 0.05
REAL_MAX_VOXELS = 20000
REAL_BATCH_SIZE = 4
# `--task` values other than semantic segmentation: the module (in `keras_suite.cli`) that
# implements `train_and_evaluate(out_dir, scenes_per_epoch, test_scenes, epochs, preset)`.
TASKS = {"instance": "tf3d_instance", "detection": "tf3d_detection"}


def add_parser(subparsers):
    parser = subparsers.add_parser(
        "tf3d",
        help="TensorFlow 3D: train and evaluate 3D semantic segmentation on synthetic scenes, "
        "ScanNet or 3RScan",
    )
    parser.add_argument("--out", default="out/tf3d", help="output folder")
    parser.add_argument(
        "--task",
        choices=("semantic", *TASKS),
        default="semantic",
        help="pipeline to train and evaluate on synthetic_scenes: semantic segmentation, "
        "instance segmentation (instance AP) or object detection (AP@0.25/0.5); the last two "
        "train on fresh scenes every epoch: --train-scenes per epoch",
    )
    parser.add_argument(
        "--dataset",
        choices=DATASETS,
        default="synthetic_scenes",
        help="training data: generated synthetic scenes, or the `scannet` / `rio` TFDS "
        "builders read from --manual-dir",
    )
    parser.add_argument(
        "--manual-dir",
        default=None,
        help="folder holding the manual ScanNet / 3RScan download (required for scannet, rio)",
    )
    parser.add_argument(
        "--data-dir",
        default=None,
        help="TFDS data folder for scannet / rio (default: OUT/tensorflow_datasets)",
    )
    parser.add_argument(
        "--voxel-size",
        type=float,
        default=REAL_VOXEL_SIZE,
        help="voxel edge in metres for scannet / rio",
    )
    parser.add_argument(
        "--max-voxels",
        type=int,
        default=REAL_MAX_VOXELS,
        help="voxels per scene after padding for scannet / rio",
    )
    parser.add_argument(
        "--train-scenes", type=int, default=48, help="training scenes (synthetic_scenes)"
    )
    parser.add_argument(
        "--test-scenes", type=int, default=12, help="held-out scenes (synthetic_scenes)"
    )
    parser.add_argument("--epochs", type=int, default=10, help="training epochs")
    parser.add_argument(
        "--preset",
        default=None,
        help="start from this preset of the task's model (name or folder, e.g. "
        "synthetic_scenes_semantic, synthetic_scenes_detection) instead of scratch "
        "(synthetic_scenes)",
    )
    parser.add_argument(
        "--save-preset", default=None, help="write the trained model as a preset to this folder"
    )
    parser.add_argument(
        "--fresh-scenes",
        action="store_true",
        help="semantic task: train every epoch on --train-scenes new scenes, turned, mirrored "
        "and scaled at random (synthetic_scenes); the learning rate follows a cosine decay",
    )
    parser.add_argument(
        "--deep-backbone",
        action="store_true",
        help="semantic task from scratch: two convolutions per U-Net level (the shipped "
        "preset's backbone) instead of one",
    )
    parser.add_argument(
        "--point-geometry",
        action="store_true",
        help="semantic task: add the 9 point-geometry voxel features (where the points lie in "
        "the voxel and how they spread); a --preset without them gets them with zero "
        "first-layer weights. A preset that has them always uses them",
    )
    parser.add_argument(
        "--learning-rate",
        type=float,
        default=None,
        help="semantic task on synthetic_scenes: Adam's (starting) learning rate (default 3e-3 "
        "from scratch, 1e-3 from a --preset)",
    )
    parser.add_argument(
        "--validation-scenes",
        type=int,
        default=VALIDATION_SCENES,
        help="with --validate-every: validation scenes (seeds 500000...)",
    )
    parser.add_argument(
        "--validate-every",
        type=int,
        default=0,
        help="with --fresh-scenes: measure the point mIoU on --validation-scenes scenes every "
        "this many epochs and keep the weights of the best check (0: never)",
    )
    parser.set_defaults(func=run)
    return parser


def load_scenes(count, seed_offset, augment_rng=None, point_geometry=False):
    """Generates `count` synthetic scenes and voxelizes them (see `synthetic_scenes`).

    With `augment_rng` (a numpy Generator) every scene first goes through `augment_scene`;
    with `point_geometry` the voxels carry the 9 point-geometry features too.
    """
    from keras_suite.datasets.synthetic_scenes.scene_generator import generate_scene
    from keras_suite.datasets.synthetic_scenes.voxel_batch import scenes_to_voxels

    scenes = [generate_scene(seed_offset + i, num_points=NUM_POINTS) for i in range(count)]
    if augment_rng is not None:
        scenes = [augment_scene(scene, augment_rng) for scene in scenes]
    return scenes_to_voxels(
        scenes, VOXEL_SIZE, MAX_VOXELS, max_points=NUM_POINTS, point_geometry=point_geometry
    )


def uses_point_geometry(model):
    """Whether a synthetic-scenes model reads the point-geometry voxel features.

    Read from its backbone's input width; a backbone not built yet reads colour and height.
    """
    if not model.backbone.built:
        return False
    width = model.backbone.get_build_config()["input_shape"]["voxel_features"][-1]
    return width == POINT_GEOMETRY_FEATURES


def add_point_geometry_inputs(model):
    """A copy of a colour-and-height semantic model that also reads the point-geometry features.

    The first convolution's weights for the 9 new features start at zero, so the copy predicts
    what `model` predicts until it trains.
    """
    import numpy as np

    from keras_suite.zoo import SemanticSegmentation3D, SparseUNet3D

    backbone = SparseUNet3D.from_config(model.backbone.get_config())
    wide = SemanticSegmentation3D(backbone, num_classes=model.num_classes)
    wide.build(
        {
            "voxel_features": (None, None, POINT_GEOMETRY_FEATURES),
            "voxel_xyz_indices": (None, None, 3),
            "num_valid_voxels": (None,),
        }
    )
    weights = []
    for old, new in zip(model.get_weights(), wide.get_weights()):
        if old.shape != new.shape:  # the first kernel: (k, k, k, in_channels, filters)
            new = np.zeros_like(new)
            new[..., : old.shape[-2], :] = old
            old = new
        weights.append(old)
    wide.set_weights(weights)
    return wide


def augment_scene(scene, rng):
    """A copy of `scene` turned about the up axis, maybe mirrored and scaled horizontally.

    The points turn about the room's centre by a multiple of 90 degrees plus up to 0.2 rad,
    are mirrored in x with probability 1/2 and scaled in x and y by a factor in [0.9, 1.1];
    heights, colours and labels are unchanged.
    """
    import numpy as np

    points = scene["points"].copy()
    centre = (points.min(0) + points.max(0)) / 2
    angle = rng.integers(4) * np.pi / 2 + rng.uniform(-0.2, 0.2)
    c, s = np.cos(angle), np.sin(angle)
    xy = (points[:, :2] - centre[:2]) @ np.array([[c, -s], [s, c]]).T
    if rng.uniform() < 0.5:
        xy[:, 0] = -xy[:, 0]
    points[:, :2] = xy * rng.uniform(0.9, 1.1) + centre[:2]
    return dict(scene, points=points.astype("float32"))


def voxel_inputs(data):
    return {k: data[k] for k in VOXEL_KEYS}


def build_backbone(deep=False):
    """The U-Net this command trains from scratch (also the task models' fallback).

    One convolution per level, or with `deep` two (the backbone of the semantic preset).
    """
    from keras_suite.zoo import SparseUNet3D

    if deep:
        return SparseUNet3D(
            [[16, 16], [32, 32], [64, 64]], [64, 64], [[48, 48], [32, 32], [32, 32]]
        )
    return SparseUNet3D([[16], [32], [48]], [64], [[48], [32], [32]])


def build_model(num_classes=5, deep=False):
    """The semantic segmentation model trained by this command from scratch."""
    from keras_suite.zoo import SemanticSegmentation3D

    return SemanticSegmentation3D(build_backbone(deep), num_classes=num_classes)


def compile_model(model, learning_rate=3e-3, num_classes=5):
    import keras

    from keras_suite.losses import SemanticCrossEntropy3D
    from keras_suite.metrics import MeanIoU3D

    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss=SemanticCrossEntropy3D(ignore_label=-1),
        metrics=[MeanIoU3D(num_classes, ignore_label=-1)],
    )


def evaluate_points(model, data):
    """Point-level mean IoU of the model on voxelized scenes."""
    import numpy as np

    from keras_suite.metrics import MeanIoU3D

    metric = MeanIoU3D(5, ignore_label=-1)
    predictions = []
    for start in range(0, len(data["num_valid_voxels"]), 4):
        part = {k: v[start : start + 4] for k, v in data.items()}
        labels = model.predict_points(voxel_inputs(part), part["point_to_voxel"]).numpy()
        metric.update_state(part["semantic_labels"], labels)
        predictions.append(labels)
    return float(metric.result()), np.concatenate(predictions)


def render(data, predictions, index, path):
    """Writes a top-down PNG of one scene: ground-truth classes beside predicted classes."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    n = data["num_valid_points"][index]
    points = data["points"][index, :n]
    order = np.argsort(points[:, 2])
    colours = np.array(CLASS_COLOURS + ((0, 0, 0),))
    figure, axes = plt.subplots(1, 2, figsize=(10, 5))
    for axis, labels, title in (
        (axes[0], data["semantic_labels"][index, :n], "ground truth"),
        (axes[1], predictions[index, :n], "prediction"),
    ):
        axis.scatter(points[order, 0], points[order, 1], c=colours[labels[order]], s=1)
        axis.set_title(title)
        axis.set_aspect("equal")
        axis.axis("off")
    figure.savefig(path, dpi=80, bbox_inches="tight")
    plt.close(figure)


def train_fresh(
    model,
    epochs,
    scenes_per_epoch,
    learning_rate,
    validate_every=0,
    log=print,
    point_geometry=False,
    validation_scenes=VALIDATION_SCENES,
):
    """Fits `epochs` epochs, each on `scenes_per_epoch` fresh augmented scenes.

    Epoch `e` uses seeds `e * 10000 + 5000 ...` (never the validation or held-out ones). The
    learning rate decays from `learning_rate` to 1% of it along a cosine over all steps. With
    `validate_every`, the point mIoU on `validation_scenes` scenes (seeds 500000...) is
    measured every that many epochs and after the last, and the model ends with the weights of
    the best check. `point_geometry` adds the point-geometry voxel features.

    Returns:
        A dict: `final_training_loss`, and with `validate_every` also
        `best_validation_point_miou` and `best_validation_epoch`.
    """
    import keras
    import numpy as np

    steps = epochs * -(-scenes_per_epoch // 4)
    compile_model(model, keras.optimizers.schedules.CosineDecay(learning_rate, steps, alpha=0.01))
    validation = (
        load_scenes(validation_scenes, VALIDATION_SEED_OFFSET, point_geometry=point_geometry)
        if validate_every
        else None
    )
    rng = np.random.default_rng(0)
    results, best_weights = {}, None
    for epoch in range(epochs):
        train = load_scenes(
            scenes_per_epoch, epoch * 10_000 + 5_000, augment_rng=rng, point_geometry=point_geometry
        )
        history = model.fit(
            voxel_inputs(train), train["voxel_semantic_labels"], batch_size=4, verbose=0
        )
        results["final_training_loss"] = float(history.history["loss"][-1])
        line = f"epoch {epoch + 1}/{epochs}: loss {results['final_training_loss']:.4f}"
        if validation is not None and ((epoch + 1) % validate_every == 0 or epoch + 1 == epochs):
            miou, _ = evaluate_points(model, validation)
            line += f", validation mIoU {miou:.4f}"
            if miou > results.get("best_validation_point_miou", -1.0):
                results.update(best_validation_point_miou=miou, best_validation_epoch=epoch + 1)
                best_weights = model.get_weights()
        log(line)
    if best_weights is not None:
        model.set_weights(best_weights)
    return results


def train_and_evaluate(
    out_dir,
    train_scenes,
    test_scenes,
    epochs,
    preset=None,
    save_preset=None,
    fresh_scenes=False,
    deep_backbone=False,
    validate_every=0,
    point_geometry=False,
    learning_rate=None,
    validation_scenes=VALIDATION_SCENES,
):
    """Trains (or fine-tunes) the semantic model, evaluates it on held-out scenes, renders.

    With `fresh_scenes`, every epoch trains on `train_scenes` new augmented scenes
    (`train_fresh`, with a cosine learning-rate decay and the best of validation checks on
    `validation_scenes` scenes every `validate_every` epochs) instead of the same
    `train_scenes` scenes. `learning_rate` defaults to 3e-3 from scratch, 1e-3 from a preset.
    `deep_backbone` picks the two-convolutions-per-level U-Net when training from scratch.
    `point_geometry` adds the point-geometry voxel features (see `add_point_geometry_inputs`
    for a preset without them); a preset that reads them always gets them.
    """
    from keras_suite.zoo import SemanticSegmentation3D

    os.makedirs(out_dir, exist_ok=True)
    start = time.time()
    if preset is not None:
        model = SemanticSegmentation3D.from_preset(preset)
        print(f"loaded preset {preset}", flush=True)
        if point_geometry and not uses_point_geometry(model):
            model = add_point_geometry_inputs(model)
        point_geometry = uses_point_geometry(model)
    else:
        model = build_model(deep=deep_backbone)
    test = load_scenes(test_scenes, TEST_SEED_OFFSET, point_geometry=point_geometry)
    if learning_rate is None:
        learning_rate = 1e-3 if preset is not None else 3e-3
    results = {}
    if preset is not None and epochs > 0:
        results["preset_held_out_point_miou"], _ = evaluate_points(model, test)
        print(
            f"preset held-out semantic mIoU before training: "
            f"{results['preset_held_out_point_miou']:.3f}",
            flush=True,
        )
    if epochs > 0 and fresh_scenes:
        print(f"training for {epochs} epochs of {train_scenes} fresh scenes", flush=True)
        results.update(
            train_fresh(
                model,
                epochs,
                train_scenes,
                learning_rate,
                validate_every=validate_every,
                log=lambda line: print(line, flush=True),
                point_geometry=point_geometry,
                validation_scenes=validation_scenes,
            )
        )
    elif epochs > 0:
        train = load_scenes(train_scenes, 0, point_geometry=point_geometry)
        compile_model(model, learning_rate)
        print(f"training on {train_scenes} scenes for {epochs} epochs", flush=True)
        history = model.fit(
            voxel_inputs(train),
            train["voxel_semantic_labels"],
            batch_size=4,
            epochs=epochs,
            verbose=2,
        )
        results["final_training_loss"] = float(history.history["loss"][-1])
    miou, predictions = evaluate_points(model, test)
    results.update(
        {
            "held_out_point_miou": miou,
            "held_out_scenes": test_scenes,
            "seconds": round(time.time() - start, 1),
        }
    )
    print(f"held-out semantic mIoU (points, {test_scenes} scenes): {miou:.3f}", flush=True)
    for index in range(min(3, test_scenes)):
        render(test, predictions, index, os.path.join(out_dir, f"semantic_scene_{index}.png"))
    with open(os.path.join(out_dir, "metrics.json"), "w") as f:
        json.dump(results, f, indent=2)
    if save_preset:
        if fresh_scenes:
            training_data = (
                f"synthetic_scenes, {train_scenes} fresh scenes per epoch (epoch e: seeds "
                "e*10000+5000..), augmented by keras_suite.cli.tf3d.augment_scene"
            )
        else:
            training_data = f"synthetic_scenes seeds 0..{train_scenes - 1}"
        metadata = {"metrics": {"semantic_miou_points_held_out": miou}}
        if "best_validation_point_miou" in results:
            metadata["metrics"]["semantic_miou_points_validation"] = results[
                "best_validation_point_miou"
            ]
            metadata["validation_data"] = (
                f"synthetic_scenes seeds {VALIDATION_SEED_OFFSET}.."
                f"{VALIDATION_SEED_OFFSET + validation_scenes - 1}"
            )
        model.save_to_preset(
            save_preset,
            metadata={
                **metadata,
                "training_data": f"{training_data}, {NUM_POINTS} points, voxel_size {VOXEL_SIZE} m",
                **scene_metadata(test_scenes, point_geometry),
                "class_names": ["floor", "wall", "box", "cylinder", "l_shape"],
            },
        )
    return results


def scene_metadata(test_scenes, point_geometry=False):
    """The preset metadata every synthetic-scenes pipeline records: held-out seeds and voxels."""
    features = "mean colour (r, g, b) and height z in metres"
    if point_geometry:
        features += (
            ", then the points' mean offset from the voxel centre (3) and covariance (6, times "
            "12), in voxel edges (synthetic_scenes.voxel_batch.POINT_GEOMETRY_FEATURES)"
        )
    return {
        "held_out_data": f"synthetic_scenes seeds {TEST_SEED_OFFSET}.."
        f"{TEST_SEED_OFFSET + test_scenes - 1}",
        "voxel_size": VOXEL_SIZE,
        "max_voxels": MAX_VOXELS,
        "voxel_features": features,
    }


def load_voxel_split(name, split, manual_dir, data_dir, voxel_size, max_voxels):
    """Builds the `name` TFDS dataset from `manual_dir` and returns batched voxels of `split`.

    Returns `(dataset, num_classes)`: the dataset yields `(inputs, labels)` where voxels without
    a labelled point (ignored classes, padding) carry the label -1, which the loss and the metric
    skip.
    """
    import tensorflow as tf
    import tensorflow_datasets as tfds

    from keras_suite.datasets import voxel_transform  # also registers the TFDS builders

    builder = tfds.builder(name, data_dir=data_dir)
    builder.download_and_prepare(
        download_config=tfds.download.DownloadConfig(manual_dir=manual_dir)
    )
    transform = voxel_transform(name, voxel_size, max_voxels, output_format="semantic")

    def to_labels(example):
        inputs, labels, weights = transform(example)
        return inputs, tf.where(weights > 0, labels, -1)

    dataset = builder.as_dataset(split=split, shuffle_files=split == "train")
    if split == "train":
        dataset = dataset.shuffle(64, seed=0)
    dataset = dataset.map(to_labels, num_parallel_calls=tf.data.AUTOTUNE)
    return dataset.batch(REAL_BATCH_SIZE).prefetch(tf.data.AUTOTUNE), transform.num_classes


def evaluate_voxels(model, dataset, num_classes):
    """Voxel-level mean IoU of the model over a batched `(inputs, labels)` dataset."""
    from keras_suite.metrics import MeanIoU3D

    metric = MeanIoU3D(num_classes, ignore_label=-1)
    for inputs, labels in dataset:
        metric.update_state(labels, model(inputs, training=False))
    return float(metric.result())


def train_and_evaluate_real(
    name, out_dir, manual_dir, data_dir, voxel_size, max_voxels, epochs, save_preset=None
):
    """Trains a fresh semantic model on ScanNet or 3RScan (`rio`) and evaluates it.

    Trains on the `train` split and reports the voxel mean IoU on the `validation` split.
    """
    os.makedirs(out_dir, exist_ok=True)
    start = time.time()
    if data_dir is None:
        data_dir = os.path.join(out_dir, "tensorflow_datasets")
    splits = {}
    for split in ("train", "validation"):
        splits[split], num_classes = load_voxel_split(
            name, split, manual_dir, data_dir, voxel_size, max_voxels
        )
    train, validation = splits["train"], splits["validation"]
    model = build_model(num_classes)
    results = {"dataset": name, "voxel_size": voxel_size, "max_voxels": max_voxels}
    if epochs > 0:
        compile_model(model, num_classes=num_classes)
        print(f"training on {name} (train split) for {epochs} epochs", flush=True)
        history = model.fit(train, epochs=epochs, shuffle=False, verbose=2)
        results["final_training_loss"] = float(history.history["loss"][-1])
    miou = evaluate_voxels(model, validation, num_classes)
    results.update({"validation_voxel_miou": miou, "seconds": round(time.time() - start, 1)})
    print(f"validation semantic mIoU (voxels, {name}): {miou:.3f}", flush=True)
    with open(os.path.join(out_dir, "metrics.json"), "w") as f:
        json.dump(results, f, indent=2)
    if save_preset:
        model.save_to_preset(
            save_preset,
            metadata={
                "training_data": f"{name} train split, voxel_size {voxel_size} m, "
                f"max_voxels {max_voxels}",
                "held_out_data": f"{name} validation split",
                "dataset": name,
                "metrics": {"semantic_miou_voxels": miou},
                "voxel_size": voxel_size,
                "max_voxels": max_voxels,
                "voxel_features": "mean vertex normal (x, y, z)",
                "num_classes": num_classes,
            },
        )
    return results


def run_task(args):
    """Runs a `--task` other than semantic segmentation (synthetic_scenes only)."""
    import importlib

    if args.dataset != "synthetic_scenes":
        raise ValueError(
            f"`--task {args.task}` trains on generated scenes only: leave out `--dataset`. "
            f"Received: dataset={args.dataset!r}"
        )
    module = importlib.import_module(f"keras_suite.cli.{TASKS[args.task]}")
    model, results = module.train_and_evaluate(
        args.out, args.train_scenes, args.test_scenes, args.epochs, args.preset
    )
    if args.save_preset:
        # A task module may describe its presets (data, held-out metrics) in their metadata.
        describe = getattr(module, "preset_metadata", None)
        metadata = describe(results, args.test_scenes) if describe else None
        model.save_to_preset(args.save_preset, metadata=metadata)
    return 0


def run(args):
    if args.task != "semantic":
        return run_task(args)
    if args.dataset == "synthetic_scenes":
        train_and_evaluate(
            args.out,
            args.train_scenes,
            args.test_scenes,
            args.epochs,
            args.preset,
            args.save_preset,
            args.fresh_scenes,
            args.deep_backbone,
            args.validate_every,
            args.point_geometry,
            args.learning_rate,
            args.validation_scenes,
        )
        return 0
    if args.manual_dir is None:
        raise ValueError(
            f"`--dataset {args.dataset}` reads a manual download: pass `--manual-dir DIR`, the "
            "folder holding it. Received: manual_dir=None"
        )
    if args.preset is not None:
        raise ValueError(
            "`--preset` only applies to `--dataset synthetic_scenes`; scannet / rio train a "
            f"fresh model. Received: dataset={args.dataset!r}, preset={args.preset!r}"
        )
    train_and_evaluate_real(
        args.dataset,
        args.out,
        args.manual_dir,
        args.data_dir,
        args.voxel_size,
        args.max_voxels,
        args.epochs,
        args.save_preset,
    )
    return 0


def run_demo(out_dir):
    """Evaluates the shipped presets of the three pipelines on held-out scenes and renders.

    Without a shipped semantic preset, a small semantic model trains for 3 epochs first.
    """
    from keras_suite.zoo import SemanticSegmentation3D

    preset = "synthetic_scenes_semantic" if SemanticSegmentation3D.presets else None
    train_and_evaluate(out_dir, 8, 8, 0 if preset else 3, preset=preset)
    from keras_suite.cli import tf3d_instance

    tf3d_instance.run_demo(out_dir)
    from keras_suite.cli import tf3d_detection

    tf3d_detection.run_demo(out_dir)
