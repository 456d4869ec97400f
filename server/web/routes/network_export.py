"""A layer stack and its weights as a Keras or PyTorch script, or the weights as `.npz`."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from ...nn.export import export_zip, weights_npz
from ..deps import LimiterDep, SettingsDep, StoreDep, StrictJSONRoute, run_cpu
from ..network_run import build_model, plan_run, stack
from ..schemas.errors import ERROR_RESPONSES
from ..schemas.network import NetworkRunRequest

router = APIRouter(prefix="/api", tags=["networks"], route_class=StrictJSONRoute,
                   responses=ERROR_RESPONSES)

ExportFormat = Annotated[Literal["keras", "pytorch", "npz"], Query(
    description='`"keras"`: a zip with `model_keras.py` (Keras 3), `weights.npz` and, with an '
    'input, `input.npy` and `svertka_outputs.npz`. `"pytorch"`: the same with '
    '`model_pytorch.py` (`torch.nn.Sequential`). `"npz"`: the weights alone, keyed '
    "`<layer name>/<weight name>` in Keras's layouts.")]

MEDIA = {"keras": "application/zip", "pytorch": "application/zip",
         "npz": "application/octet-stream"}
FILENAMES = {"keras": "svertka_keras.zip", "pytorch": "svertka_pytorch.zip",
             "npz": "weights.npz"}


@router.post("/network/export", response_class=Response, responses={200: {"content": {
    "application/zip": {}, "application/octet-stream": {}},
    "description": "The files, as an attachment."}})
async def export_network(body: NetworkRunRequest, request: Request, settings: SettingsDep,
                         store: StoreDep, limiter: LimiterDep,
                         format: ExportFormat = "pytorch") -> Response:
    """Export a stack with its weights as runnable Keras or PyTorch code, or the weights."""

    models = request.app.state.models

    def work() -> Response:
        if body.input is None and body.image_id is None:
            input_shape, layers, weights = stack(body, models)
            model = build_model(body, input_shape, layers, settings, weights)
            x, outputs = None, None
        else:  # the scripts then print the output for this input, beside Svertka's
            job = plan_run(body, store, models, settings)
            model, x = job.model, job.x
            outputs = {r.layer.name: r.output for r in model.run(x)}
        data = (weights_npz(model) if format == "npz"
                else export_zip(model, format, x=x, outputs=outputs))
        return Response(data, media_type=MEDIA[format], headers={
            "Content-Disposition": f'attachment; filename="{FILENAMES[format]}"'})

    return await run_cpu(limiter, work)
