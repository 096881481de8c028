"""Multi-layer decoders: stacks of ConvTranspose layers from one size to another, best first.

A search over intermediate sizes (dynamic programming over a layered DAG), never over layer
tuples. Nodes are (depth, size); an edge is one layer. Per (kernel, stride, dilation) a layer maps
size ``a`` to ``(a − 1)·s + c`` with ``c = d·(k − 1) + 1 − 2·p + op`` independent of ``a``, so each
triple's offsets are solved once and every node reads the slice of them that stays in range.

Dimensions with the same (input, output) pair form a *class*. With ``tie_dims`` (the default) a
layer has one (kernel, stride, dilation), and the dimensions of one class take the same padding
and output_padding too, so a square request plans square layers and square intermediate sizes
(what decoders use). Untied, every dimension is planned on its own and plans are their product.

Two passes: exact counts (Python ints, no enumeration) and the k best plans per node (each node
keeps its K best partial plans; a plan's score is the sum of its layers' scores).
"""

from __future__ import annotations

import bisect
import heapq
import itertools
import math
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

from service.solver.cancel import checkpoint
from service.solver.enumeration import Bound, DimParams, SearchBounds
from service.solver.errors import SolverError
from service.solver.overlap import overlap_work
from service.solver.portability import option_filter
from service.solver.sizes import Dims

State = tuple[int, ...]  # one size per class
Step = tuple[DimParams, ...]  # one layer, one DimParams per class


@dataclass(frozen=True, slots=True)
class PlanOptions:
    min_layers: int = 1
    max_layers: int = 3
    monotonic: bool = True
    same_layer: bool = False
    lengths: frozenset[int] | None = None  # explicit layer counts; None means min..max

    def ends_at(self, depth: int) -> bool:
        """Whether a plan may end after ``depth`` layers."""
        if self.lengths is not None:
            return depth in self.lengths
        return self.min_layers <= depth <= self.max_layers


@dataclass(frozen=True, slots=True)
class Plan:
    score: int
    steps: tuple[Step, ...]
    sizes: tuple[State, ...]  # after each layer


@dataclass(frozen=True, slots=True)
class PlanResult:
    total: int
    plans: list[Plan]


Entry = tuple[int, tuple[Step, ...], tuple[State, ...]]  # (score, steps, sizes after each step)


class TableSize(NamedTuple):
    layers: int  # entries of the planner's tables
    work: int  # what scoring them once costs (overlap_work, about a size transition per unit)


def table_size(bounds: SearchBounds, *, stop_after: int | None = None) -> TableSize:
    """How many layers the planner's tables hold for ``bounds``, and the work of scoring them,
    counted without building them.

    Per dilation the paddings depend on the kernel only and the output paddings on the stride only,
    so both are sums of products. Counting stops once the work passes ``stop_after``.

    >>> table_size(SearchBounds())  # kernel 1..8 (36 paddings), stride 1..8 (36 output paddings)
    TableSize(layers=1296, work=37584)
    """
    layers = work = 0
    for d in bounds.dilation:
        pads = {
            k: d * (k - 1) + 1 if bounds.padding is None else len(bounds.padding) for k in bounds.kernel_size
        }
        ops = {
            s: max(s, d)
            if bounds.output_padding is None
            else len(bounds.output_padding.within(0, max(s, d) - 1))
            for s in bounds.stride
        }
        all_pads, all_ops = sum(pads.values()), sum(ops.values())
        layers += all_pads * all_ops
        # Σ_k Σ_s pads·ops·overlap_work(k, s), in closed form: the work is additive in k and s.
        base = overlap_work(0, 0)
        work += sum(n * (overlap_work(k, 0) - base) for k, n in pads.items()) * all_ops
        work += all_pads * sum(n * (overlap_work(0, s) - base) for s, n in ops.items())
        work += base * all_pads * all_ops
        if stop_after is not None and work > stop_after:
            break
    return TableSize(layers, work)


