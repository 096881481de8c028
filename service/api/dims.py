"""Request sizes and layer fields as per-dimension tuples, with the API's error for a mismatch."""

from __future__ import annotations

from collections.abc import Sequence

from service.solver.errors import SolverError
from service.solver.sizes import Dims, broadcast, resolve_ndim


def dims(value: int | Sequence[int], ndim: int, field: str) -> Dims:
    """``sizes.broadcast``, raising the 422 ``dimension_mismatch`` that names ``field``."""
    if type(value) is int:  # the common case, kept off the general path (it runs per batch item)
        return (value,) * ndim
    try:
        return broadcast(value, ndim, name=field)
    except ValueError as exc:
        raise SolverError("dimension_mismatch", str(exc), field=field) from exc


def ndim_of(**sizes: int | Sequence[int]) -> int:
    """``sizes.resolve_ndim``, raising ``dimension_mismatch`` on the first field given."""
    try:
        return resolve_ndim(**sizes)
    except ValueError as exc:
        raise SolverError("dimension_mismatch", str(exc), field=next(iter(sizes))) from exc
