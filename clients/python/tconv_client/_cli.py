"""`tconv`: the command line (needs the ``cli`` extra: typer and rich).

Answers go to stdout (a table, or the server's JSON with ``--json``); errors go to stderr, as
JSON too with ``--json``, so ``tconv ... --json | jq`` never parses an error as an answer.
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import Annotated, NoReturn, TypeVar

import typer
from pydantic import BaseModel
from rich.color import Color
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.style import Style
from rich.table import Table
from rich.text import Text

from tconv_client._client import Client
from tconv_client._exceptions import APIConnectionError, APIStatusError
from tconv_client._version import __version__
from tconv_client.types import (
    BatchError,
    Bound,
    Candidate,
    ConvSpec,
    Device,
    DimOverlap,
    InvertResult,
    LayerSpec,
    ObjectiveName,
    PlanResult,
    SearchResult,
    ShapeQuery,
    ShapeResult,
    VerifyMode,
    VerifyResult,
)

R = TypeVar("R")

EXIT_STATUS = (
    "Exit status: 0 success; 1 the server refused the request, or (shape, verify) the layer is "
    "invalid or failed; 2 a usage error; 3 the server cannot be reached."
)
app = typer.Typer(
    help="Which PyTorch ConvTranspose layers turn this input size into that output size?\n\n"
    "Sizes are 7 (a square 2-D size), 16x9 (2-D) or 5x5x5 (3-D).\n\n"
    "Environment: TCONV_URL, the server (default http://127.0.0.1:8000); TCONV_API_KEY, sent as "
    "'Authorization: Bearer'.\n\n" + EXIT_STATUS + "\n\n"
    "Shell completion: tconv --install-completion.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
out = Console(highlight=False)
err = Console(stderr=True, highlight=False)

# --- values: each parser raises BadParameter (exit 2) naming the value it refused ------------


def _ints(text: str, sep: str, what: str, hint: str) -> list[int]:
    try:
        return [int(part) for part in text.split(sep)]
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not {what}", param_hint=hint) from None


def opt(parse: Callable[[str, str], R], text: str | None, hint: str) -> R | None:
    return None if text is None else parse(text, hint)


def parse_size(text: str, hint: str) -> int | list[int]:
    """'7' -> 7, '16x9' -> [16, 9]."""
    parts = _ints(text.lower(), "x", "a size: use 7, 16x9 or 5x5x5", hint)
    return parts[0] if len(parts) == 1 else parts


def parse_bound(text: str, hint: str) -> Bound:
    """'1..8' -> {"min": 1, "max": 8}; '2,4' -> {"values": [2, 4]}; '3' -> 3."""
    what = "a bound: use 3, 2,4 or 1..8"
    if ".." in text:
        low, _, high = text.partition("..")
        lo, hi = _ints(low, ",", what, hint), _ints(high, ",", what, hint)
        if len(lo) != 1 or len(hi) != 1:
            raise typer.BadParameter(f"{text!r} is not {what}", param_hint=hint)
        return {"min": lo[0], "max": hi[0]}
    values = _ints(text, ",", what, hint)
    return values[0] if len(values) == 1 else {"values": values}


def parse_channels(text: str, hint: str) -> list[int]:
    return _ints(text, ",", "a channel schedule: use e.g. 512,256,128,64,3", hint)


LAYER_FIELDS = ("kernel_size", "stride", "padding", "output_padding", "dilation")
CONV_FIELDS = ("kernel_size", "stride", "padding", "dilation")


def parse_layer(text: str, hint: str) -> LayerSpec:
    """'k,s,p[,op[,d]]', e.g. 4,2,1."""
    values = _ints(text, ",", "a layer: use kernel,stride,padding[,output_padding[,dilation]]", hint)
    if not 1 <= len(values) <= len(LAYER_FIELDS):
        raise typer.BadParameter(f"{text!r} has {len(values)} values; a layer has 1 to 5", param_hint=hint)
    layer: LayerSpec = {"kernel_size": values[0]}
    for name, value in zip(LAYER_FIELDS[1:], values[1:], strict=False):
        layer[name] = value  # type: ignore[literal-required]
    return layer


def parse_conv(text: str, hint: str) -> ConvSpec:
    """'k,s,p[,d]', e.g. 3,2,1."""
    values = _ints(text, ",", "a Conv layer: use kernel,stride,padding[,dilation]", hint)
    if not 1 <= len(values) <= len(CONV_FIELDS):
        raise typer.BadParameter(
            f"{text!r} has {len(values)} values; a Conv layer has 1 to 4", param_hint=hint
        )
    conv: ConvSpec = {"kernel_size": values[0]}
    for name, value in zip(CONV_FIELDS[1:], values[1:], strict=False):
        conv[name] = value  # type: ignore[literal-required]
    return conv


# --- shared options ---------------------------------------------------------------------------

Url = Annotated[str | None, typer.Option("--url", envvar="TCONV_URL", help="Server base URL.")]
ApiKey = Annotated[
    str | None,
    typer.Option("--api-key", envvar="TCONV_API_KEY", help="API key, sent as 'Authorization: Bearer'."),
]
AsJson = Annotated[
    bool, typer.Option("--json", help="Print the server's JSON answer; errors as JSON on stderr.")
]
# Values arrive as text and are parsed in the command, so that a malformed one is a usage
# error (exit 2) that names it; typer cannot declare the unions they parse to.
SizeArg = Annotated[str, typer.Argument(metavar="INPUT_SIZE", help="A size: 7, 16x9 or 5x5x5.")]
BoundOpt = Annotated[str | None, typer.Option(metavar="BOUND", help="Bound: 3, 2,4 or 1..8.")]
ObjectiveOpt = Annotated[ObjectiveName | None, typer.Option(help="Ranking objective.")]


def _fail(as_json: bool, exit_code: int, error: dict[str, object]) -> NoReturn:
    if as_json:
        print(json.dumps({"error": error}), file=sys.stderr)
    else:
        where = f" (request id {error['request_id']})" if "request_id" in error else ""
        err.print(Text.assemble(("error", "red"), f": {error['message']}{where}"), soft_wrap=True)
    raise typer.Exit(exit_code)


def _ask(url: str | None, api_key: str | None, as_json: bool, call: Callable[[Client], R]) -> R:
    try:
        with Client(url, api_key=api_key, max_retries=1) as client:
            return call(client)
    except APIStatusError as exc:
        error: dict[str, object] = {"status": exc.status_code, "code": exc.code, "message": exc.message}
        if exc.details:
            error["details"] = exc.details
        if exc.request_id:
            error["request_id"] = exc.request_id
        _fail(as_json, 1, error)
    except APIConnectionError as exc:
        _fail(as_json, 3, {"code": "unreachable", "message": f"cannot reach the server: {exc}"})


def _print_json(result: BaseModel) -> None:
    print(result.model_dump_json(indent=2))


def _dims(values: Sequence[int]) -> str:
    return str(values[0]) if len(set(values)) == 1 else "×".join(map(str, values))


def _version(value: bool) -> None:
    if value:
        print(f"tconv {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    pass


@app.command()
def search(
    input_size: SizeArg,
    output_size: Annotated[str, typer.Argument(metavar="OUTPUT_SIZE", help="Wanted output size.")],
    kernel_size: BoundOpt = None,
    stride: BoundOpt = None,
    dilation: BoundOpt = None,
    padding: BoundOpt = None,
    output_padding: BoundOpt = None,
    objective: ObjectiveOpt = None,
    limit: Annotated[int, typer.Option(min=1, help="How many candidates.")] = 10,
    offset: Annotated[int, typer.Option(min=0, help="Skip this many of the ranked list.")] = 0,
    untied: Annotated[bool, typer.Option("--untied", help="Choose every parameter per dimension.")] = False,
    verify: Annotated[VerifyMode | None, typer.Option(help="Confirm each candidate in torch.")] = None,
    url: Url = None,
    api_key: ApiKey = None,
    as_json: AsJson = False,
) -> None:
    """Every ConvTranspose layer that maps INPUT_SIZE to OUTPUT_SIZE, best first.

    Example: tconv search 7 14 --limit 3
    """
    sizes = parse_size(input_size, "INPUT_SIZE"), parse_size(output_size, "OUTPUT_SIZE")
    result = _ask(
        url,
        api_key,
        as_json,
        lambda client: client.search(
            *sizes,
            kernel_size=opt(parse_bound, kernel_size, "--kernel-size"),
            stride=opt(parse_bound, stride, "--stride"),
            dilation=opt(parse_bound, dilation, "--dilation"),
            padding=opt(parse_bound, padding, "--padding"),
            output_padding=opt(parse_bound, output_padding, "--output-padding"),
            objective=objective,
            limit=limit,
            offset=offset,
            tie_dims=not untied,
            verify=verify,
        ),
    )
    if as_json:
        _print_json(result)
        return
    _render_search(result)


def _render_search(result: SearchResult) -> None:
    out.print(f"{result.total} layers map {_dims(result.input_size)} to {_dims(result.output_size)}")
    if result.reason:
        out.print(Text(result.reason, style="yellow"))
        for near in result.nearest:
            out.print(f"nearest {near.direction}: {_dims(near.output_size)}  {near.example.snippet}")
    if not result.candidates:
        return
    table = Table("rank", "layer", "score", "overlap", "MACs")
    for c in result.candidates:
        overlap = "holes" if c.overlap.holes else "checkerboard" if c.overlap.checkerboard else "even"
        table.add_row(str(c.rank), c.snippet, str(c.score), overlap, f"{c.cost.macs:,}")
    out.print(table)


@app.command()
def shape(
    input_size: SizeArg,
    kernel_size: Annotated[str, typer.Option(help="Kernel size: 3 or 3x5.")],
    stride: Annotated[str, typer.Option(help="Stride.")] = "1",
    padding: Annotated[str, typer.Option(help="Padding.")] = "0",
    output_padding: Annotated[str, typer.Option(help="Output padding.")] = "0",
    dilation: Annotated[str, typer.Option(help="Dilation.")] = "1",
    url: Url = None,
    api_key: ApiKey = None,
    as_json: AsJson = False,
) -> None:
    """The output size PyTorch gives for one layer, or the rule it breaks.

    Exits 1 when PyTorch would refuse the layer (the answer still goes to stdout).

    Example: tconv shape 7 --kernel-size 4 --stride 2 --padding 1
    """
    result: ShapeResult = _ask(
        url,
        api_key,
        as_json,
        lambda client: client.shape(
            parse_size(input_size, "INPUT_SIZE"),
            parse_size(kernel_size, "--kernel-size"),
            stride=parse_size(stride, "--stride"),
            padding=parse_size(padding, "--padding"),
            output_padding=parse_size(output_padding, "--output-padding"),
            dilation=parse_size(dilation, "--dilation"),
        ),
    )
    if as_json:
        _print_json(result)
    else:
        for dim in result.dimensions:
            out.print(dim.derivation)
        if result.valid and result.output_size is not None:
            out.print(Text.assemble(("valid", "green"), f": output {_dims(result.output_size)}"))
        elif result.error is not None:
            out.print(Text.assemble(("invalid", "red"), f": {result.error.message}"))
    if not result.valid:
        raise typer.Exit(1)


@app.command()
def invert(
    input_size: Annotated[str, typer.Argument(metavar="INPUT_SIZE", help="The encoder's input.")],
    conv: Annotated[
        list[str],
        typer.Option(
            metavar="K,S,P[,D]", help="An encoder Conv layer kernel,stride,padding[,dilation]; repeat."
        ),
    ],
    url: Url = None,
    api_key: ApiKey = None,
    as_json: AsJson = False,
) -> None:
    """The decoder that undoes an encoder exactly (sizes, output_padding per layer).

    Example: tconv invert 572 --conv 3,2,1 --conv 3,2,1
    """
    size, encoder = parse_size(input_size, "INPUT_SIZE"), [parse_conv(c, "--conv") for c in conv]
    result: InvertResult = _ask(url, api_key, as_json, lambda client: client.invert(size, encoder))
    if as_json:
        _print_json(result)
        return
    out.print("encoder sizes: " + " → ".join(_dims(s) for s in result.sizes))
    if not result.valid:
        out.print(Text.assemble(("invalid", "red"), f": {result.error.message if result.error else ''}"))
        return
    for snippet, size in zip(result.snippets, result.decoder_sizes, strict=True):
        out.print(f"{snippet}  → {_dims(size)}")
    if result.exact_input_sizes:
        exact = result.exact_input_sizes
        out.print(f"exact input sizes: below {exact.below}, above {exact.above}")


@app.command()
def plan(
    input_size: SizeArg,
    output_size: Annotated[str, typer.Argument(metavar="OUTPUT_SIZE", help="Output size.")],
    layers: Annotated[str | None, typer.Option(metavar="BOUND", help="Layer count: 4 or 3..6.")] = None,
    channels: Annotated[
        str | None, typer.Option(metavar="C,C,...", help="Channel schedule, e.g. 512,256,128,64,3.")
    ] = None,
    objective: ObjectiveOpt = None,
    limit: Annotated[int, typer.Option(min=1, help="How many plans.")] = 5,
    url: Url = None,
    api_key: ApiKey = None,
    as_json: AsJson = False,
) -> None:
    """Stacks of layers from INPUT_SIZE to OUTPUT_SIZE, best first.

    Example: tconv plan 4 64 --layers 4 --channels 512,256,128,64,3
    """
    result: PlanResult = _ask(
        url,
        api_key,
        as_json,
        lambda client: client.plan(
            parse_size(input_size, "INPUT_SIZE"),
            parse_size(output_size, "OUTPUT_SIZE"),
            layers=opt(parse_bound, layers, "--layers"),
            channels=opt(parse_channels, channels, "--channels"),
            objective=objective,
            limit=limit,
        ),
    )
    if as_json:
        _print_json(result)
        return
    out.print(f"{result.total:,} plans" if result.total is not None else "plans")
    table = Table("rank", "sizes", "score", "MACs")
    for p in result.plans:
        table.add_row(str(p.rank), " → ".join(_dims(s) for s in p.sizes), str(p.score), f"{p.cost.macs:,}")
    out.print(table)
    if result.best:
        out.print(result.best.snippet)


@app.command()
def verify(
    input_size: SizeArg,
    layer: Annotated[
        list[str],
        typer.Option(
            metavar="K,S,P[,OP[,D]]", help="kernel,stride,padding[,output_padding[,dilation]]; repeat."
        ),
    ],
    device: Annotated[Device, typer.Option(help="Where to run the layers.")] = "auto",
    timing: Annotated[bool, typer.Option(help="Measure latency.")] = False,
    url: Url = None,
    api_key: ApiKey = None,
    as_json: AsJson = False,
) -> None:
    """Build the layers in real PyTorch on the server and report what happened.

    Exits 1 unless every layer is confirmed (failed, or unavailable when the server cannot
    verify); the report still goes to stdout.

    Example: tconv verify 7 --layer 4,2,1 --layer 3,2,1,1 --timing
    """
    size, specs = parse_size(input_size, "INPUT_SIZE"), [parse_layer(t, "--layer") for t in layer]
    result: VerifyResult = _ask(
        url,
        api_key,
        as_json,
        lambda client: client.verify(size, specs, device=device, timing=timing),
    )
    if as_json:
        _print_json(result)
    else:
        table = Table("layer", "status", "output", "latency ms", "error")
        for spec, r in zip(layer, result.results, strict=True):
            latency = f"{r.latency_ms:.3f}" if r.latency_ms is not None else ""
            output = _dims(r.output_size) if r.output_size else ""
            table.add_row(spec, r.status, output, latency, r.error or "")
        out.print(table)
        out.print(f"device: {result.device_name or result.device} · torch {result.torch_version}")
    if any(r.status != "confirmed" for r in result.results):
        raise typer.Exit(1)


@app.command()
def info(url: Url = None, api_key: ApiKey = None, as_json: AsJson = False) -> None:
    """The server's version, limits, objectives and verification worker."""
    result = _ask(url, api_key, as_json, lambda client: client.info())
    if as_json:
        _print_json(result)
        return
    out.print(f"tconv {result.version} (API {result.api_version})")
    for objective in result.objectives:
        mark = "" if objective.available else " (unavailable)"
        out.print(f"  {objective.name}{mark}: {objective.description}")
    worker = result.verification
    out.print(f"verification: {worker.mode}, {'available' if worker.available else worker.reason}")


