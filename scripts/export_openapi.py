"""Write the service's OpenAPI schema to clients/openapi.json: the one file the clients build from.

.venv/bin/python scripts/export_openapi.py          # rewrite it
.venv/bin/python scripts/export_openapi.py --check  # exit 1 when it is stale (CI)
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET = ROOT / "clients" / "openapi.json"


def current_schema() -> str:
    sys.path.insert(0, str(ROOT))
    from service.api.config import Settings
    from service.api.main import create_app

    # Verification off: the schema does not depend on it, and exporting must not load torch.
    schema = create_app(Settings(verify_mode="off")).openapi()
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


def main() -> int:
    text = current_schema()
    if "--check" in sys.argv:
        if not TARGET.exists() or TARGET.read_text() != text:
            print(f"{TARGET.relative_to(ROOT)} is stale: run scripts/export_openapi.py", file=sys.stderr)
            return 1
        return 0
    TARGET.write_text(text)
    print(f"wrote {TARGET.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
