"""Draw the README's and guides' pictures with the service's own GET /v1/overlap.svg into docs/img/.

.venv/bin/python scripts/make_pictures.py          # (re)draw them (also: make pictures)
.venv/bin/python scripts/make_pictures.py --check  # exit 1 when one is stale

tests/api/test_pictures.py runs the check, so a change to the drawing shows up as stale pictures.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET = ROOT / "docs" / "img"

# file name -> the query, exactly as a reader would type it after /v1/overlap.svg?
PICTURES = {
    # README: the two stride-2 layers for 7 -> 14, side by side.
    "overlap-7-k3-s2.svg": "input_size=7&kernel_size=3&stride=2&padding=1&output_padding=1",
    "overlap-7-k4-s2.svg": "input_size=7&kernel_size=4&stride=2&padding=1",
    # guide-sizes.md
    "stride1-k3.svg": "input_size=4,&kernel_size=3&stride=1&diagram=true",
    "stride1-k3-p1.svg": "input_size=4,&kernel_size=3&stride=1&padding=1&diagram=true",
    "stride2-k3-op0.svg": "input_size=4,&kernel_size=3&stride=2&padding=1&diagram=true",
    "stride2-k3-op1.svg": "input_size=4,&kernel_size=3&stride=2&padding=1&output_padding=1&diagram=true",
    "seed-experiment.svg": "input_size=2&kernel_size=2&stride=2&padding=1&diagram=true",
    "stride2-k4-p1.svg": "input_size=8,&kernel_size=4&stride=2&padding=1&diagram=true",
    "stride2-k1-holes.svg": "input_size=6,&kernel_size=1&stride=2&diagram=true",
}


def draw() -> dict[str, str]:
    sys.path.insert(0, str(ROOT))
    from fastapi.testclient import TestClient

    from service.api.config import Settings
    from service.api.main import create_app

    # Verification off: pictures do not depend on it, and drawing must not load torch.
    with TestClient(create_app(Settings(verify_mode="off"))) as client:
        drawn = {}
        for name, query in PICTURES.items():
            response = client.get(f"/v1/overlap.svg?{query}")
            response.raise_for_status()
            drawn[name] = response.text
        return drawn


def main() -> int:
    drawn = draw()
    if "--check" in sys.argv:
        stale = [name for name, svg in drawn.items() if (TARGET / name).read_text(encoding="utf-8") != svg]
        for name in stale:
            print(f"docs/img/{name} is stale: run scripts/make_pictures.py", file=sys.stderr)
        return 1 if stale else 0
    TARGET.mkdir(parents=True, exist_ok=True)
    for name, svg in drawn.items():
        (TARGET / name).write_text(svg, encoding="utf-8")
        print(f"wrote docs/img/{name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
