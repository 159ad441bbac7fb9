"""Atari 2600 games for DreamerV2 (ALE through ale-py and gymnasium) and the 55-game scores."""

from keras_suite.envs.atari.atari import make_atari
from keras_suite.envs.atari.atari_frames import AtariFrames
from keras_suite.envs.atari.scores import REFERENCE_SCORES, aggregate_scores, normalize_score
