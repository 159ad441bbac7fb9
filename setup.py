"""Maps the top-level `datasets/`, `zoo/` and `tuner/` folders into `keras_suite`.

The metadata lives in `pyproject.toml`; this file only computes the package list, so that a new
sub-folder of any of the mapped folders ships without editing a list by hand.
"""

from setuptools import find_packages, setup

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
        packages.extend(f"{package}.{sub}" for sub in find_packages(folder))
    return packages


setup(packages=_packages(), package_dir=PACKAGE_DIRS)
