"""The installed layout: `datasets/`, `zoo/` and `tuner/` live under `keras_suite` only."""

import importlib
import os
import subprocess
import sys
import zipfile

import pytest

import keras_suite

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_mapped_folders_import_under_keras_suite():
    for name, folder in [("datasets", "datasets"), ("zoo", "zoo"), ("tuner", "tuner")]:
        module = importlib.import_module(f"keras_suite.{name}")
        assert os.path.dirname(module.__file__) == os.path.join(ROOT, folder)
        assert getattr(keras_suite, name) is module


def test_public_subpackages_are_exported():
    for name in ["layers", "losses", "metrics", "ops", "envs", "zoo", "tuner", "datasets"]:
        assert hasattr(keras_suite, name), name


def _run(code):
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


# Writes a `.keras` file holding a keras-suite layer in a fresh process that imported only Keras.
_SAVE = """
import sys
import keras
import numpy as np
from keras_suite.layers.world_model.mlp_head import MLPHead

model = keras.Sequential([keras.Input((3,)), MLPHead(2, units=4, num_layers=1)])
model.save(sys.argv[1])
np.save(sys.argv[2], model.predict(np.ones((1, 3)), verbose=0))
"""


def _saved_model(tmp_path):
    path, outputs = str(tmp_path / "model.keras"), str(tmp_path / "outputs.npy")
    result = subprocess.run(
        [sys.executable, "-c", _SAVE, path, outputs], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    return path, outputs


def test_import_keras_suite_alone_imports_no_keras():
    code = (
        "import sys, keras_suite\n"
        "print(sorted({'keras', 'tensorflow', 'tensorflow_datasets', 'keras_tuner'} "
        "& set(sys.modules)))"
    )
    assert _run(code) == "[]"


def test_keras_then_keras_suite_loads_a_saved_keras_suite_layer(tmp_path):
    path, outputs = _saved_model(tmp_path)
    code = (
        "import keras\nimport numpy as np\nimport keras_suite\n"
        f"model = keras.saving.load_model({path!r})\n"
        "outputs = model.predict(np.ones((1, 3)), verbose=0)\n"
        f"print(np.array_equal(outputs, np.load({outputs!r})))"
    )
    assert _run(code) == "True"


def test_keras_suite_then_a_sub_package_registers_its_classes(tmp_path):
    path, _ = _saved_model(tmp_path)
    code = (
        "import keras_suite\nimport keras\n"
        "assert keras.saving.get_registered_object('keras_suite>MLPHead') is None\n"
        "keras_suite.layers\n"
        f"print(type(keras.saving.load_model({path!r}).layers[0]).__name__)"
    )
    assert _run(code) == "MLPHead"


def test_the_tuner_imports_keras_tuner_only_for_the_oracle_and_tuner():
    code = (
        "import sys\nimport keras_suite.tuner as tuner\n"
        "before = 'keras_tuner' in sys.modules\n"
        "tuner.DistillationLoss, tuner.WeightedAverage, tuner.registered_blocks()\n"
        "middle = 'keras_tuner' in sys.modules\n"
        "tuner.ModelSearchOracle\n"
        "print(before, middle, 'keras_tuner' in sys.modules)"
    )
    assert _run(code) == "False False True"


def test_datasets_import_tfds_only_for_a_builder():
    code = (
        "import sys\nimport keras_suite.datasets as datasets\n"
        "datasets.voxel_transform\n"
        "before = 'tensorflow_datasets' in sys.modules\n"
        "datasets.Scannet\n"
        "print(before, 'tensorflow_datasets' in sys.modules)"
    )
    assert _run(code) == "False True"


def test_tfds_then_datasets_registers_every_builder():
    code = (
        "import tensorflow_datasets as tfds\nimport keras_suite.datasets\n"
        "from tensorflow_datasets.core import registered\n"
        "names = ['ravens', 'rio', 'scannet', 'synthetic_scenes', 'waymo_open_lidar']\n"
        "print(all(registered.imported_builder_cls(n) for n in names))"
    )
    assert _run(code) == "True"


@pytest.mark.parametrize("name", ["zoo", "tuner", "datasets"])
def test_bare_top_level_names_are_not_ours(name):
    code = (
        f"import importlib.util, sys; spec = importlib.util.find_spec({name!r}); "
        f"sys.exit(0 if spec is None or 'keras_suite' not in str(spec.origin) and "
        f"{ROOT!r} not in str(spec.origin) else 1)"
    )
    # Run outside the checkout so that the current folder is not on sys.path.
    result = subprocess.run([sys.executable, "-c", code], cwd="/", capture_output=True)
    assert result.returncode == 0, result.stderr


@pytest.mark.slow
def test_wheel_maps_the_folders_and_ships_package_data(tmp_path):
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "-v",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(tmp_path),
            ROOT,
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    # Data folders inside packages are declared, so setuptools warns of none.
    assert "would be ignored" not in result.stdout + result.stderr
    (wheel,) = tmp_path.glob("keras_suite-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    for package in ["keras_suite", "keras_suite/zoo", "keras_suite/tuner", "keras_suite/datasets"]:
        assert f"{package}/__init__.py" in names
    assert not any(name.split("/")[0] in {"zoo", "tuner", "datasets", "tests"} for name in names)
    shipped_data = [
        os.path.relpath(os.path.join(folder, f), ROOT)
        for top in ["keras_suite", "zoo", "tuner", "datasets"]
        for folder, _, files in os.walk(os.path.join(ROOT, top))
        for f in files
        if f.endswith((".json", ".h5", ".txt", ".tsv", ".npz"))
    ]
    for path in shipped_data:
        top, rest = path.split(os.sep, 1)
        prefix = "keras_suite" if top == "keras_suite" else f"keras_suite/{top}"
        assert f"{prefix}/{rest}".replace(os.sep, "/") in names, path
