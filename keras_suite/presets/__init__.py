from keras_suite.presets.preset_mixin import PresetMixin
