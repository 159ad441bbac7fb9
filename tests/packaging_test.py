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
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "-q",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(tmp_path),
            ROOT,
        ],
        check=True,
        capture_output=True,
    )
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
