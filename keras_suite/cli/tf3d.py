"""`keras-suite tf3d`: TensorFlow 3D semantic segmentation, instance segmentation, detection.

Trains and evaluates on generated synthetic scenes by default, or (semantic segmentation) on
ScanNet / 3RScan (`rio`) read from a manual download with `--dataset scannet --manual-dir DIR`.
The recipes live in `keras_suite.zoo.tf3d`; this module parses, calls one, prints and writes.
"""

import json
import os

from keras_suite.cli.progress_bar import ProgressBar

TASKS = ("semantic", "instance", "detection")
DATASETS = ("synthetic_scenes", "scannet", "rio")
MODEL_CLASSES = {
    "semantic": "SemanticSegmentation3D",
    "instance": "InstanceSegmentation3D",
    "detection": "ObjectDetection3D",
}
CLASS_COLOURS = (
    (0.55, 0.45, 0.35),
    (0.7, 0.7, 0.7),
    (0.85, 0.2, 0.2),
    (0.2, 0.4, 0.85),
    (0.2, 0.7, 0.3),
)


def add_parser(subparsers):
    parser = subparsers.add_parser(
        "tf3d",
        help="TensorFlow 3D: train and evaluate 3D semantic segmentation (synthetic scenes, "
        "ScanNet, 3RScan), instance segmentation or object detection (synthetic scenes)",
    )
    parser.add_argument("--out", default="out/tf3d", help="output folder")
    parser.add_argument(
        "--task",
        choices=TASKS,
        default="semantic",
        help="semantic segmentation (voxel mIoU), instance segmentation (instance AP) or "
        "object detection (AP@0.25/0.5); the last two train on fresh scenes every epoch",
    )
    parser.add_argument(
        "--list-presets", action="store_true", help="print the presets of --task and exit"
    )
    parser.add_argument(
        "--dataset",
        choices=DATASETS,
        default="synthetic_scenes",
        help="training data of the semantic task: generated scenes, or the `scannet` / `rio` "
        "TFDS builders read from --manual-dir",
    )
    parser.add_argument(
        "--manual-dir", default=None, help="folder of the manual ScanNet / 3RScan download"
    )
    parser.add_argument(
        "--data-dir",
        default=None,
        help="TFDS data folder for scannet / rio (default: OUT/tensorflow_datasets)",
    )
    parser.add_argument(
        "--voxel-size", type=float, default=0.05, help="voxel edge in metres (scannet, rio)"
    )
    parser.add_argument(
        "--max-voxels", type=int, default=20000, help="voxels per scene (scannet, rio)"
    )
    parser.add_argument(
        "--train-scenes",
        type=int,
        default=None,
        help="training scenes (per epoch with fresh scenes; default 48, instance 16)",
    )
    parser.add_argument(
        "--test-scenes", type=int, default=12, help="held-out scenes (seeds 1000000...)"
    )
    parser.add_argument("--epochs", type=int, default=10, help="training epochs")
    parser.add_argument(
        "--preset", default=None, help="start from this preset of the task's model (name or folder)"
    )
    parser.add_argument(
        "--save-preset", default=None, help="write the trained model as a preset to this folder"
    )
    parser.add_argument(
        "--checkpoint-dir",
        default=None,
        help="save the weights and optimizer state after every epoch to this folder",
    )
    parser.add_argument(
        "--resume",
        action="store_true",
        help="with --checkpoint-dir: continue from the epoch after the checkpoint there",
    )
    parser.add_argument(
        "--fresh-scenes",
        action="store_true",
        help="semantic task: new augmented scenes every epoch, cosine learning-rate decay",
    )
    parser.add_argument(
        "--deep-backbone",
        action="store_true",
        help="semantic task from scratch: two convolutions per U-Net level",
    )
    parser.add_argument(
        "--point-geometry",
        action="store_true",
        help="semantic task: add the 9 point-geometry voxel features",
    )
    parser.add_argument(
        "--learning-rate",
        type=float,
        default=None,
        help="semantic task: Adam's learning rate (default 3e-3, 1e-3 from a --preset)",
    )
    parser.add_argument(
        "--validation-scenes", type=int, default=12, help="scenes of each validation check"
    )
    parser.add_argument(
        "--validate-every",
        type=int,
        default=0,
        help="with --fresh-scenes: validate every this many epochs and keep the best weights",
    )
    parser.set_defaults(func=run)
    return parser


