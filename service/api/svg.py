"""One layer's overlap map (and, on request, how each dimension is built) drawn as a standalone SVG.

The counts come from ``solver.overlap_map`` and the statistics (interior, checkerboard) from
``solver.overlap``; this module only draws them. The SVG uses presentation attributes and a
system font stack, no stylesheet, script or outside reference, so it renders the same inline in
the playground, as an ``<img>`` in a README, and in a notebook. Elements carry classes
(``count``, ``hole``, ``uneven``, ``tap``, ``cropped``, ``output-padding``) so tests and pages can
find what is marked.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from service.api.explain import module_name
from service.solver.enumeration import DimParams
from service.solver.overlap import DimOverlap, combine, dim_overlap
from service.solver.overlap_map import Spread, dim_counts, spread

# A picture past these sizes is unreadable and heavy (one element per pixel).
MAX_DRAWN_1D = 512
MAX_DRAWN_ND = 128
MAX_DRAWN_TAPS = 1 << 14  # input_size · kernel_size per dimension: the walk that counts them
MAX_DIAGRAM_INPUT = 24  # rows of the construction diagram; larger inputs draw its first rows
MAX_DIAGRAM_SPAN = 512  # columns of the construction diagram (uncropped positions)

FONT = "system-ui, -apple-system, Segoe UI, Roboto, sans-serif"
INK, MUTED, HOLE, UNEVEN = "#1b1b1b", "#666666", "#c62828", "#e65100"
TAP, FIRST_TAP, CROPPED, ADDED = "#6f9bd1", "#08306b", "#d9d9d9", "#f3c98b"


def drawing_limit_error(
    input_size: Sequence[int], layer: Sequence[DimParams], output_size: Sequence[int]
) -> str | None:
    """Why this layer is too large to draw, or None."""
    cap = MAX_DRAWN_1D if len(output_size) == 1 else MAX_DRAWN_ND
    for dim, (i, p, o) in enumerate(zip(input_size, layer, output_size, strict=True)):
        if o > cap:
            return f"dim {dim}: output size {o} is too large to draw (at most {cap} per dimension here)"
        if i * p.kernel_size > MAX_DRAWN_TAPS:
            return (
                f"dim {dim}: input_size {i} × kernel_size {p.kernel_size} = {i * p.kernel_size} taps is too "
                f"many to draw (at most {MAX_DRAWN_TAPS})"
            )
    return None


def _shade(count: int, top: int) -> str:
    """A light-to-dark blue ramp: more overlapping pairs, darker."""
    if top <= 0:
        return "#ffffff"
    t = count / top
    low, high = (222, 235, 247), (8, 48, 107)
    r, g, b = (round(a + (z - a) * t) for a, z in zip(low, high, strict=True))
    return f"#{r:02x}{g:02x}{b:02x}"


def _text_on(count: int, top: int) -> str:
    return "#ffffff" if top and count / top > 0.55 else INK


def _uneven(dim: DimOverlap, counts: Sequence[int]) -> list[bool]:
    """Interior positions below the interior's highest count: the thin squares of a checkerboard."""
    if not dim.is_checkerboard:
        return [False] * len(counts)
    top = max(dim.interior_counts)
    return [dim.interior_start <= y < dim.interior_stop and c < top for y, c in enumerate(counts)]


def _params(p: DimParams) -> dict[str, int]:
    return {
        "kernel_size": p.kernel_size,
        "stride": p.stride,
        "dilation": p.dilation,
        "padding": p.padding,
        "output_padding": p.output_padding,
    }


def _joined(values: Sequence[int]) -> str:
    return "×".join(map(str, values))


def _summary(dims: Sequence[DimOverlap]) -> str:
    overlap = combine(dims)
    parts = [f"counts {overlap.min_count}..{overlap.max_count}", f"holes {overlap.holes}"]
    if overlap.is_checkerboard:
        uneven = "; ".join(
            f"dim {n} {'/'.join(map(str, d.interior_counts))}"
            for n, d in enumerate(dims)
            if d.is_checkerboard
        )
        parts.append(f"checkerboard: {uneven}")
    elif overlap.uniform_interior:
        parts.append("even inside: no checkerboard")
    else:
        parts.append("no interior (input too small)")
    return " · ".join(parts)


