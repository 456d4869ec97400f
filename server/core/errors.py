"""Exceptions raised by the core.

Every class is a ``ValueError`` so plain NumPy-style callers can catch them the usual way, and
carries the structured facts the web layer turns into its error envelope: which parameter (as the
request field is called), what would be accepted, and the nearest valid setting when there is one.
"""

from __future__ import annotations

from typing import Any


class CoreError(ValueError):
    """Base class: an argument of a core function cannot be used.

    Parameters
    ----------
    message : str
        A full sentence naming the parameter and the values received.
    param : str
        The parameter (request field) the error is about, e.g. ``"stride"``.
    accepted : str, optional
        What would be accepted, e.g. ``"an int >= 1 or one int per spatial axis"``.
    suggestion : dict, optional
        The nearest valid setting, e.g. ``{"padding": 1}``.
    alternatives : list of dict, optional
        Other single changes that would each work too, e.g. ``[{"dilation": 2}]``.
    """

    code = "invalid"

    def __init__(
        self,
        message: str,
        *,
        param: str,
        accepted: str | None = None,
        suggestion: dict[str, Any] | None = None,
        alternatives: list[dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.param = param
        self.accepted = accepted
        self.suggestion = suggestion
        self.alternatives = alternatives or []


class ShapeError(CoreError):
    """Arrays whose shapes cannot work together (input, kernel, bias, groups)."""

    code = "shape"


class ParameterError(CoreError):
    """A parameter of the wrong form or out of range (stride 0, unknown mode, ...)."""

    code = "parameter"


class PaddingError(CoreError):
    """Padding that the chosen mode cannot produce (reflect wider than the side, ...)."""

    code = "padding"


class OutputSizeError(CoreError):
    """An axis of the output would hold fewer than one element."""

    code = "output_size"

    def __init__(
        self,
        message: str,
        *,
        param: str,
        axis: int,
        formula: str,
        accepted: str | None = None,
        suggestion: dict[str, Any] | None = None,
        alternatives: list[dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(
            message, param=param, accepted=accepted, suggestion=suggestion,
            alternatives=alternatives,
        )
        self.axis = axis
        self.formula = formula
