"""Fuzz the API with Schemathesis: every operation of /openapi.json, every check, positive and
negative data, a bounded number of examples. Any finding fails (exit 1).

    .venv/bin/python scripts/fuzz.py             # what `make fuzz` runs (about a minute)
    FUZZ_EXAMPLES=200 .venv/bin/python scripts/fuzz.py

The API runs as a real process on a free 127.0.0.1 port, with an API key, with verification off: /v1/verify's
validation is fuzzed, not torch (a fuzzed layer can take minutes of CPU). The built-in
``positive_data_acceptance`` is replaced by tests/fuzz/checks.py's narrower
``schema_valid_is_answered`` (see there why).
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.integration.conftest import free_port, start, stop  # noqa: E402


def main() -> int:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    # With a key configured, so that `ignored_auth` checks every /v1/ operation refuses a caller
    # without one.
    key = secrets.token_hex(16)
    env = {"TCONV_VERIFY_MODE": "off", "TCONV_LOG_LEVEL": "warning", "TCONV_API_KEYS": key}
    api = start(["-m", "service", "--host", "127.0.0.1", "--port", str(port)], url, env=env)
    try:
        command = [
            str(Path(sys.executable).with_name("st")),
            "run",
            f"{url}/openapi.json",
            "--checks=all",
            "--exclude-checks=positive_data_acceptance",
            "--mode=all",
            f"--max-examples={os.environ.get('FUZZ_EXAMPLES', '100')}",
            f"--seed={os.environ.get('FUZZ_SEED', '20261203')}",
            "--workers=1",
            "--request-timeout=30",
            "--generation-database=none",  # no .schemathesis/ directory
            "--no-color",
            f"--header=Authorization: Bearer {key}",
        ]
        fuzz_env = {**os.environ, "SCHEMATHESIS_HOOKS": "tests.fuzz.checks", "PYTHONPATH": str(ROOT)}
        return subprocess.run(command, cwd=ROOT, env=fuzz_env, check=False, timeout=600).returncode
    finally:
        stop(api)


if __name__ == "__main__":
    sys.exit(main())
