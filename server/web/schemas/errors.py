"""The error envelope as a schema, so every 4xx is documented in /docs."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class ErrorResponse(BaseModel):
    """Every error answer (4xx, and the 503s) has this shape."""

    status: int = Field(description="The HTTP status, repeated.", examples=[422])
    code: str = Field(description="validation, shape, parameter, padding, output_size, limit, "
                      "not_found, unsupported_media, too_large; busy and unavailable "
                      "(503, with Retry-After)", examples=["output_size"])
    field: str | None = Field(description="The request field at fault (dotted when nested).",
                              examples=["padding"])
    message: str = Field(description="A sentence naming the field and the values received.",
                         examples=["the output would be empty: axis 0: floor((2 + 0 + 0 - "
                                   "1*(3-1) - 1) / 1) + 1 = 0. ..."])
    accepted: str | None = Field(description="What would be accepted.")
    suggestion: dict[str, Any] | None = Field(
        description="The nearest valid setting, to merge into the request (a JSON merge "
        "patch: null means leave that field out).", examples=[{"padding": 1}])
    errors: list[dict[str, Any]] | None = Field(
        default=None, description="Validation errors: every problem found, same shape.")


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorResponse, "description": text}
    for status, text in (
        (400, "A body the server cannot parse at all (e.g. multipart without a boundary)."),
        (404, "Unknown image id."),
        (413, "Body, upload or image too large."),
        (415, "Wrong `content-type`: JSON endpoints read application/json, uploads "
              "multipart/form-data; or an upload that is not an accepted image."),
        (422, "Invalid request: the envelope names the field and what is accepted."),
        (503, "`busy`: the work queue is full; `unavailable`: the object store does not "
              "answer. Both send `Retry-After`; try again then."),
    )
}