class _Planner:
    """Builds the layer tables once; ``counts_from`` and ``best_steps`` read the slice that stays in range."""

    def __init__(
        self,
        goal: State,
        bounds: SearchBounds,
        options: PlanOptions,
        *,
        step_score: Callable[[int, DimParams], int],
        limit: int,
        max_edges: int,
    ) -> None:
        self.goal, self.options, self.limit, self.max_edges = goal, options, limit, max_edges
        # The tables are charged before they are built: each layer in them is scored once per size
        # class, and building them unbounded once took 20 GB and 13 minutes.
        tables = table_size(bounds, stop_after=max_edges)
        self.edges = tables.work * len(goal)  # each size class scores every layer
        if self.edges > max_edges:
            raise SolverError(
                "space_too_large",
                f"scoring the plan's layer tables ({tables.layers:,}+ layers × {len(goal)} size classes) "
                f"would take the work of {self.edges:,}+ size transitions, over the budget of "
                f"{max_edges:,}; narrow kernel_size, stride, dilation or padding",
            )
        per_triple: dict[tuple[int, int, int], dict[int, list[DimParams]]] = {}
        gains: set[tuple[int, int]] = set()
        # A layer's dimensions share (kernel, stride, dilation) here, so every rule is per option.
        accept = option_filter(bounds.portable_to, tie_dims=True)
        for k, s, d in bounds.triples():
            pads = bounds.padding if bounds.padding is not None else Bound(0, d * (k - 1))
            ops = [
                op for op in range(max(s, d)) if bounds.output_padding is None or op in bounds.output_padding
            ]
            by_offset: defaultdict[int, list[DimParams]] = defaultdict(list)
            for p in pads:
                for op in ops:
                    params = DimParams(k, s, d, p, op)
                    if accept is None or accept(params):
                        by_offset[d * (k - 1) + 1 - 2 * p + op].append(params)
            if by_offset:
                per_triple[k, s, d] = by_offset
                gains.add((s, max(by_offset)))
        self.gains = sorted(gains)
        # One class: layers with the same stride and offset are interchangeable for the DP, so they
        # are pooled per stride. Several classes share (kernel, stride, dilation): pooled per triple.
        pooled: dict[tuple[int, ...], dict[int, list[DimParams]]] = {}
        for (k, s, d), offsets_of in per_triple.items():
            key: tuple[int, ...] = (s,) if len(goal) == 1 else (k, s, d)
            table = pooled.setdefault(key, defaultdict(list))
            for c, entries in offsets_of.items():
                table[c].extend(entries)
        # Per offset: how many layers, and per class the best ``limit`` of them by that class's score.
        self.tables: list[
            tuple[int, list[int], dict[int, tuple[int, list[list[tuple[int, DimParams]]]]]]
        ] = []
        for key, table in sorted(pooled.items()):
            compact = {
                c: (
                    len(entries),
                    [
                        heapq.nsmallest(limit, ((step_score(n, p), p) for p in entries))
                        for n in range(len(goal))
                    ],
                )
                for c, entries in table.items()
            }
            self.tables.append((key[0] if len(key) == 1 else key[1], sorted(compact), compact))
        self.flat = [
            [(c, table[c][0], table[c][1][0][0][0]) for c in offsets] for _, offsets, table in self.tables
        ]
        self._reach: dict[tuple[int, int], int] = {}
        self._counts: dict[State, dict[State, tuple[int, int]]] = {}

    def reach_max(self, size: int, layers: int) -> int:
        key = (size, layers)
        if key not in self._reach:
            reached = size
            for _ in range(layers):
                reached = max(((reached - 1) * s + c for s, c in self.gains), default=reached)
            self._reach[key] = reached
        return self._reach[key]

    def can_finish(self, state: State, lo: int, hi: int) -> bool:
        """Whether ``state`` can reach the goal in some number of layers in ``lo..hi``."""
        for remaining in range(lo, hi + 1):
            if remaining == 0:
                if state == self.goal:
                    return True
            elif all(self.reach_max(a, remaining) >= g for a, g in zip(state, self.goal, strict=True)):
                return True
        return False

    def _in_range(self, size: int, target: int, stride: int, offsets: list[int]) -> tuple[int, int, int]:
        """``(base, first, last)``: offsets[first:last] are those whose next size, base + offset,
        stays in the allowed range (up to the target, and not below ``size`` when monotonic)."""
        lo, hi = (size, target) if self.options.monotonic else (1, max(size, target))
        base = (size - 1) * stride
        return base, bisect.bisect_left(offsets, lo - base), bisect.bisect_right(offsets, hi - base)

    def counts_from(self, state: State) -> dict[State, tuple[int, int]]:
        """Per next state: how many layers lead there from ``state``, and the best one's base score.

        Depth does not change the answer, so each size is solved once per plan."""
        if state not in self._counts:
            self._counts[state] = self._solve_counts(state)
        return self._counts[state]

    def _solve_counts(self, state: State) -> dict[State, tuple[int, int]]:
        found: dict[State, tuple[int, int]] = {}
        if len(state) == 1:
            # The common case (square or 1-D requests), without the product machinery.
            for (stride, offsets, _), flat in zip(self.tables, self.flat, strict=True):
                base, first, last = self._in_range(state[0], self.goal[0], stride, offsets)
                for c, count, low in flat[first:last]:
                    key = (base + c,)
                    old = found.get(key)
                    found[key] = (count, low) if old is None else (old[0] + count, min(old[1], low))
            return self._charge(found)
        for stride, offsets, table in self.tables:
            per_class: list[list[tuple[int, int, int]]] = []
            for n, (a, g) in enumerate(zip(state, self.goal, strict=True)):
                base, first, last = self._in_range(a, g, stride, offsets)
                per_class.append([(base + c, table[c][0], table[c][1][n][0][0]) for c in offsets[first:last]])
            # Several classes: every combination of their next sizes is visited, so charge each.
            self._charge_work(math.prod(len(options) for options in per_class))
            for combo in itertools.product(*per_class):
                b = tuple(size for size, _, _ in combo)
                count = math.prod(c for _, c, _ in combo)
                low = sum(m for _, _, m in combo)
                old = found.get(b)
                found[b] = (count, low) if old is None else (old[0] + count, min(old[1], low))
        return self._charge(found)

    def _charge(self, found: dict[State, tuple[int, int]]) -> dict[State, tuple[int, int]]:
        self._charge_work(len(found))
        return found

    def _charge_work(self, transitions: int) -> None:
        checkpoint()
        self.edges += transitions
        if self.edges > self.max_edges:
            raise SolverError(
                "space_too_large",
                f"the plan search passed {self.max_edges:,} size transitions; narrow kernel_size, stride, "
                "dilation or the number of layers, keep sizes non-decreasing, or make the request square "
                "(dimensions with different sizes are planned jointly)",
            )

    def best_steps(self, state: State) -> dict[State, list[tuple[int, Step]]]:
        """Per next state, the best ``limit`` layers leading there from ``state`` (base score, layer)."""
        found: dict[State, list[tuple[int, Step]]] = {}
        for stride, offsets, table in self.tables:
            per_class: list[list[tuple[int, list[tuple[int, DimParams]]]]] = []
            for n, (a, g) in enumerate(zip(state, self.goal, strict=True)):
                base, first, last = self._in_range(a, g, stride, offsets)
                per_class.append([(base + c, table[c][1][n]) for c in offsets[first:last]])
            if len(per_class) == 1:
                # One class: each offset's ranked list is already the answer.
                for size, ranked in per_class[0]:
                    single: list[tuple[int, Step]] = [(score, (params,)) for score, params in ranked]
                    old = found.get((size,))
                    found[size,] = single if old is None else heapq.nsmallest(self.limit, [*old, *single])
                continue
            for combo in itertools.product(*per_class):
                best: list[tuple[int, Step]] = heapq.nsmallest(
                    self.limit,
                    (
                        (sum(score for score, _ in picks), tuple(params for _, params in picks))
                        for picks in itertools.product(*(ranked for _, ranked in combo))
                    ),
                )
                b = tuple(size for size, _ in combo)
                old = found.get(b)
                found[b] = best if old is None else heapq.nsmallest(self.limit, [*old, *best])
        return found