def check_args(args):
    """Raises a one-line `ValueError` for argument combinations the recipes do not take."""
    for name in ("epochs", "test_scenes", "validation_scenes", "validate_every"):
        if getattr(args, name) < 0:
            flag = "--" + name.replace("_", "-")
            raise ValueError(f"`{flag}` must be >= 0. Received: {getattr(args, name)}")
    if args.train_scenes is not None and args.train_scenes < 1:
        raise ValueError(f"`--train-scenes` must be >= 1. Received: {args.train_scenes}")
    if args.resume and args.checkpoint_dir is None:
        raise ValueError("`--resume` needs `--checkpoint-dir`. Received: checkpoint_dir=None")
    if args.dataset != "synthetic_scenes":
        if args.task != "semantic":
            raise ValueError(
                f"`--task {args.task}` trains on generated scenes only: leave out `--dataset`. "
                f"Received: dataset={args.dataset!r}"
            )
        if args.preset is not None:
            raise ValueError(
                "`--preset` only applies to `--dataset synthetic_scenes`; scannet / rio train a "
                f"fresh model. Received: preset={args.preset!r}"
            )


def run(args):
    if args.list_presets:
        return list_presets(args.task)
    check_args(args)
    if args.dataset != "synthetic_scenes":
        return run_real(args)
    from keras_suite.zoo.tf3d import detection_recipes, instance_recipes, semantic_recipes

    progress = {"progress": ProgressBar("epoch"), "evaluation_progress": ProgressBar("batch")}
    if args.task == "semantic":
        run = semantic_recipes.train_and_evaluate_synthetic(
            args.epochs,
            train_scenes=args.train_scenes or 48,
            test_scenes=args.test_scenes,
            preset=args.preset,
            fresh_scenes=args.fresh_scenes,
            deep_backbone=args.deep_backbone,
            point_geometry=args.point_geometry,
            learning_rate=args.learning_rate,
            validate_every=args.validate_every,
            validation_scenes=args.validation_scenes,
            checkpoint_dir=args.checkpoint_dir,
            resume=args.resume,
            **progress,
        )
        metadata = semantic_recipes.synthetic_preset_metadata(
            run["results"], args.train_scenes or 48, args.fresh_scenes, args.validation_scenes
        )
    elif args.task == "instance":
        run = instance_recipes.train_and_evaluate_instance(
            args.epochs,
            scenes_per_epoch=args.train_scenes or 16,
            test_scenes=args.test_scenes,
            preset=args.preset,
            checkpoint_dir=args.checkpoint_dir,
            resume=args.resume,
            **progress,
        )
        metadata = instance_recipes.instance_preset_metadata(run["results"])
    else:
        run = detection_recipes.train_and_evaluate_detection(
            args.epochs,
            scenes_per_epoch=args.train_scenes or 48,
            test_scenes=args.test_scenes,
            preset=args.preset,
            checkpoint_dir=args.checkpoint_dir,
            resume=args.resume,
            **progress,
        )
        metadata = detection_recipes.detection_preset_metadata(run["results"])
    write_outputs(args.task, run, args.out, args.save_preset, metadata)
    return 0


def run_real(args):
    """Trains and evaluates the semantic model on ScanNet or 3RScan."""
    from keras_suite.datasets.voxel_transform import check_manual_dir
    from keras_suite.zoo.tf3d import semantic_recipes

    check_manual_dir(args.dataset, args.manual_dir)
    data_dir = args.data_dir or os.path.join(args.out, "tensorflow_datasets")
    run = semantic_recipes.train_and_evaluate_real(
        args.dataset,
        args.manual_dir,
        data_dir,
        args.epochs,
        args.voxel_size,
        args.max_voxels,
        args.checkpoint_dir,
        args.resume,
        progress=ProgressBar("epoch"),
        evaluation_progress=ProgressBar("batch"),
    )
    results = run["results"]
    print(
        f"trained {results['epochs_run']} epochs; validation semantic mIoU (voxels, "
        f"{args.dataset}): {results['validation_voxel_miou']:.3f}"
    )
    write_json(os.path.join(args.out, "metrics.json"), results)
    if args.save_preset:
        run["model"].save_to_preset(
            args.save_preset,
            metadata={
                "description": f"Sparse U-Net semantic segmentation of {args.dataset}",
                "training_data": f"{args.dataset} train split, voxel_size {args.voxel_size} m, "
                f"max_voxels {args.max_voxels}",
                "held_out_data": f"{args.dataset} validation split",
                "dataset": args.dataset,
                "metrics": {"semantic_miou_voxels": results["validation_voxel_miou"]},
                "voxel_size": args.voxel_size,
                "max_voxels": args.max_voxels,
                "voxel_features": "mean vertex normal (x, y, z)",
                "num_classes": results["num_classes"],
            },
        )
        print(f"wrote preset {args.save_preset}")
    return 0


def list_presets(task):
    """Prints one `name: description` line per preset of the task's model."""
    from keras_suite import zoo

    presets = getattr(zoo, MODEL_CLASSES[task]).presets
    for name in sorted(presets):
        print(f"{name}: {presets[name]}" if presets[name] else name)
    return 0


