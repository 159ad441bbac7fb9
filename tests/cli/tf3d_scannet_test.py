"""Smoke tests of `keras-suite tf3d --dataset scannet` on a tiny fake ScanNet download."""

import importlib.util
import json
import math
import os

import pytest

from keras_suite.cli import tf3d
from keras_suite.cli.main import main

_SCANNET_TEST = os.path.join(
    os.path.dirname(os.path.dirname(__file__)), "datasets", "scannet", "scannet_test.py"
)


def _write_download(manual_dir):
    spec = importlib.util.spec_from_file_location("scannet_test_writer", _SCANNET_TEST)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.write_download(manual_dir)


@pytest.mark.slow
def test_smoke_trains_and_evaluates_on_scannet(tmp_path, monkeypatch):
    # The command's plumbing (TFDS build, fit, evaluation, preset) on a one-level U-Net: the
    # cost of this test is tracing the train step, which grows with the U-Net's depth.
    from keras_suite.zoo import SemanticSegmentation3D, SparseUNet3D

    built = []

    def one_level_model(num_classes):
        built.append(SparseUNet3D([[8]], [8], [[8]]))
        return SemanticSegmentation3D(built[-1], num_classes=num_classes)

    monkeypatch.setattr(tf3d, "build_model", one_level_model)
    manual_dir = str(tmp_path / "manual")
    _write_download(manual_dir)
    out = tmp_path / "out"
    preset = tmp_path / "preset"
    argv = ["tf3d", "--dataset", "scannet", "--manual-dir", manual_dir, "--out", str(out)]
    argv += ["--epochs", "1", "--voxel-size", "0.5", "--max-voxels", "16"]
    assert main(argv + ["--save-preset", str(preset)]) == 0
    assert len(built) == 1
    with open(out / "metrics.json") as f:
        metrics = json.load(f)
    miou = metrics["validation_voxel_miou"]
    assert math.isfinite(miou) and 0.0 <= miou <= 1.0
    assert metrics["dataset"] == "scannet"
    assert os.path.isdir(out / "tensorflow_datasets" / "scannet")
    with open(preset / "metadata.json") as f:
        metadata = json.load(f)
    assert (metadata["dataset"], metadata["voxel_size"]) == ("scannet", 0.5)
    assert metadata["metrics"]["semantic_miou_voxels"] == miou


@pytest.mark.parametrize("dataset", ["scannet", "rio"])
def test_missing_manual_dir_is_an_error(tmp_path, dataset):
    with pytest.raises(ValueError, match="--manual-dir"):
        main(["tf3d", "--dataset", dataset, "--out", str(tmp_path)])
    assert not os.path.exists(tmp_path / "metrics.json")
