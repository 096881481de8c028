"""`tconv`: the command line. A table by default, `--json` for scripts; exit 1 on a server error,
2 on a usage error, 3 when the server cannot be reached."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from pydantic import BaseModel
from rich.console import Console
from rich.table import Table

from tconv_client._client import Client
from tconv_client._exceptions import APIConnectionError, APIStatusError

app = typer.Typer(
    help="Which PyTorch ConvTranspose layers turn this input size into that output size?\n\n"
    "Sizes are 7 (a square 2-D size), 16x9 (2-D) or 5x5x5 (3-D). The server is --url, "
    "TCONV_URL, or http://127.0.0.1:8000.",
    no_args_is_help=True,
    add_completion=False,
)
console = Console()

UrlOption = Annotated[str | None, typer.Option("--url", envvar="TCONV_URL", help="Server base URL.")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print the server's JSON answer (for scripts).")]


def size(text: str) -> int | list[int]:
    """'7' -> 7, '16x9' -> [16, 9]."""
    try:
        parts = [int(part) for part in text.lower().split("x")]
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not a size: use 7, 16x9 or 5x5x5") from None
    return parts[0] if len(parts) == 1 else parts


def bound(text: str | None) -> Any:
    """'1..8' -> {"min": 1, "max": 8}; '2,4' -> {"values": [2, 4]}; '3' -> 3."""
    if text is None:
        return None
    try:
        if ".." in text:
            low, high = text.split("..")
            return {"min": int(low), "max": int(high)}
        values = [int(v) for v in text.split(",")]
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not a bound: use 3, 2,4 or 1..8") from None
    return values[0] if len(values) == 1 else {"values": values}


def layer_arg(text: str) -> dict[str, Any]:
    """'k,s,p[,op[,d]]' -> a layer; e.g. 4,2,1."""
    names = ["kernel_size", "stride", "padding", "output_padding", "dilation"]
    try:
        values = [int(v) for v in text.split(",")]
    except ValueError:
        raise typer.BadParameter(
            f"{text!r}: a layer is kernel,stride,padding[,output_padding[,dilation]]"
        ) from None
    return dict(zip(names, values, strict=False))


def _run(url: str | None, as_json: bool, call: Any, render: Any) -> None:
    try:
        with Client(url, max_retries=1) as client:
            result: BaseModel = call(client)
    except APIStatusError as exc:
        console.print(f"[red]error[/red] {exc.status_code} {exc.code}: {exc.message}")
        raise typer.Exit(1) from exc
    except APIConnectionError as exc:
        console.print(f"[red]cannot reach the server[/red]: {exc}")
        raise typer.Exit(3) from exc
    if as_json:
        typer.echo(json.dumps(result.model_dump(mode="json"), indent=2))
    else:
        render(result)


def _dims(values: list[int]) -> str:
    return str(values[0]) if len(set(values)) == 1 else "×".join(map(str, values))


@app.command()
def search(
    input_size: Annotated[str, typer.Argument(help="Input size, e.g. 7 or 16x9.")],
    output_size: Annotated[str, typer.Argument(help="Wanted output size, e.g. 14 or 32x18.")],
    kernel_size: Annotated[str | None, typer.Option(help="Bound: 3, 2,4 or 1..8.")] = None,
    stride: Annotated[str | None, typer.Option(help="Bound: 2, 1,2 or 1..8.")] = None,
    dilation: Annotated[str | None, typer.Option(help="Bound (default 1).")] = None,
    objective: Annotated[
        str | None, typer.Option(help="balanced, quality, cost, conventional, latency.")
    ] = None,
    limit: Annotated[int, typer.Option(help="How many candidates.")] = 10,
    untied: Annotated[bool, typer.Option("--untied", help="Choose every parameter per dimension.")] = False,
    verify: Annotated[str | None, typer.Option(help="none, meta or device.")] = None,
    url: UrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Every ConvTranspose layer that maps INPUT_SIZE to OUTPUT_SIZE, best first.

    Example: tconv search 7 14 --limit 3
    """

    def render(result: Any) -> None:
        console.print(f"{result.total} layers map {_dims(result.input_size)} to {_dims(result.output_size)}")
        if result.reason:
            console.print(f"[yellow]{result.reason}[/yellow]")
            for near in result.nearest:
                console.print(f"nearest {near.direction}: {_dims(near.output_size)}  {near.example.snippet}")
        table = Table("rank", "layer", "score", "overlap", "MACs")
        for c in result.candidates:
            overlap = "holes" if c.overlap.holes else "checkerboard" if c.overlap.checkerboard else "even"
            table.add_row(str(c.rank), c.snippet, str(c.score), overlap, f"{c.cost.macs:,}")
        console.print(table)

    _run(
        url,
        as_json,
        lambda client: client.search(
            size(input_size),
            size(output_size),
            kernel_size=bound(kernel_size),
            stride=bound(stride),
            dilation=bound(dilation),
            objective=objective,
            limit=limit,
            tie_dims=False if untied else None,
            verify=verify,
        ),
        render,
    )