def plan(
    start: State,
    goal: State,
    bounds: SearchBounds,
    options: PlanOptions,
    *,
    step_score: Callable[[int, DimParams], int],
    scale: Callable[[int, State], int] | None = None,
    limit: int = 10,
    max_edges: int = 10**9,
) -> PlanResult:
    """The ``limit`` best plans from ``start`` to ``goal`` (one size per class) and the exact total.

    A layer's score is ``Σ_class step_score(class, params)``, times ``scale(depth, state)`` when
    given (cost: MACs grow with the layer's input size and channels). Plans rank by (score, then
    their layers in order, compared as in search).

    Three passes over (depth, size) nodes: forward, exact integer counts (and the graph);
    backward, the exact best score from every node to the end; then a best-first search over
    partial plans keyed by (score so far + best rest, layers so far), which pops complete plans in
    rank order. A node popped ``limit`` times is closed: each of those prefixes, finished the same
    way, beats any later prefix through it.

    >>> from service.solver.enumeration import Bound, SearchBounds
    >>> bounds = SearchBounds(kernel_size=Bound(2, 4), stride=Bound(2, 2))
    >>> result = plan((4,), (16,), bounds, PlanOptions(2, 2), step_score=lambda n, p: p.kernel_size, limit=2)
    >>> result.total, [(p.score, p.sizes) for p in result.plans]
    (26, [(4, ((8,), (16,))), (4, ((9,), (16,)))])
    """
    hi = options.max_layers
    if options.same_layer:

        def layer_score(depth: int, step: Step, state: State) -> int:
            base = sum(step_score(n, p) for n, p in enumerate(step))
            return base * (scale(depth, state) if scale is not None else 1)

        return _same_layer_plans(start, goal, bounds, options, layer_score, limit, max_edges)
    planner = _Planner(goal, bounds, options, step_score=step_score, limit=limit, max_edges=max_edges)

    alive = _liveness(planner, options, single_class=len(start) == 1)

    # Pass 1: exact counts, forward over (depth, size) nodes that can still finish; keep the graph.
    total = 0
    graph: list[dict[State, dict[State, tuple[int, int]]]] = []
    counts: dict[State, int] = {start: 1} if alive(start, 0) else {}
    for depth in range(hi):
        following: defaultdict[State, int] = defaultdict(int)
        level: dict[State, dict[State, tuple[int, int]]] = {}
        for state, count in counts.items():
            edges = {b: e for b, e in planner.counts_from(state).items() if alive(b, depth + 1)}
            level[state] = edges
            for b, (n, _) in edges.items():
                following[b] += count * n
        graph.append(level)
        counts = dict(following)
        if options.ends_at(depth + 1):
            total += counts.get(goal, 0)
    if total == 0:
        return PlanResult(0, [])

    # Pass 2: the exact best score from every node to the end, backward.
    best_rest: list[dict[State, int]] = [{} for _ in range(hi + 1)]
    if options.ends_at(hi):
        best_rest[hi][goal] = 0
    for depth in range(hi - 1, -1, -1):
        for state, edges in graph[depth].items():
            factor = scale(depth, state) if scale is not None else 1
            options_here = [
                low * factor + best_rest[depth + 1][b]
                for b, (_, low) in edges.items()
                if b in best_rest[depth + 1]
            ]
            if state == goal and options.ends_at(depth):
                options_here.append(0)
            if options_here:
                best_rest[depth][state] = min(options_here)

    # Pass 3: best-first over partial plans, keyed by (score so far + exact best rest, layers so far).
    pops: defaultdict[tuple[State, int], int] = defaultdict(int)
    frontier: list[tuple[int, tuple[Step, ...], tuple[State, ...], int, State]] = [
        (best_rest[0][start], (), (), 0, start)
    ]
    plans: list[Plan] = []
    while frontier and len(plans) < limit:
        _, steps, sizes, score, state = heapq.heappop(frontier)
        depth = len(steps)
        pops[state, depth] += 1
        if pops[state, depth] > limit:
            continue
        if state == goal and options.ends_at(depth):
            plans.append(Plan(score, steps, sizes))
        if depth == hi:
            continue
        factor = scale(depth, state) if scale is not None else 1
        reachable = best_rest[depth + 1]
        for b, steps_to_b in planner.best_steps(state).items():
            if b not in reachable or pops[b, depth + 1] >= limit:
                continue
            for edge_score, step in steps_to_b:
                g = score + edge_score * factor
                heapq.heappush(frontier, (g + reachable[b], (*steps, step), (*sizes, b), g, b))
    return PlanResult(total=total, plans=plans)


