"""Maps the top-level `datasets/`, `zoo/` and `tuner/` folders into `keras_suite`.

The metadata lives in `pyproject.toml`; this file only computes the package list, so that a new
sub-folder of any of the mapped folders ships without editing a list by hand. Folders that hold
only data (the presets, ScanNet's split lists) are listed as namespace packages, as setuptools
asks of data folders inside a package, so that `tool.setuptools.package-data` ships their files.
"""

from setuptools import find_namespace_packages, setup

PACKAGE_DIRS = {
    "keras_suite": "keras_suite",
    "keras_suite.datasets": "datasets",
    "keras_suite.zoo": "zoo",
    "keras_suite.tuner": "tuner",
}


def _packages():
    packages = []
    for package, folder in PACKAGE_DIRS.items():
        packages.append(package)
        packages.extend(
            f"{package}.{sub}"
            for sub in find_namespace_packages(folder, exclude=["__pycache__", "*.__pycache__"])
        )
    return packages


setup(packages=_packages(), package_dir=PACKAGE_DIRS)
