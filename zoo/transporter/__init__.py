"""Transporter Networks: the pick-and-place agent and its presets."""

from keras_suite.zoo.transporter.goal_transporter_net import GoalTransporterNet
from keras_suite.zoo.transporter.transporter_net import TransporterNet
