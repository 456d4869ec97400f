"""Models saved by Keras 3 (the committed fixtures) run through our layers: every layer's output
equals Keras's own `model.predict` output, stored beside each fixture, within 1e-4."""

from __future__ import annotations

import numpy as np
import pytest
from keras_helpers import MODELS, expected, fixture, read

from server.nn.model import Sequential


@pytest.mark.parametrize("name", MODELS)
def test_every_layer_of_a_keras_file_equals_keras(name: str) -> None:
    model_file = read(fixture(name), name)
    model = Sequential(model_file.input_shape, model_file.layers)
    model.set_weights(model_file.weights)
    want = expected(name)
    results = model.run(want["input"])
    assert [r.layer.name for r in results] == [la["name"] for la in model_file.layers]
    for result in results:
        reference = want[f"output/{result.layer.name}"]
        assert result.output.shape == reference.shape, result.layer.name
        tolerance = 1e-4 * max(float(np.abs(reference).max()), 1.0)
        np.testing.assert_allclose(result.output, reference, rtol=0, atol=tolerance,
                                   err_msg=result.layer.name)
    assert sum(la.params for la in model.layers) == model_file.total_params
