"""Atari 2600 games for DreamerV2 (ALE through ale-py) and the 55-game score aggregation."""

from keras_suite.envs.atari.atari import Atari
from keras_suite.envs.atari.scores import REFERENCE_SCORES, aggregate_scores, normalize_score
