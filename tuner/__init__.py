"""Model Search as a KerasTuner oracle and tuner: `keras_suite.tuner`.

The blocks, losses and layers import at once (they register themselves with the block registry
and with Keras, and need Keras only). `ModelSearchOracle`, `ModelSearch` and the recipe built on
them, `run_search`, need KerasTuner, and `load_dataset` needs scikit-learn and mnist1d: each is
imported on first access.
"""

import importlib

from keras_suite.tuner import blocks
from keras_suite.tuner.block_registry import (
    BlockSpec,
    get_block,
    register_block,
    registered_blocks,
)
from keras_suite.tuner.distillation_loss import DistillationLoss
from keras_suite.tuner.ensemble import build_ensemble
from keras_suite.tuner.lineage import lineage_records, plot_lineage, plot_objective, results_table
from keras_suite.tuner.weight_sharing import align_blocks, share_weights
from keras_suite.tuner.weighted_average import WeightedAverage

# Public names imported on first access, and the module defining each.
_LAZY = {
    "ModelSearch": "model_search",
    "ModelSearchOracle": "model_search_oracle",
    "load_dataset": "builtin_datasets",
    "run_search": "search_recipe",
}


def __getattr__(name):
    if name in _LAZY:
        return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + list(_LAZY))