def _layer_text(layer: Sequence[DimParams]) -> str:
    fields = ("kernel_size", "stride", "padding", "output_padding", "dilation")
    values = [[getattr(p, f) for p in layer] for f in fields]
    return ", ".join(
        f"{f} {_joined(v) if len(set(v)) > 1 else v[0]}" for f, v in zip(fields, values, strict=True)
    )


class _Canvas:
    def __init__(self) -> None:
        self.parts: list[str] = []
        self.height = 0
        self.width = 0

    def add(self, element: str, *, right: float, bottom: float) -> None:
        self.parts.append(element)
        self.width = max(self.width, int(right + 0.999))
        self.height = max(self.height, int(bottom + 0.999))

    def text(
        self,
        x: float,
        y: float,
        body: str,
        *,
        size: int = 12,
        fill: str = INK,
        anchor: str = "start",
        weight: str = "normal",
        cls: str = "",
    ) -> None:
        klass = f' class="{cls}"' if cls else ""
        self.add(
            f'<text x="{x:g}" y="{y:g}" font-size="{size}" fill="{fill}" text-anchor="{anchor}" '
            f'font-weight="{weight}"{klass}>{escape(body)}</text>',
            right=x + (len(body) * size * (0.64 if weight == "bold" else 0.56) if anchor == "start" else 0),
            bottom=y + 4,
        )

    def rect(
        self,
        x: float,
        y: float,
        w: float,
        h: float,
        *,
        fill: str,
        cls: str = "",
        stroke: str = "none",
        stroke_width: float = 1,
        title: str = "",
    ) -> None:
        klass = f' class="{cls}"' if cls else ""
        tip = f"<title>{escape(title)}</title>" if title else ""
        self.add(
            f'<rect x="{x:g}" y="{y:g}" width="{w:g}" height="{h:g}" fill="{fill}" stroke="{stroke}" '
            f'stroke-width="{stroke_width:g}"{klass}>{tip}</rect>',
            right=x + w,
            bottom=y + h,
        )

    def cross(self, x: float, y: float, w: float, h: float) -> None:
        inset = min(w, h) * 0.2
        self.add(
            f'<path d="M{x + inset:g} {y + inset:g}L{x + w - inset:g} {y + h - inset:g}M{x + w - inset:g} '
            f'{y + inset:g}L{x + inset:g} {y + h - inset:g}" stroke="{HOLE}" stroke-width="1.5"/>',
            right=x + w,
            bottom=y + h,
        )

    def svg(self, title: str) -> str:
        width, height = self.width + 8, self.height + 8
        return (
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" font-family="{FONT}" role="img">'
            f"<title>{escape(title)}</title>"
            f'<rect width="{width}" height="{height}" fill="#ffffff"/>' + "".join(self.parts) + "</svg>"
        )


def _cell(
    canvas: _Canvas, x: float, y: float, size: float, count: int, top: int, *, uneven: bool, where: str
) -> None:
    if count == 0:
        canvas.rect(x, y, size, size, fill="#ffffff", stroke=HOLE, cls="hole", title=f"{where}: hole (0)")
        canvas.cross(x, y, size, size)
        return
    canvas.rect(
        x,
        y,
        size,
        size,
        fill=_shade(count, top),
        stroke=UNEVEN if uneven else "#ffffff",
        stroke_width=2 if uneven else 0.5,
        cls="count uneven" if uneven else "count",
        title=f"{where}: {count}{' (below the interior’s highest count)' if uneven else ''}",
    )
    if size >= 14:
        canvas.text(
            x + size / 2,
            y + size / 2 + 4,
            str(count),
            size=min(11, int(size * 0.6)),
            fill=_text_on(count, top),
            anchor="middle",
        )


