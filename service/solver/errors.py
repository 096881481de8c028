"""SolverError: a request the solver cannot answer, with a stable snake_case code."""

from __future__ import annotations


class SolverError(ValueError):
    """Raised for requests that are well typed but cannot be answered as asked.

    ``code`` is stable and machine-readable; ``message`` is for people and may change.
    ``field`` names the request field at fault, when there is one.
    """

    def __init__(self, code: str, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, message={self.message!r}, field={self.field!r})"