def _read_queries(path: str) -> Iterator[ShapeQuery]:
    stream = sys.stdin if path == "-" else open(path, encoding="utf-8")  # noqa: SIM115
    with stream:
        for number, line in enumerate(stream, 1):
            if not line.strip():
                continue
            try:
                query = json.loads(line)
            except ValueError as exc:
                raise typer.BadParameter(f"line {number} is not JSON: {exc}", param_hint="LAYERS") from None
            if not isinstance(query, dict):
                raise typer.BadParameter(f"line {number} is not a JSON object", param_hint="LAYERS")
            yield query  # type: ignore[misc]


@app.command("filter")
def filter_layers(
    layers: Annotated[
        str,
        typer.Argument(
            help="JSON lines, one /v1/shape request each (input_size, kernel_size, ...); - is stdin."
        ),
    ],
    output_size: Annotated[
        str | None,
        typer.Option(help="Keep only layers with this output size."),
    ] = None,
    keep_all: Annotated[
        bool, typer.Option("--all", help="Write every line, each with valid, output_size and error added.")
    ] = False,
    batch_size: Annotated[int, typer.Option(min=1, help="Layers per batch request.")] = 1000,
    concurrency: Annotated[int, typer.Option(min=1, help="Batch requests in flight.")] = 4,
    url: Url = None,
    api_key: ApiKey = None,
    as_json: AsJson = False,
) -> None:
    """Keep the layers PyTorch accepts: JSON lines in, the valid ones out, each with its
    output_size added (in input order).

    Sends /v1/shape/batch requests, several at once; a progress bar goes to stderr. A line the
    server refuses as a request is dropped (kept with its error under --all).

    Example: tconv filter proposals.jsonl --output-size 14 > kept.jsonl
    """
    wanted = opt(parse_size, output_size, "--output-size")
    queries = list(_read_queries(layers))

    def run(client: Client) -> int:
        kept = 0
        columns = (TextColumn("filtering"), BarColumn(), MofNCompleteColumn())
        with Progress(*columns, console=err, disable=not err.is_terminal) as progress:
            task = progress.add_task("filter", total=len(queries))
            answers = client.shape_many(queries, batch_size=batch_size, concurrency=concurrency)
            for query, answer in zip(queries, answers, strict=True):
                progress.advance(task)
                record: dict[str, object] = dict(query)
                if isinstance(answer, BatchError):
                    keep = False
                    record.update(valid=False, output_size=None, error=answer.error.model_dump(mode="json"))
                else:
                    keep = answer.valid and _same_size(answer.output_size, wanted)
                    error = None if answer.error is None else answer.error.model_dump(include={"code", "dim"})
                    record.update(valid=answer.valid, output_size=answer.output_size, error=error)
                if keep_all:
                    print(json.dumps(record))
                elif keep:
                    print(json.dumps({**query, "output_size": record["output_size"]}))
                kept += keep
        return kept

    kept = _ask(url, api_key, as_json, run)
    if not as_json:
        err.print(f"kept {kept} of {len(queries)}")


