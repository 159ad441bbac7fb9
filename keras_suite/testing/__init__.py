from keras_suite.testing.test_case import TestCase