def plan_untied(
    start: State,
    goal: State,
    bounds: SearchBounds,
    options: PlanOptions,
    *,
    step_score: Callable[[DimParams], int],
    limit: int = 10,
    max_edges: int = 10**9,
) -> PlanResult:
    """Plans whose every parameter is free per dimension (``tie_dims`` false); one size per dimension.

    Dimensions are then independent given the number of layers L: the plans with L layers are the
    cross product of each dimension's 1-D plans with exactly L layers, their count the product of
    the counts, and the best of them come from merging each dimension's best lists (a plan not in
    its dimension's best ``limit`` is beaten by ``limit`` plans that swap it for a better one).
    Scores add over dimensions, so objectives that multiply across dimensions do not apply.
    """
    if "keras" in bounds.portable_to:
        raise SolverError(
            "unsupported",
            "portable_to keras needs tie_dims true for plans: Keras's stride/dilation rule spans "
            "dimensions, which untied plans choose apart",
            field="portable_to",
        )
    lengths = (
        sorted(options.lengths) if options.lengths else range(options.min_layers, options.max_layers + 1)
    )
    total = 0
    finished: list[tuple[int, tuple[Step, ...], tuple[State, ...]]] = []
    for layers in lengths:
        exact = PlanOptions(layers, layers, options.monotonic, options.same_layer)
        per_pair: dict[tuple[int, int], PlanResult] = {}
        for pair in dict.fromkeys(zip(start, goal, strict=True)):
            per_pair[pair] = plan(
                (pair[0],),
                (pair[1],),
                bounds,
                exact,
                step_score=lambda n, params: step_score(params),
                limit=limit,
                max_edges=max_edges,
            )
        per_dim = [per_pair[pair] for pair in zip(start, goal, strict=True)]
        count = math.prod(result.total for result in per_dim)
        if count == 0:
            continue
        total += count
        merged: list[tuple[int, tuple[Step, ...], tuple[State, ...]]] = [
            (p.score, tuple((params,) for (params,) in p.steps), p.sizes) for p in per_dim[0].plans
        ]
        for result in per_dim[1:]:
            merged = _merge_best(merged, result.plans, limit)
        finished.extend(merged)
    finished.sort()
    return PlanResult(total, [Plan(score, steps, sizes) for score, steps, sizes in finished[:limit]])


