"""keras-suite: Model Search, DreamerV2, Transporter Networks + Ravens and TensorFlow 3D in Keras.

`import keras_suite` is cheap: it imports neither Keras nor TensorFlow. Each sub-package
(`keras_suite.layers`, `.losses`, `.metrics`, `.ops`, `.envs`, `.zoo`, `.tuner`, `.datasets`)
is imported on first access (PEP 562), so `keras-suite --help` answers at once and a user of one
system pays only for that system.

Keras finds a registered serializable class only once its module is imported, and
`keras.saving.load_model` does not import our modules for us. So when Keras is already imported at
the moment `keras_suite` is (the usual order: `import keras`, then `import keras_suite`), this
module imports at once every sub-package that registers serializable classes (`layers`,
`losses`, `metrics`, `ops`, `zoo` and `tuner`, whose registered classes need Keras only): Keras is
already paid for, and a `.keras` file holding keras-suite objects then loads. In the other order,
touch the sub-package first (`keras_suite.layers`), or import Keras before `keras_suite`.
"""

import importlib
import sys

from keras_suite.version import __version__

_SUBPACKAGES = ("datasets", "envs", "layers", "losses", "metrics", "ops", "tuner", "zoo")
# The sub-packages that register serializable classes with Keras (see the module docstring).
_REGISTERING = ("layers", "losses", "metrics", "ops", "zoo", "tuner")


def __getattr__(name):
    if name in _SUBPACKAGES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + list(_SUBPACKAGES))


def _import_registering_subpackages():
    for name in _REGISTERING:
        importlib.import_module(f"{__name__}.{name}")


if "keras" in sys.modules:
    _import_registering_subpackages()