def _bars(canvas: _Canvas, top_y: float, counts: Sequence[int], dim: DimOverlap) -> float:
    top = max(counts)
    cell = max(4, min(28, 640 // max(1, len(counts))))
    height = 120
    uneven = _uneven(dim, counts)
    for y, count in enumerate(counts):
        x = 8 + y * cell
        bar = height * count / top if top else 0
        where = f"output {y}"
        if count == 0:
            canvas.rect(
                x + 1,
                top_y + height - cell + 1,
                cell - 2,
                cell - 2,
                fill="#ffffff",
                stroke=HOLE,
                cls="hole",
                title=f"{where}: hole (0)",
            )
            canvas.cross(x + 1, top_y + height - cell + 1, cell - 2, cell - 2)
        else:
            canvas.rect(
                x + 1,
                top_y + height - bar,
                cell - 2,
                bar,
                fill=UNEVEN if uneven[y] else TAP,
                cls="count uneven" if uneven[y] else "count",
                title=f"{where}: {count}",
            )
        if cell >= 14:
            canvas.text(
                x + cell / 2,
                top_y + height + 14,
                str(count),
                size=11,
                anchor="middle",
                fill=HOLE if count == 0 else UNEVEN if uneven[y] else INK,
            )
    return top_y + height + 22


def _grid(
    canvas: _Canvas,
    top_y: float,
    rows: Sequence[int],
    cols: Sequence[int],
    dims: Sequence[DimOverlap],
    scale: int = 1,
) -> float:
    top = max(rows) * max(cols) * scale
    cell = max(3, min(26, 520 // max(len(rows), len(cols))))
    uneven_rows, uneven_cols = _uneven(dims[0], rows), _uneven(dims[1], cols)
    for r, rc in enumerate(rows):
        for c, cc in enumerate(cols):
            _cell(
                canvas,
                8 + c * cell,
                top_y + r * cell,
                cell,
                rc * cc * scale,
                top,
                uneven=(uneven_rows[r] or uneven_cols[c]) and rc * cc > 0,
                where=f"output ({r}, {c})",
            )
    return top_y + len(rows) * cell + 8


def _diagram(
    canvas: _Canvas, top_y: float, label: str, params: DimParams, layer: Spread, counts: Sequence[int]
) -> float:
    """Input pixels spread by the stride, their kernel footprints, the cropping and the padding added."""
    cell = max(6, min(18, 640 // max(1, layer.full_size + layer.output_padding)))
    x0 = 8
    canvas.text(x0, top_y + 12, label, size=12, weight="bold")
    y = top_y + 22
    end = layer.padding + layer.output_size  # the output window ends here, uncropped coordinates
    span = max(layer.full_size, end)
    # The window: padding cropped from both ends, output_padding appended past the span.
    rows = min(len(layer.taps), MAX_DIAGRAM_INPUT)
    band = (rows + 1) * (cell * 0.8) + 8
    for q in range(span):
        x = x0 + q * cell
        if q < layer.padding or q >= end:
            canvas.rect(
                x, y, cell, band, fill=CROPPED, cls="cropped", title=f"position {q}: cropped by padding"
            )
        elif q >= layer.full_size:
            canvas.rect(
                x,
                y,
                cell,
                band,
                fill=ADDED,
                cls="output-padding",
                title=f"position {q}: added by output_padding (nothing reaches it)",
            )
    for x_in, footprint in enumerate(layer.taps[:rows]):
        row_y = y + 4 + x_in * cell * 0.8
        canvas.text(x0 + span * cell + 6, row_y + cell * 0.6, f"input {x_in}", size=10, fill=MUTED)
        for t, q in enumerate(footprint):
            canvas.rect(
                x0 + q * cell + 1,
                row_y,
                cell - 2,
                cell * 0.6,
                fill=FIRST_TAP if t == 0 else TAP,
                cls="tap",
                title=f"input {x_in}, tap {t} → position {q}",
            )
    if rows < len(layer.taps):
        canvas.text(
            x0 + span * cell + 6, y + band - 4, f"… {len(layer.taps) - rows} more", size=10, fill=MUTED
        )
    y += band + 4
    # The counts that survive, aligned under their uncropped positions.
    for out, count in enumerate(counts):
        q = out + layer.padding
        if cell >= 12:
            canvas.text(
                x0 + q * cell + cell / 2,
                y + 10,
                str(count),
                size=10,
                anchor="middle",
                fill=HOLE if count == 0 else INK,
            )
    y += 16
    canvas.text(x0 + span * cell + 6, y - 6, "counts", size=10, fill=MUTED)
    lines = [
        f"input pixels land {params.stride} apart (the stride); each spreads",
        f"kernel_size {params.kernel_size} taps, {params.dilation} apart (dilation; tap 0 darkest)",
        f"span {layer.full_size} − padding {layer.padding} at both ends + output_padding "
        f"{layer.output_padding} = {layer.output_size}",
    ]
    for line in lines:
        canvas.text(x0, y + 10, line, size=11, fill=MUTED)
        y += 15
    for swatch, words in ((CROPPED, "cropped by padding"), (ADDED, "added by output_padding")):
        canvas.rect(x0, y + 2, 10, 10, fill=swatch)
        canvas.text(x0 + 14, y + 11, words, size=11, fill=MUTED)
        y += 15
    return y + 6


def overlap_svg(input_size: Sequence[int], layer: Sequence[DimParams], *, diagram: bool = False) -> str:
    """The layer's all-ones experiment: 1-D as bars, 2-D as a grid, 3-D as its middle depth slice.

    Holes are crossed in red; interior pixels below the interior's highest count (a
    checkerboard's thin squares) are outlined in orange. With ``diagram``, each distinct
    dimension's construction is drawn underneath.

    >>> svg = overlap_svg((7,), [DimParams(3, 2, 1, 1, 0)])
    >>> svg.startswith("<svg") and 'class="count uneven"' in svg
    True
    >>> 'uneven' in overlap_svg((7,), [DimParams(4, 2, 1, 1, 0)])
    False
    """
    stats = [dim_overlap(i, **_params(p)) for i, p in zip(input_size, layer, strict=True)]
    counts = [dim_counts(i, **_params(p)) for i, p in zip(input_size, layer, strict=True)]
    ndim = len(layer)
    output = [len(c) for c in counts]
    heading = f"{module_name(ndim)}: input {_joined(input_size)} → output {_joined(output)}"
    title = f"{heading}; {_layer_text(layer)}"
    canvas = _Canvas()
    # Short lines, so the picture stays legible when a phone scales it to its width.
    canvas.text(8, 18, heading, size=13, weight="bold")
    canvas.text(8, 34, _layer_text(layer), size=12)
    canvas.text(8, 50, _summary(stats), size=12, fill=MUTED, cls="summary")
    y = 60.0
    if ndim == 1:
        y = _bars(canvas, y, counts[0], stats[0])
    elif ndim == 2:
        y = _grid(canvas, y, counts[0], counts[1], stats)
    else:
        middle = output[0] // 2
        canvas.text(
            8,
            y + 10,
            f"depth slice {middle} of {output[0]} (its dim 0 count, {counts[0][middle]}, times dims 1 and 2)",
            size=11,
            fill=MUTED,
        )
        y = _grid(canvas, y + 16, counts[1], counts[2], stats[1:], scale=counts[0][middle])
    more = "taller" if ndim == 1 else "darker"
    canvas.text(
        8, y + 12, f"{more}: more (input pixel, kernel tap) pairs reach the pixel", size=11, fill=MUTED
    )
    canvas.text(8, y + 26, "red ×: hole (nothing reaches it)", size=11, fill=MUTED)
    canvas.text(8, y + 40, "orange: thin pixel of a checkerboard", size=11, fill=MUTED)
    y += 50
    if diagram:
        seen: dict[tuple[int, DimParams], list[int]] = {}
        for n, (i, p) in enumerate(zip(input_size, layer, strict=True)):
            seen.setdefault((i, p), []).append(n)
        for (i, p), dims in seen.items():
            names = ", ".join(map(str, dims))
            label = f"how dims {names} are built" if len(dims) > 1 else f"how dim {names} is built"
            layer_spread = spread(i, **_params(p))
            if max(layer_spread.full_size, p.padding + layer_spread.output_size) > MAX_DIAGRAM_SPAN:
                # Wide dilations and paddings span far more positions than the output keeps.
                note = f"{label}: its span of {layer_spread.full_size} positions is too long to draw"
                canvas.text(8, y + 20, note, size=11, fill=MUTED)
                y += 28
                continue
            y = _diagram(canvas, y + 8, label, p, layer_spread, dim_counts(i, **_params(p)))
    return canvas.svg(title)
