"""Every preset shipped with a zoo model lists with a one-line description."""

import json
import os
import re

import pytest

from keras_suite import zoo

MODELS = [
    getattr(zoo, name)
    for name in sorted(dir(zoo))
    if isinstance(getattr(zoo, name), type) and getattr(getattr(zoo, name), "preset_dir", None)
]
SHIPPED = [(model, name) for model in MODELS for name in model.presets]


def test_some_presets_are_shipped():
    assert len(SHIPPED) >= 5


@pytest.mark.parametrize(
    "model, name", SHIPPED, ids=[f"{model.__name__}-{name}" for model, name in SHIPPED]
)
def test_preset_has_a_one_line_description_and_speaks_only_of_the_project(model, name):
    description = model.presets[name]
    assert description and "\n" not in description and len(description) < 100, description
    assert model.preset_metadata(name)["description"] == description
    with open(os.path.join(model.preset_dir, name, "metadata.json")) as f:
        text = json.dumps(json.load(f))
    assert not re.search(r"\b(issue|session|ticket)s?\b", text, flags=re.IGNORECASE), text