def _merge_best(
    left: list[tuple[int, tuple[Step, ...], tuple[State, ...]]], right: list[Plan], limit: int
) -> list[tuple[int, tuple[Step, ...], tuple[State, ...]]]:
    """The ``limit`` best pairs of two ranked lists, one more dimension appended to each layer.

    Both lists are sorted by (score, layers); so is every pairing along either index, so a
    frontier over (i, j) yields pairs in order.
    """

    def pair(i: int, j: int) -> tuple[int, tuple[Step, ...], tuple[State, ...], int, int]:
        score, steps, sizes = left[i]
        other = right[j]
        return (
            score + other.score,
            tuple((*step, *extra) for step, extra in zip(steps, other.steps, strict=True)),
            tuple((*size, *more) for size, more in zip(sizes, other.sizes, strict=True)),
            i,
            j,
        )

    if not left or not right:
        return []
    frontier = [pair(0, 0)]
    seen = {(0, 0)}
    out: list[tuple[int, tuple[Step, ...], tuple[State, ...]]] = []
    while frontier and len(out) < limit:
        score, steps, sizes, i, j = heapq.heappop(frontier)
        out.append((score, steps, sizes))
        for ni, nj in ((i + 1, j), (i, j + 1)):
            if ni < len(left) and nj < len(right) and (ni, nj) not in seen:
                seen.add((ni, nj))
                heapq.heappush(frontier, pair(ni, nj))
    return out


