"""Transporter Networks layers: attention, transport, their backbone and helpers."""

from keras_suite.layers.transporter.goal_transporter_transport import GoalTransporterTransport
from keras_suite.layers.transporter.transporter_attention import TransporterAttention
from keras_suite.layers.transporter.transporter_resnet import TransporterResNet
from keras_suite.layers.transporter.transporter_transport import TransporterTransport
