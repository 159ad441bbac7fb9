"""KerasHub-style presets for every zoo model: a folder with config, weights and metadata."""

import json
import os
import pathlib

import keras
from keras.src.saving import saving_lib

from keras_suite.version import __version__

CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.weights.h5"
METADATA_FILE = "metadata.json"


class _ClassProperty:
    """A read-only property computed on the class (`Model.presets`)."""

    def __init__(self, getter):
        self.getter = getter

    def __get__(self, instance, owner):
        return self.getter(owner)


class PresetMixin:
    """Gives a `keras.Model` subclass `from_preset`, `save_to_preset` and `presets`.

    A preset is a folder holding `config.json` (the serialized model, registered class name
    included), `model.weights.h5` and `metadata.json` (Keras and keras-suite versions, parameter
    count, training data and the metrics measured on it). Built-in presets ship inside the package
    in the folder named by the class attribute `preset_dir`, one sub-folder per preset; any other
    string passed to `from_preset` must be an existing local preset folder. Nothing is downloaded.

    Example:

    ```python
    @keras.saving.register_keras_serializable(package="my_package")
    class TinyNet(PresetMixin, keras.Model):
        preset_dir = "/path/to/builtin/presets"
        ...

    model.save_to_preset("/tmp/tiny", metadata={"training_data": "digits"})
    restored = TinyNet.from_preset("/tmp/tiny")
    ```
    """

    preset_dir = None

    @_ClassProperty
    def presets(cls):
        """Built-in presets of this class (or a subclass): a dict from name to description.

        The description is the one line of the `"description"` key of the preset's
        `metadata.json` (an empty string when it has none); `preset_metadata(name)` returns the
        whole metadata.
        """
        return {
            name: str(
                _read_json(os.path.join(folder, METADATA_FILE), default={}).get("description", "")
            )
            for name, folder in cls._builtin_preset_folders().items()
        }

    @classmethod
    def preset_metadata(cls, preset):
        """The metadata of a built-in preset or of a local preset folder.

        Args:
            preset: a name in `cls.presets`, or the path of a folder written by
                `save_to_preset`.

        Returns:
            The dict of the preset's `metadata.json` (empty when it has none): versions,
            `parameter_count`, `description`, and what its writer recorded (training data,
            metrics).

        Example:

        ```python
        for name in TransporterNet.presets:
            print(name, TransporterNet.preset_metadata(name).get("parameter_count"))
        ```
        """
        folder = cls._resolve_preset(preset)
        return _read_json(os.path.join(folder, METADATA_FILE), default={})

    @classmethod
    def from_preset(cls, preset, load_weights=True, **kwargs):
        """Instantiates the model from a built-in preset name or a local preset folder.

        Args:
            preset: a name in `cls.presets`, or the path of a folder written by
                `save_to_preset`.
            load_weights: whether to load `model.weights.h5` (otherwise the model keeps its
                fresh initialization).
            **kwargs: config entries that override the preset's config.

        Returns:
            The model, built, with the preset's weights when `load_weights` is True.
        """
        folder = cls._resolve_preset(preset)
        config = _read_json(os.path.join(folder, CONFIG_FILE))
        if kwargs:
            config = dict(config, config=dict(config.get("config", {}), **kwargs))
        model = keras.saving.deserialize_keras_object(config)
        if not isinstance(model, cls):
            raise ValueError(
                f"Preset `{preset}` holds a `{type(model).__name__}`, not a `{cls.__name__}`. "
                f"Load it with `{type(model).__name__}.from_preset` instead. "
                f"Received: preset={preset!r}"
            )
        expected = _read_json(os.path.join(folder, METADATA_FILE), default={})
        expected = expected.get("parameter_count")
        if load_weights and expected is not None and model.count_params() != expected:
            raise ValueError(
                f"`{type(model).__name__}` rebuilt from the preset's build config has "
                f"{model.count_params()} parameters but the preset has {expected}, so its "
                "weights have nowhere to go. Make its `build(input_shape)` accept the recorded "
                "shape (a list after JSON) or implement `build_from_config`. "
                f"Received: preset={preset!r}"
            )
        if load_weights:
            weights = os.path.join(folder, WEIGHTS_FILE)
            if not os.path.isfile(weights):
                raise FileNotFoundError(
                    f"Preset folder `{folder}` has no `{WEIGHTS_FILE}`. Pass "
                    f"`load_weights=False` to build the model without weights. "
                    f"Received: preset={preset!r}"
                )
            model.load_weights(weights)
        return model

    def save_to_preset(self, path, metadata=None):
        """Writes the model as a preset folder at `path` (created if needed).

        Args:
            path: the folder to write.
            metadata: a dict merged into `metadata.json`, e.g. `training_data` and `metrics`.
        """
        if not self.built:
            raise ValueError(
                f"`{type(self).__name__}` must be built before `save_to_preset`: call it on "
                f"data once. Received: a model with built={self.built}"
            )
        folder = pathlib.Path(path)
        folder.mkdir(parents=True, exist_ok=True)
        config = keras.saving.serialize_keras_object(self)
        config.pop("compile_config", None)  # A preset loads uncompiled, as in KerasHub.
        _write_json(folder / CONFIG_FILE, config)
        # Keras's `save_weights` also writes a compiled model's optimizer state; a preset is
        # only the model, so the optimizer is skipped.
        optimizer = getattr(self, "optimizer", None)
        saving_lib.save_weights_only(
            self,
            str(folder / WEIGHTS_FILE),
            objects_to_skip=[optimizer] if optimizer is not None else None,
        )
        full_metadata = {
            "class_name": config.get("registered_name") or type(self).__name__,
            "keras_version": keras.__version__,
            "keras_suite_version": __version__,
            "parameter_count": int(self.count_params()),
        }
        full_metadata.update(metadata or {})
        _write_json(folder / METADATA_FILE, full_metadata)

    @classmethod
    def _builtin_preset_folders(cls):
        """Name to folder of each built-in preset that `cls.from_preset` accepts."""
        if cls.preset_dir is None or not os.path.isdir(cls.preset_dir):
            return {}
        folders = {}
        for name in sorted(os.listdir(cls.preset_dir)):
            folder = os.path.join(cls.preset_dir, name)
            if not os.path.isfile(os.path.join(folder, CONFIG_FILE)):
                continue
            config = _read_json(os.path.join(folder, CONFIG_FILE))
            saved_class = keras.saving.get_registered_object(config.get("registered_name"))
            if isinstance(saved_class, type) and not issubclass(saved_class, cls):
                continue  # A parent class's preset, which `cls.from_preset` would refuse.
            folders[name] = folder
        return folders

    @classmethod
    def _resolve_preset(cls, preset):
        builtin = cls._builtin_preset_folders()
        if isinstance(preset, str | os.PathLike):
            if str(preset) in builtin:
                return builtin[str(preset)]
            if os.path.isfile(os.path.join(preset, CONFIG_FILE)):
                return os.fspath(preset)
        known = ", ".join(sorted(builtin)) or "none"
        raise ValueError(
            f"Unknown preset for `{cls.__name__}`: it is neither a built-in preset nor a local "
            f"folder with a `{CONFIG_FILE}`. Built-in presets: {known}. Received: "
            f"preset={preset!r}"
        )


def _read_json(path, default=None):
    if default is not None and not os.path.isfile(path):
        return default
    with open(path) as f:
        return json.load(f)


def write_metadata(folder, metadata):
    """Writes `metadata` as the `metadata.json` of the preset folder `folder` (replacing it, as
    `save_to_preset` writes it); returns the path written."""
    path = os.path.join(folder, METADATA_FILE)
    _write_json(path, metadata)
    return path


def _write_json(path, value):
    with open(path, "w") as f:
        json.dump(value, f, indent=2, sort_keys=True)
        f.write("\n")