def write_json(path, results):
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    with open(path, "w") as f:
        json.dump(results, f, indent=2)
    print(f"wrote {path}")


def write_outputs(task, run, out_dir, save_preset=None, metadata=None):
    """Prints the held-out scores and writes the metrics, two pictures and the preset."""
    results = run["results"]
    if "epochs_run" in results:
        print(f"trained {results['epochs_run']} epochs (from epoch {results['first_epoch']})")
    scenes = results["held_out_scenes"]
    if task == "semantic":
        print(
            f"held-out semantic mIoU (voxels, {scenes} scenes): "
            f"{results['held_out_voxel_miou']:.3f}"
        )
    elif task == "instance":
        ap = results["held_out_instance_ap"]
        print(
            f"held-out instance AP (voxels, {scenes} scenes): {ap['ap']:.3f}, "
            f"AP@0.5 {ap['ap_50']:.3f}, AP@0.25 {ap['ap_25']:.3f}"
        )
    else:
        ap = results["held_out_ap"]
        print(
            f"held-out detection ({scenes} scenes): AP@0.25 {ap['ap@0.25']:.3f}, "
            f"AP@0.5 {ap['ap@0.5']:.3f}"
        )
    write_json(os.path.join(out_dir, f"{task}_metrics.json"), results)
    for index in range(min(2, scenes)):
        path = os.path.join(out_dir, f"{task}_scene_{index}.png")
        render(task, run["test_data"], run["predictions"], index, path)
        print(f"wrote {path}")
    if save_preset:
        run["model"].save_to_preset(save_preset, metadata=metadata)
        print(f"wrote preset {save_preset}")


def render(task, data, predictions, index, path):
    """Writes a top-down PNG of one held-out scene's voxels: ground truth beside prediction."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    from keras_suite.datasets.synthetic_scenes import VOXEL_SIZE
    from keras_suite.ops.rotated_box_iou_3d import box_footprints

    n = data["num_valid_voxels"][index]
    centres = (
        data["voxel_origin"][index] + (data["voxel_xyz_indices"][index, :n] + 0.5) * VOXEL_SIZE
    )
    order = np.argsort(centres[:, 2])
    figure, axes = plt.subplots(1, 2, figsize=(10, 5))
    if task == "semantic":
        colours = np.array(CLASS_COLOURS + ((0, 0, 0),))
        panels = (data["voxel_semantic_labels"][index, :n], predictions[index, :n])
        panels = [colours[labels] for labels in panels]
    elif task == "instance":
        palette = plt.get_cmap("tab20")(np.arange(20))[:, :3]
        truth = data["voxel_instance_labels"][index, :n]
        ids = (np.where(truth > 0, truth, -1), predictions["instance_ids"][index, :n])
        panels = [np.where(i[:, None] >= 0, palette[np.maximum(i, 0) % 20], 0.85) for i in ids]
    else:
        height = np.clip(centres[:, 2:] / 1.6, 0, 1)
        panels = [np.repeat(0.85 - 0.6 * height, 3, axis=1)] * 2
    for axis, colours, title in zip(axes, panels, ("ground truth", "prediction")):
        axis.scatter(centres[order, 0], centres[order, 1], c=colours[order], s=4, marker="s")
        axis.set_title(title)
        axis.set_aspect("equal")
        axis.axis("off")
    if task == "detection":
        truth = data["boxes"][index]
        for axis, boxes in ((axes[0], truth), (axes[1], predictions[index]["boxes"])):
            for corners in box_footprints(boxes):
                loop = np.concatenate([corners, corners[:1]])
                axis.plot(loop[:, 0], loop[:, 1], color="tab:red", linewidth=1.5)
    figure.savefig(path, dpi=80, bbox_inches="tight")
    plt.close(figure)


def run_demo(out_dir):
    """Evaluates the shipped presets of the three tasks on 8 held-out scenes and renders."""
    from keras_suite.zoo.tf3d import detection_recipes, instance_recipes, semantic_recipes

    runs = {
        "semantic": semantic_recipes.train_and_evaluate_synthetic(
            0,
            test_scenes=8,
            preset="synthetic_scenes_semantic",
            evaluation_progress=ProgressBar("batch"),
        ),
        "instance": instance_recipes.train_and_evaluate_instance(
            0,
            test_scenes=8,
            preset="synthetic_scenes_instance",
            evaluation_progress=ProgressBar("batch"),
        ),
        "detection": detection_recipes.train_and_evaluate_detection(
            0,
            test_scenes=8,
            preset="synthetic_scenes_detection",
            evaluation_progress=ProgressBar("batch"),
        ),
    }
    for task, run in runs.items():
        write_outputs(task, run, out_dir)