def _same_size(got: list[int] | None, wanted: int | list[int] | None) -> bool:
    if wanted is None:
        return True
    if got is None:
        return False
    return got == ([wanted] * len(got) if isinstance(wanted, int) else wanted)


# --- show: overlap maps -----------------------------------------------------------------------


def _tile(dim: DimOverlap, cells: int) -> list[int]:
    period = dim.interior_counts
    return [period[i % len(period)] for i in range(max(cells, len(period)))] if period else []


def _cell_style(count: int, top: int) -> Style:
    if count == 0:
        return Style(color="white", bgcolor="red", bold=True)
    level = count / top if top else 1.0
    shade = int(40 + 200 * level)
    return Style(color="black" if level > 0.6 else "white", bgcolor=Color.from_rgb(20, shade // 2, shade))


def overlap_map(candidate: Candidate, cells: int = 8) -> Text:
    """The interior's repeating pattern, tiled: each cell counts the (input pixel, tap) pairs
    that reach that output pixel (red: a hole). 2-D counts are the product of the two
    dimensions' counts: the all-ones experiment is separable."""
    dims = candidate.overlap.dims
    if not dims or any(not d.interior_counts for d in dims):
        return Text("(no interior: the output is too small to hold a whole period)", style="dim")
    rows = _tile(dims[-2], cells) if len(dims) >= 2 else [1]
    cols = _tile(dims[-1], cells)
    scale = math.prod(max(d.interior_counts) for d in dims[:-2]) if len(dims) > 2 else 1
    top = max(rows) * max(cols) * scale
    text = Text()
    for r in rows:
        for c in cols:
            count = r * c * scale
            text.append(f"{count:>3}" if count < 1000 else " ∞ ", style=_cell_style(count, top))
        text.append("\n")
    return text


@app.command()
def show(
    input_size: SizeArg,
    output_size: Annotated[str, typer.Argument(metavar="OUTPUT_SIZE", help="Wanted output size.")],
    limit: Annotated[int, typer.Option(min=1, max=20, help="How many candidates to draw.")] = 3,
    kernel_size: BoundOpt = None,
    stride: BoundOpt = None,
    objective: ObjectiveOpt = None,
    url: Url = None,
    api_key: ApiKey = None,
    as_json: AsJson = False,
) -> None:
    """Draw the best candidates' overlap maps: how evenly each layer covers its output.

    Each map is the interior's repeating pattern (tiled), one cell per output pixel, coloured
    by how many (input pixel, tap) pairs reach it; red cells are holes. An even layer is one
    flat colour; kernel 3, stride 2 shows the checkerboard.

    Example: tconv show 7 14 --limit 2
    """
    result: SearchResult = _ask(
        url,
        api_key,
        as_json,
        lambda client: client.search(
            parse_size(input_size, "INPUT_SIZE"),
            parse_size(output_size, "OUTPUT_SIZE"),
            kernel_size=opt(parse_bound, kernel_size, "--kernel-size"),
            stride=opt(parse_bound, stride, "--stride"),
            objective=objective,
            limit=limit,
        ),
    )
    if as_json:
        _print_json(result)
        return
    if not result.candidates:
        _render_search(result)
        return
    for c in result.candidates:
        o = c.overlap
        flags = "holes" if o.holes else "checkerboard" if o.checkerboard else "even"
        out.print(Text.assemble((f"#{c.rank} ", "bold"), c.snippet))
        out.print(f"score {c.score} · overlap {o.min_count}..{o.max_count} · {flags}")
        out.print(overlap_map(c))


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    try:
        code = app(args=args, prog_name="tconv", standalone_mode=False)
    except typer.TyperException as exc:  # typer's (vendored) click errors; 2 for usage errors
        if "--json" in args:
            kind = "usage_error" if exc.exit_code == 2 else "cli_error"
            print(json.dumps({"error": {"code": kind, "message": exc.format_message()}}), file=sys.stderr)
        else:
            show = getattr(exc, "show", None)
            show() if callable(show) else err.print(f"error: {exc.format_message()}")
        sys.exit(exc.exit_code)
    except typer.Abort:
        err.print("aborted")
        sys.exit(130)
    sys.exit(code if isinstance(code, int) else 0)
