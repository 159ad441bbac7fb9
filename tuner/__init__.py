"""Model Search as a KerasTuner oracle and tuner: `keras_suite.tuner`."""

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
from keras_suite.tuner.model_search import ModelSearch
from keras_suite.tuner.model_search_oracle import ModelSearchOracle
from keras_suite.tuner.weight_sharing import align_blocks, share_weights
from keras_suite.tuner.weighted_average import WeightedAverage
