"""The TypeScript client: its generated types are current, and node's test runner passes against a
real service process on 127.0.0.1."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

PACKAGE = Path(__file__).resolve().parents[2] / "clients" / "typescript"


def npm(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["npm", *args],
        cwd=PACKAGE,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **(env or {})},
    )


@pytest.fixture(scope="module")
def installed() -> None:
    if shutil.which("npm") is None:
        pytest.skip("SKIPPED LOUDLY: npm is not installed, so the TypeScript client is not tested here")
    if not (PACKAGE / "node_modules").exists():
        result = npm("ci", "--no-audit", "--no-fund")
        assert result.returncode == 0, result.stderr


def test_generated_types_match_the_schema(installed: None, tmp_path: Path) -> None:
    fresh = tmp_path / "schema.gen.ts"
    result = subprocess.run(
        ["npx", "openapi-typescript", "../openapi.json", "--default-non-nullable", "false", "-o", str(fresh)],
        cwd=PACKAGE,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert fresh.read_text() == (PACKAGE / "src" / "schema.gen.ts").read_text(), (
        "clients/typescript/src/schema.gen.ts is stale: run `npm run generate` in clients/typescript"
    )


def test_node_tests_pass_against_the_service(installed: None, service_url: str) -> None:
    result = npm("test", env={"TCONV_URL": service_url})
    assert result.returncode == 0, result.stdout + result.stderr
    assert "# fail 0" in result.stdout
