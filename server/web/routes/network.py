"""Layer stacks: Keras's model.summary() as data (shapes and parameter counts, no weights)."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from ...nn.summary import summarize
from ..deps import StrictJSONRoute
from ..errors import limit_error
from ..responses import json_response
from ..schemas.errors import ERROR_RESPONSES
from ..schemas.network import NetworkRequest, NetworkResponse

router = APIRouter(prefix="/api", tags=["networks"], route_class=StrictJSONRoute,
                   responses=ERROR_RESPONSES)

# JavaScript numbers are exact up to 2**53 - 1; a larger count would reach the page rounded.
MAX_PARAMS = 2**53 - 1


@router.post("/network", response_model=NetworkResponse)
async def post_network(body: NetworkRequest) -> Response:
    """What Keras's `model.summary()` reports for a stack: names, output shapes, parameters."""
    # shape arithmetic only, microseconds even for the longest stack: no worker thread needed
    summary = summarize(body.input_shape, [layer.model_dump() for layer in body.layers])
    running = 0
    for i, row in enumerate(summary.layers):
        running += row.params
        if running > MAX_PARAMS:
            name = "filters" if row.type == "Conv2D" else "units"
            raise limit_error(
                f"layers[{i}].{name}",
                f"`layers[{i}].{name}` = {getattr(body.layers[i], name)} ({row.type}) brings "
                f"the parameter count to {running}, past {MAX_PARAMS} (2**53 - 1), the largest "
                "count a browser holds exactly",
                accepted=f"stacks with at most {MAX_PARAMS} parameters")
    return json_response(summary.to_dict())
