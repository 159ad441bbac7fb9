"""keras-suite: Model Search, DreamerV2, Transporter Networks + Ravens and TensorFlow 3D in Keras.

Importing `keras_suite` imports every module that registers a serializable class, so that
`keras.saving.load_model` finds them.
"""

from keras_suite import datasets, envs, layers, losses, metrics, ops, tuner, zoo
from keras_suite.version import __version__
