"""Layer stacks: Keras's model.summary() as data, and the stack run on an input."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from ...nn.summary import summarize
from ..deps import LimiterDep, SettingsDep, StoreDep, StrictJSONRoute, run_cpu
from ..errors import limit_error
from ..network_run import plan_run, run, to_npz
from ..responses import json_response
from ..schemas.errors import ERROR_RESPONSES
from ..schemas.network import (
    NetworkRequest,
    NetworkResponse,
    NetworkRunRequest,
    NetworkRunResponse,
)
from ..timing import timing_header

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
            name = "filters" if row.type.startswith("Conv") else "units"
            raise limit_error(
                f"layers[{i}].{name}",
                f"`layers[{i}].{name}` = {getattr(body.layers[i], name)} ({row.type}) brings "
                f"the parameter count to {running}, past {MAX_PARAMS} (2**53 - 1), the largest "
                "count a browser holds exactly",
                accepted=f"stacks with at most {MAX_PARAMS} parameters")
    return json_response(summary.to_dict())


RunFormat = Annotated[Literal["json", "npz"], Query(
    description='`"json"`: every layer\'s numbers (while small) and PNGs. `"npz"`: every '
    "layer's output as one NumPy `.npz` keyed by layer name (and `input`), for programs.")]


@router.post("/network/run", response_model=NetworkRunResponse,
             responses={200: {"content": {"application/octet-stream": {}}}})
async def run_network(body: NetworkRunRequest, request: Request, settings: SettingsDep,
                      store: StoreDep, limiter: LimiterDep,
                      format: RunFormat = "json") -> Response:
    """Run a stack (or an uploaded model) on an input: every layer's output, shape, MACs."""

    def work() -> Response:
        job = plan_run(body, store, request.app.state.models, settings)
        answer = run(job, settings)
        timing = timing_header(forward=job.elapsed_ms)
        if format == "npz":
            return Response(to_npz(job), media_type="application/octet-stream", headers={
                **timing, "Content-Disposition": 'attachment; filename="layers.npz"'})
        return json_response(answer, headers=timing)

    return await run_cpu(limiter, work)
