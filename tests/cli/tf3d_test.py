import argparse
import importlib.util
import json
import os
import subprocess
import sys

import pytest

from keras_suite.cli import tf3d
from keras_suite.cli.main import main

_SCANNET_TEST = os.path.join(
    os.path.dirname(os.path.dirname(__file__)), "datasets", "scannet", "scannet_test.py"
)


def parse(argv):
    parser = argparse.ArgumentParser()
    tf3d.add_parser(parser.add_subparsers())
    return parser.parse_args(["tf3d", *argv])


def test_parser():
    args = parse(["--epochs", "2", "--train-scenes", "3", "--task", "instance", "--resume"])
    assert (args.epochs, args.train_scenes, args.task, args.func) == (2, 3, "instance", tf3d.run)
    assert args.resume and not args.fresh_scenes and not args.list_presets
    assert parse(["--fresh-scenes", "--list-presets"]).fresh_scenes


def test_module_imports_nothing_heavy():
    code = (
        "import sys, keras_suite.cli.tf3d; "
        "print([m for m in ('keras', 'tensorflow', 'numpy') if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("dataset", ["scannet", "rio"])
def test_bad_manual_dir_is_one_error_and_leaves_nothing(tmp_path, capsys, dataset):
    out = tmp_path / "out"
    for manual in ([], ["--manual-dir", str(tmp_path / "nonexistent")]):
        assert main(["tf3d", "--dataset", dataset, "--out", str(out), *manual]) == 2
        error = capsys.readouterr().err.strip().splitlines()[-1]
        assert "`--manual-dir` must be an existing folder" in error
        assert error.endswith(f"Received: {manual[-1] if manual else None}")
    assert os.listdir(tmp_path) == []


def test_bad_arguments_are_errors(tmp_path, capsys):
    out = str(tmp_path / "o")
    assert main(["tf3d", "--task", "instance", "--dataset", "rio", "--out", out]) == 2
    assert "--task instance" in capsys.readouterr().err
    assert main(["tf3d", "--resume", "--out", out]) == 2
    assert "--resume" in capsys.readouterr().err
    assert main(["tf3d", "--epochs", "-1", "--out", out]) == 2
    assert "--epochs" in capsys.readouterr().err
    assert os.listdir(tmp_path) == []


def test_list_presets(capsys):
    assert main(["tf3d", "--list-presets"]) == 0
    assert "synthetic_scenes_semantic" in capsys.readouterr().out
    assert main(["tf3d", "--list-presets", "--task", "detection"]) == 0
    assert "synthetic_scenes_detection" in capsys.readouterr().out


@pytest.mark.slow
def test_evaluates_a_preset_prints_and_writes(tmp_path, capsys):
    out = tmp_path / "out"
    argv = ["tf3d", "--task", "detection", "--preset", "synthetic_scenes_detection"]
    assert main([*argv, "--epochs", "0", "--test-scenes", "2", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    for name in ("detection_metrics.json", "detection_scene_0.png", "detection_scene_1.png"):
        assert os.path.isfile(out / name)
        assert f"wrote {out / name}" in printed
    with open(out / "detection_metrics.json") as f:
        assert json.load(f)["held_out_scenes"] == 2


@pytest.mark.slow
def test_smoke_trains_on_scannet(tmp_path, monkeypatch):
    from keras_suite.zoo import SemanticSegmentation3D, SparseUNet3D
    from keras_suite.zoo.tf3d import semantic_recipes

    monkeypatch.setattr(
        semantic_recipes,
        "semantic_model",
        lambda n: SemanticSegmentation3D(SparseUNet3D([[8]], [8], [[8]]), num_classes=n),
    )
    spec = importlib.util.spec_from_file_location("scannet_test_writer", _SCANNET_TEST)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    manual_dir = str(tmp_path / "manual")
    module.write_download(manual_dir)
    out, preset = tmp_path / "out", tmp_path / "preset"
    argv = ["tf3d", "--dataset", "scannet", "--manual-dir", manual_dir, "--out", str(out)]
    argv += ["--epochs", "1", "--voxel-size", "0.5", "--max-voxels", "16"]
    assert main([*argv, "--save-preset", str(preset)]) == 0
    with open(out / "metrics.json") as f:
        metrics = json.load(f)
    assert metrics["epochs_run"] == 1 and 0.0 <= metrics["validation_voxel_miou"] <= 1.0
    with open(preset / "metadata.json") as f:
        assert json.load(f)["metrics"]["semantic_miou_voxels"] == metrics["validation_voxel_miou"]


def test_training_and_evaluation_get_their_own_bars(tmp_path, capsys, monkeypatch):
    from keras_suite.zoo.tf3d import instance_recipes

    seen = {}

    def fake_recipe(
        epochs, scenes_per_epoch, test_scenes, preset, checkpoint_dir, resume, **bars
    ):
        seen.update(epochs=epochs, scenes=scenes_per_epoch, checkpoint_dir=checkpoint_dir)
        seen.update(resume=resume)
        seen.update({name: bar.unit for name, bar in bars.items()})
        ap = {"ap": 0.5, "ap_50": 0.6, "ap_25": 0.7}
        results = {"epochs_run": 2, "first_epoch": 1, "held_out_instance_ap": ap}
        results.update(held_out_instance_ap_per_class={}, held_out_scenes=0, point_geometry=False)
        return {"results": results}

    monkeypatch.setattr(instance_recipes, "train_and_evaluate_instance", fake_recipe)
    out, checkpoint = tmp_path / "out", str(tmp_path / "ckpt")
    argv = ["tf3d", "--task", "instance", "--epochs", "3", "--out", str(out)]
    assert main([*argv, "--checkpoint-dir", checkpoint, "--resume"]) == 0
    assert seen == {
        "epochs": 3,
        "scenes": 16,
        "checkpoint_dir": checkpoint,
        "resume": True,
        "progress": "epoch",
        "evaluation_progress": "batch",
    }
    printed = capsys.readouterr().out
    assert "trained 2 epochs (from epoch 1)" in printed
    assert "held-out instance AP (voxels, 0 scenes): 0.500, AP@0.5 0.600, AP@0.25 0.700" in printed
    assert f"wrote {out / 'instance_metrics.json'}" in printed
