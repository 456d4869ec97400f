"""Uploaded Keras models: read as data (never executed), stored like images, summarized."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Request, UploadFile
from starlette.responses import Response

from ...nn.keras_files import ModelFile
from ...nn.model import Sequential
from ...nn.summary import summary_of
from ...store import ModelStore
from ..deps import LimiterDep, MultipartRoute, SettingsDep, read_upload, run_cpu, run_io
from ..responses import json_response
from ..schemas.errors import ERROR_RESPONSES
from ..schemas.network import ModelResponse

router = APIRouter(prefix="/api", tags=["networks"], route_class=MultipartRoute,
                   responses=ERROR_RESPONSES)

def model_summary(model_id: str, model: ModelFile) -> dict[str, Any]:
    """The /api/network summary of a stored model, with its id and where it came from."""
    built = Sequential(model.input_shape, model.layers)
    summary = summary_of(built).to_dict()
    for row, spec in zip(summary["layers"], model.layers, strict=True):
        row["config"] = {k: v for k, v in spec.items() if k not in ("type", "name")}
    return {"id": model_id, "format": model.format, "keras_version": model.keras_version,
            **summary}


def models_of(request: Request) -> ModelStore:
    store: ModelStore = request.app.state.models
    return store


@router.post("/models", status_code=201, response_model=ModelResponse,
             responses={413: {"description": "Over a size limit (the file, what it expands "
                                             "to, its parameters)."},
                        415: {"description": "Not a .keras or .h5 model file."},
                        503: {"description": "Every process that reads models' HDF5 data is "
                                             "busy, or none could start (`Retry-After`)."}})
async def upload_model(
    file: Annotated[UploadFile, File(description="A Keras 3 `.keras` file or a Keras 2 / "
                                     "tf.keras `.h5` file.")],
    request: Request, settings: SettingsDep, limiter: LimiterDep, response: Response,
) -> Response:
    """Upload a Keras model: its layers, shapes and parameter counts; usable as `model_id`."""
    data = await read_upload(file, settings.max_model_bytes, "model files")
    store = models_of(request)
    model_id, model = await run_cpu(limiter, store.add, data, file.filename)
    summary = await run_cpu(limiter, model_summary, model_id, model)
    return json_response(summary, status_code=201,
                         headers={"Location": f"/api/models/{model_id}"})


@router.get("/models/{model_id}", response_model=ModelResponse)
async def get_model(model_id: str, request: Request, limiter: LimiterDep) -> Response:
    """The summary of an uploaded model (404 when it is unknown or was evicted)."""
    store = models_of(request)
    model = await run_io(store.get, model_id)
    return json_response(await run_cpu(limiter, model_summary, model_id, model))