@app.command()
def shape(
    input_size: Annotated[str, typer.Argument(help="Input size, e.g. 7 or 16x9.")],
    kernel_size: Annotated[int, typer.Option(help="Kernel size.")],
    stride: Annotated[int, typer.Option(help="Stride.")] = 1,
    padding: Annotated[int, typer.Option(help="Padding.")] = 0,
    output_padding: Annotated[int, typer.Option(help="Output padding.")] = 0,
    dilation: Annotated[int, typer.Option(help="Dilation.")] = 1,
    url: UrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """The output size PyTorch gives for one layer, or the rule it breaks.

    Example: tconv shape 7 --kernel-size 4 --stride 2 --padding 1
    """

    def render(result: Any) -> None:
        for dim in result.dimensions:
            console.print(dim.derivation)
        if result.valid:
            console.print(f"[green]valid[/green]: output {_dims(result.output_size)}")
        else:
            console.print(f"[red]invalid[/red]: {result.error.message}")

    _run(
        url,
        as_json,
        lambda client: client.shape(
            size(input_size),
            kernel_size,
            stride=stride,
            padding=padding,
            output_padding=output_padding,
            dilation=dilation,
        ),
        render,
    )


@app.command()
def invert(
    input_size: Annotated[str, typer.Argument(help="The encoder's input size.")],
    conv: Annotated[
        list[str], typer.Option(help="An encoder Conv layer kernel,stride,padding[,dilation]; repeat.")
    ],
    url: UrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """The decoder that undoes an encoder exactly (sizes, output_padding per layer).

    Example: tconv invert 572 --conv 3,2,1 --conv 3,2,1
    """
    names = ["kernel_size", "stride", "padding", "dilation"]
    layers = [dict(zip(names, (int(v) for v in c.split(",")), strict=False)) for c in conv]

    def render(result: Any) -> None:
        console.print("encoder sizes: " + " → ".join(_dims(s) for s in result.sizes))
        if not result.valid:
            console.print(f"[red]invalid[/red]: {result.error.message}")
            return
        for snippet, out in zip(result.snippets, result.decoder_sizes, strict=True):
            console.print(f"{snippet}  → {_dims(out)}")
        if result.exact_input_sizes:
            exact = result.exact_input_sizes
            console.print(f"exact input sizes: below {exact.below}, above {exact.above}")

    _run(url, as_json, lambda client: client.invert(size(input_size), layers), render)


@app.command()
def plan(
    input_size: Annotated[str, typer.Argument(help="Input size.")],
    output_size: Annotated[str, typer.Argument(help="Output size.")],
    layers: Annotated[str | None, typer.Option(help="Layer count: 4 or 3..6.")] = None,
    channels: Annotated[str | None, typer.Option(help="Channel schedule, e.g. 512,256,128,64,3.")] = None,
    objective: Annotated[str | None, typer.Option(help="balanced, quality, cost, conventional.")] = None,
    limit: Annotated[int, typer.Option(help="How many plans.")] = 5,
    url: UrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Stacks of layers from INPUT_SIZE to OUTPUT_SIZE, best first.

    Example: tconv plan 4 64 --layers 4 --channels 512,256,128,64,3
    """
    schedule = [int(c) for c in channels.split(",")] if channels else None

    def render(result: Any) -> None:
        console.print(f"{result.total:,} plans")
        table = Table("rank", "sizes", "score", "MACs")
        for p in result.plans:
            table.add_row(
                str(p.rank), " → ".join(_dims(s) for s in p.sizes), str(p.score), f"{p.cost.macs:,}"
            )
        console.print(table)
        if result.best:
            console.print(result.best.snippet)

    _run(
        url,
        as_json,
        lambda client: client.plan(
            size(input_size),
            size(output_size),
            layers=bound(layers),
            channels=schedule,
            objective=objective,
            limit=limit,
        ),
        render,
    )


@app.command()
def verify(
    input_size: Annotated[str, typer.Argument(help="Input size.")],
    layer: Annotated[
        list[str], typer.Option(help="kernel,stride,padding[,output_padding[,dilation]]; repeat.")
    ],
    device: Annotated[str, typer.Option(help="auto, cuda, cpu or meta.")] = "auto",
    timing: Annotated[bool, typer.Option(help="Measure latency.")] = False,
    url: UrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Build the layers in real PyTorch on the server and report what happened.

    Example: tconv verify 7 --layer 4,2,1 --layer 3,2,1,1 --timing
    """

    def render(result: Any) -> None:
        table = Table("layer", "status", "output", "latency ms", "error")
        for text, r in zip(layer, result.results, strict=True):
            latency = f"{r.latency_ms:.3f}" if r.latency_ms is not None else ""
            output = _dims(r.output_size) if r.output_size else ""
            table.add_row(text, r.status, output, latency, r.error or "")
        console.print(table)
        console.print(f"device: {result.device_name or result.device} · torch {result.torch_version}")

    _run(
        url,
        as_json,
        lambda client: client.verify(
            size(input_size), [layer_arg(t) for t in layer], device=device, timing=timing
        ),
        render,
    )


@app.command()
def info(url: UrlOption = None, as_json: JsonOption = False) -> None:
    """The server's version, limits, objectives and verification worker."""

    def render(result: Any) -> None:
        console.print(f"tconv {result.version} (API {result.api_version})")
        for objective in result.objectives:
            mark = "" if objective.available else " [dim](unavailable)[/dim]"
            console.print(f"  {objective.name}{mark}: {objective.description}")
        console.print(f"verification: {result.verification}")

    _run(url, as_json, lambda client: client.info(), render)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