def _liveness(planner: _Planner, options: PlanOptions, *, single_class: bool) -> Callable[[State, int], bool]:
    """Whether a node (state at a depth) can still end a plan: the pruning test of every pass."""
    lo, hi = options.min_layers, options.max_layers
    if single_class:
        # One class: "can still reach the goal" is a threshold on the size at each depth.
        target = planner.goal[0]
        thresholds = [_smallest_reaching(planner, target, hi - depth) for depth in range(hi)]

        def above_threshold(state: State, depth: int) -> bool:
            if state[0] == target and options.ends_at(depth):
                return True
            return depth < hi and state[0] >= thresholds[depth]

        return above_threshold
    finishing: dict[tuple[State, int], bool] = {}

    def can_finish(state: State, depth: int) -> bool:
        key = (state, depth)
        if key not in finishing:
            finishing[key] = planner.can_finish(state, max(lo - depth, 0), hi - depth)
        return finishing[key]

    return can_finish


def _smallest_reaching(planner: _Planner, target: int, layers: int) -> int:
    """The smallest size from which ``layers`` layers can reach ``target`` (reach grows with size)."""
    low, high = 1, target
    while low < high:
        middle = (low + high) // 2
        if planner.reach_max(middle, layers) >= target:
            high = middle
        else:
            low = middle + 1
    return low if planner.reach_max(low, layers) >= target else target + 1


def _same_layer_plans(
    start: State,
    goal: State,
    bounds: SearchBounds,
    options: PlanOptions,
    layer_score: Callable[[int, Step, State], int],
    limit: int,
    max_edges: int,
) -> PlanResult:
    """Every layer identical: apply each candidate layer to ``start`` up to ``max_layers`` times."""
    found: list[Entry] = []
    tried = 0
    accept = option_filter(bounds.portable_to, tie_dims=True)
    for k, s, d in bounds.triples():
        pads = bounds.padding if bounds.padding is not None else Bound(0, d * (k - 1))
        ops = [op for op in range(max(s, d)) if bounds.output_padding is None or op in bounds.output_padding]
        per_class = [DimParams(k, s, d, p, op) for p in pads for op in ops]
        if accept is not None:
            per_class = list(filter(accept, per_class))
        tried += len(per_class) ** len(start) * options.max_layers
        if tried > max_edges:
            raise SolverError(
                "space_too_large",
                f"repeating each candidate layer passes {max_edges:,} layer applications; narrow "
                "kernel_size, stride, dilation or padding",
            )
        for step in itertools.product(per_class, repeat=len(start)):
            state, sizes, score = start, [], 0
            for depth in range(options.max_layers):
                nxt = _apply(step, state)
                if nxt is None or (options.monotonic and any(b < a for a, b in zip(state, nxt, strict=True))):
                    break
                if options.monotonic and any(b > g for b, g in zip(nxt, goal, strict=True)):
                    break
                score += layer_score(depth, step, state)
                state = nxt
                sizes.append(state)
                if options.ends_at(depth + 1) and state == goal:
                    found.append((score, (step,) * (depth + 1), tuple(sizes)))
    found.sort()
    return PlanResult(len(found), [Plan(score, steps, sizes) for score, steps, sizes in found[:limit]])


def _apply(step: Step, state: State) -> State | None:
    sizes = []
    for (k, s, d, p, op), a in zip(step, state, strict=True):
        b = (a - 1) * s - 2 * p + d * (k - 1) + op + 1
        if b < 1:
            return None
        sizes.append(b)
    return tuple(sizes)


def classes_of(input_size: Dims, output_size: Dims) -> tuple[list[int], State, State]:
    """Group dimensions by (input, output): the class of each dimension, and the class states."""
    pairs = list(dict.fromkeys(zip(input_size, output_size, strict=True)))
    index = {pair: n for n, pair in enumerate(pairs)}
    return (
        [index[pair] for pair in zip(input_size, output_size, strict=True)],
        tuple(i for i, _ in pairs),
        tuple(o for _, o in pairs),
    )
