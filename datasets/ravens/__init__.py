"""Ravens oracle demonstrations (`ravens` TFDS builder)."""

from keras_suite.datasets.ravens.ravens import Ravens
