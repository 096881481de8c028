"""Pure-Python arithmetic of transposed convolutions: forward sizes, rules, search and ranking.

Imports the standard library only, so the API process never pays for torch.
"""

from service.solver.enumeration import Bound, DimParams, SearchSpace, build_space
from service.solver.errors import SolverError
from service.solver.ranking import OBJECTIVES, Objective, RankedSpace, rank_space
from service.solver.rules import LayerCheck, RuleViolation, check_layer
from service.solver.sizes import Dims, broadcast, derivation, forward_size

__all__ = [
    "OBJECTIVES",
    "Bound",
    "DimParams",
    "Dims",
    "LayerCheck",
    "Objective",
    "RankedSpace",
    "RuleViolation",
    "SearchSpace",
    "SolverError",
    "broadcast",
    "build_space",
    "check_layer",
    "derivation",
    "forward_size",
    "rank_space",
]
