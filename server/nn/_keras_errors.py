"""The one error a model file can earn, with the HTTP status it maps to.

A file is a parameter like any other (the multipart field ``file``), so the error is a
`ParameterError`; ``param`` names the field, or the layer at fault (``layers[3]``) so the page can
show the message beside that row. ``status`` and ``code`` say how the web layer answers: 413 for a
file too large or expanding too far, 415 for bytes that are no Keras model file, 422 for a model
Svertka cannot compute or whose contents contradict themselves.
"""

from __future__ import annotations

from typing import Any

from ..core.errors import ParameterError

ACCEPTED_FILE = ("a Keras 3 .keras file (zip of config.json, metadata.json, model.weights.h5) or a "
                 "Keras 2 / tf.keras .h5 file saved with model.save, holding a Sequential model or "
                 "a functional model that is a single chain of supported layers")


class ModelFileError(ParameterError):
    """A model file Svertka will not read, and why; ``status`` is 413, 415 or 422."""

    def __init__(self, message: str, *, param: str = "file", status: int = 422,
                 code: str = "model_file", accepted: str | None = ACCEPTED_FILE,
                 suggestion: dict[str, Any] | None = None) -> None:
        if param == "file":  # the field first, as validation messages name theirs
            message = f"`file`: {message}"
        super().__init__(message, param=param, accepted=accepted, suggestion=suggestion)
        self.status = status
        self.code = code

    def to_dict(self) -> dict[str, Any]:
        """Every field, as plain values: how the error leaves the reader process."""
        return {"message": self.message, "param": self.param, "status": self.status,
                "code": self.code, "accepted": self.accepted, "suggestion": self.suggestion}

    @classmethod
    def from_dict(cls, fields: dict[str, Any]) -> ModelFileError:
        """The error `to_dict` described, its message as it was (not prefixed again)."""
        error = cls.__new__(cls)
        ParameterError.__init__(error, str(fields["message"]), param=str(fields["param"]),
                                accepted=fields["accepted"], suggestion=fields["suggestion"])
        status = fields["status"]
        error.status = status if status in (413, 415, 422) else 422
        error.code = str(fields["code"])
        return error


def too_large(message: str) -> ModelFileError:
    """413: more bytes than a limit allows (the upload, or what it expands to)."""
    return ModelFileError(message, status=413, code="too_large")


def not_a_model(message: str) -> ModelFileError:
    """415: bytes that are no .keras zip and no HDF5 file, or are damaged."""
    return ModelFileError(message, status=415, code="unsupported_media")


def damaged(message: str) -> ModelFileError:
    """422: a readable container whose contents are wrong (missing parts, bad shapes, NaN)."""
    return ModelFileError(message)


def layer_error(index: int, name: str, kind: str, message: str, *, accepted: str,
                code: str = "unsupported_layer") -> ModelFileError:
    """422 about one layer: the message starts with its name and class, ``param`` is its row."""
    return ModelFileError(f"layer {name!r} ({kind}, `layers[{index}]`): {message}; accepted: "
                          f"{accepted}",
                          param=f"layers[{index}]", code=code, accepted=accepted)
