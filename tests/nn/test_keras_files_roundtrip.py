"""When Keras is installed: build the fixture models afresh with it and read what it saved.

This catches a Keras release that changes its files (a new config key, another weight layout)
before a user's upload does, and checks that the committed fixtures still match what the script
makes.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import warnings
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
from keras_helpers import FIXTURES, MODELS, read

from server.nn.keras_files import ModelFileError

if "keras" not in sys.modules:
    os.environ["KERAS_BACKEND"] = "torch"  # the backend installed with the test extra
pytest.importorskip("keras")


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    spec = importlib.util.spec_from_file_location("make_fixtures",
                                                  FIXTURES / "make_fixtures.py")
    assert spec is not None and spec.loader is not None
    module: ModuleType = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    out = tmp_path_factory.mktemp("keras")
    with warnings.catch_warnings():
        # Keras's torch backend calls np.array(tensor) the way NumPy 2 deprecates: its concern
        warnings.simplefilter("ignore", DeprecationWarning)
        module.write(out)
    return out


@pytest.mark.parametrize("name", MODELS)
def test_regenerated_model_reads_back(regenerated: Path, name: str) -> None:
    model = read((regenerated / name).read_bytes(), name)
    with np.load(regenerated / f"{name}.npz") as npz:
        stored = {key: npz[key] for key in npz.files}
    outputs = [key.split("/", 1)[1] for key in stored if key.startswith("output/")]
    assert [layer["name"] for layer in model.layers] == outputs
    assert model.input_shape == stored["input"].shape
    count = 0
    for layer, arrays in model.weights.items():
        for k, array in enumerate(arrays):
            np.testing.assert_array_equal(array, stored[f"weight/{layer}/{k}"])
            count += 1
    assert count == sum(1 for key in stored if key.startswith("weight/"))


@pytest.mark.parametrize("name", MODELS)
def test_committed_fixture_matches_regenerated(regenerated: Path, name: str) -> None:
    fresh = read((regenerated / name).read_bytes(), name)
    committed = read((FIXTURES / name).read_bytes(), name)
    assert fresh.layers == committed.layers
    assert fresh.input_shape == committed.input_shape
    for layer, arrays in committed.weights.items():
        assert [a.shape for a in arrays] == [a.shape for a in fresh.weights[layer]]


@pytest.mark.parametrize(("name", "words"), [("lambda.keras", "Lambda"),
                                             ("custom.keras", "custom class"),
                                             ("branching.keras", "branches")])
def test_regenerated_refusals(regenerated: Path, name: str, words: str) -> None:
    with pytest.raises(ModelFileError) as info:
        read((regenerated / name).read_bytes(), name)
    assert info.value.status == 422 and words in info.value.message
