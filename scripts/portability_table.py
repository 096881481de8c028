"""Measure which PyTorch-valid layers port exactly to ONNX, JAX and Keras, and write the table into
docs/portability.md (between its ``table`` markers).

.venv/bin/python scripts/portability_table.py            # measure (a few minutes) and rewrite the table
.venv/bin/python scripts/portability_table.py --print    # measure and print it only

Every layer of the stated space runs in PyTorch (CPU) and in each runtime through
``service.targets`` with PyTorch's weights; a layer ports when the runtime gives the same size and
values (1e-4). The runtimes' refusals are grouped by their own message (numbers blanked); the
count of layers where ``solver.portability``'s verdict disagrees with the run is reported too
(it must be 0).
"""

from __future__ import annotations

import importlib.metadata
import os
import random
import re
import sys
from collections import Counter
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "jax")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from service.solver.params import DimParams  # noqa: E402
from service.solver.portability import TARGETS, verdict  # noqa: E402
from service.solver.sizes import forward_size  # noqa: E402
from service.targets import RUNNERS, TargetRefusedError  # noqa: E402

DOC = ROOT / "docs" / "portability.md"
START, END = "<!-- table:start -->", "<!-- table:end -->"
MODULES = {1: torch.nn.ConvTranspose1d, 2: torch.nn.ConvTranspose2d}
INPUT = 4
KERNELS, STRIDES, DILATIONS = range(1, 6), range(1, 4), range(1, 4)
SAMPLE_2D = 300


def dim_options() -> list[DimParams]:
    """Kernel 1-5, stride 1-3, dilation 1-3, padding 0..d(k-1), every legal output_padding,
    with an output of at least 1 from an input of 4."""
    options = [
        DimParams(k, s, d, p, op)
        for k in KERNELS
        for s in STRIDES
        for d in DILATIONS
        for p in range(d * (k - 1) + 1)
        for op in range(max(s, d))
    ]
    return [
        o
        for o in options
        if forward_size(
            INPUT,
            kernel_size=o.kernel_size,
            stride=o.stride,
            padding=o.padding,
            output_padding=o.output_padding,
            dilation=o.dilation,
        )
        >= 1
    ]


def run(layer: tuple[DimParams, ...], target: str) -> str | None:
    """None when the target reproduces PyTorch, else the runtime's refusal (numbers blanked)."""
    generator = torch.Generator().manual_seed(0)
    module = MODULES[len(layer)](
        2,
        2,
        [p.kernel_size for p in layer],
        stride=[p.stride for p in layer],
        padding=[p.padding for p in layer],
        output_padding=[p.output_padding for p in layer],
        dilation=[p.dilation for p in layer],
    )
    x = torch.randn(1, 2, *([INPUT] * len(layer)), generator=generator)
    with torch.no_grad():
        truth = module(x).numpy()
    try:
        got = RUNNERS[target](
            layer, x.numpy(), module.weight.detach().numpy(), module.bias.detach().numpy(), groups=1
        )
    except TargetRefusedError as exc:
        # onnxruntime's useful words follow "Status Message:"; Keras's first sentence says it all.
        text = str(exc).split("Status Message: ")[-1]
        for tail in (". Expected", ". At dimension", ". Received"):
            text = text.split(tail)[0]
        return re.sub(r"\d+", "N", text)
    if got.shape != truth.shape:
        return f"different size ({list(got.shape[2:])} for {list(truth.shape[2:])})"
    if not np.allclose(got, truth, rtol=1e-4, atol=1e-4):
        return f"different values (up to {float(np.abs(got - truth).max()):.2g})"
    return None


def rules_of(reason: str) -> set[str]:
    """The distinct rules in a verdict's reason, without the layer's numbers (one count per layer
    and rule): each part's text up to its details."""
    return {re.split(r": | \(", re.sub(r"^dim \d+: ", "", part))[0] for part in reason.split("; ")}


def measure(layers: list[tuple[DimParams, ...]]) -> dict[str, tuple[int, Counter[str], Counter[str], int]]:
    out = {}
    for target in TARGETS:
        exact, said, rules, disagreements = 0, Counter[str](), Counter[str](), 0
        for layer in layers:
            refusal = run(layer, target)
            expected = verdict(target, layer)
            if refusal is None:
                exact += 1
            else:
                said[refusal] += 1
            if expected.reason is not None:
                rules.update(rules_of(expected.reason))
            disagreements += (refusal is None) != (expected.status == "exact")
        out[target] = (exact, rules, said, disagreements)
    return out


def table() -> str:
    options = dim_options()
    one_d = [(option,) for option in options]
    rng = random.Random(0)
    two_d = [(rng.choice(options), rng.choice(options)) for _ in range(SAMPLE_2D)]
    versions = ", ".join(
        f"{name} {importlib.metadata.version(name)}"
        for name in ("torch", "onnxruntime", "onnx", "jax", "keras")
    )
    lines = [
        f"Measured with {versions} (Keras on the JAX backend); CPU, float32, groups 1.",
        "Space: every PyTorch-valid 1-D layer with kernel 1-5, stride 1-3, dilation 1-3, padding",
        f"0..dilation·(kernel−1) and every legal output_padding, on an input of {INPUT}",
        f"({len(one_d)} layers);",
        f"and {SAMPLE_2D} 2-D layers whose two dimensions are drawn from it independently (seed 0).",
        "*Rules*: tconv's reasons (a layer may break several); *runtime*: what the runtime said when it",
        "ran the layer (numbers as N). *Verdict ≠ run*: layers where tconv's verdict and the run disagree.",
        "",
        "| space | target | exact | share | refusing rules (layers) | runtime (layers) | verdict ≠ run |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, layers in (("1-D", one_d), ("2-D", two_d)):
        for target, (exact, rules, said, disagreements) in measure(layers).items():
            rule_text = "<br>".join(f"{text} ({count})" for text, count in rules.most_common()) or "none"
            # Double backticks: the runtimes' words hold backticks of their own.
            said_text = "<br>".join(f"`` {text} `` ({count})" for text, count in said.most_common()) or "none"
            lines.append(
                f"| {name} | {target} | {exact} / {len(layers)} | {100 * exact / len(layers):.1f} % | "
                f"{rule_text} | {said_text} | {disagreements} |"
            )
    return "\n".join(lines)


def main() -> int:
    text = table()
    if "--print" in sys.argv:
        print(text)
        return 0
    doc = DOC.read_text()
    head, _, rest = doc.partition(START)
    _, _, tail = rest.partition(END)
    DOC.write_text(f"{head}{START}\n{text}\n{END}{tail}")
    print(f"wrote the table in {DOC.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
