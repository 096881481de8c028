"""The TypeScript client: its generated types are current, node's test runner passes against a
real service process on 127.0.0.1, and a fresh Node project installs the packed tarball and runs
the README's examples (compiled with strict tsc against the installed types)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import httpx
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
        if os.environ.get("CI") == "true":
            pytest.fail("npm is not installed, so the TypeScript client cannot be tested")
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


def fresh_project(where: Path) -> Path:
    where.mkdir()
    (where / "package.json").write_text(json.dumps({"name": "fresh", "private": True, "type": "module"}))
    return where


def test_a_fresh_project_installs_a_clean_checkout_by_path(installed: None, tmp_path: Path) -> None:
    # A copy of what git tracks: no node_modules/ and no dist/ to hide a package that does not
    # build itself (`prepare` installs its dev dependencies from the lockfile, then builds).
    checkout = tmp_path / "typescript"
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=PACKAGE, capture_output=True, text=True, check=True
    ).stdout.split()
    for name in tracked:
        (checkout / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(PACKAGE / name, checkout / name)
    project = fresh_project(tmp_path / "fresh")
    install = subprocess.run(
        ["npm", "install", "--no-audit", "--no-fund", str(checkout)],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert install.returncode == 0, install.stderr
    probe = 'import { TconvClient, TconvError } from "@tconv/client";'
    probe += "console.log(typeof TconvClient, typeof TconvError);"
    imported = subprocess.run(
        ["node", "--input-type=module", "-e", probe], cwd=project, capture_output=True, text=True, timeout=60
    )
    assert imported.stdout.strip() == "function function", imported.stderr


def readme_examples() -> list[str]:
    return re.findall(r"^```ts\n(.*?)^```", (PACKAGE / "README.md").read_text(), flags=re.M | re.S)


def test_a_fresh_project_installs_the_tarball_and_runs_the_readme(
    installed: None, service_url: str, tmp_path: Path
) -> None:
    packed = npm("pack", "--pack-destination", str(tmp_path))  # `prepare` builds dist/ first
    assert packed.returncode == 0, packed.stderr
    (tarball,) = tmp_path.glob("*.tgz")
    project = fresh_project(tmp_path / "fresh")
    install = subprocess.run(
        ["npm", "install", "--no-audit", "--no-fund", str(tarball)],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert install.returncode == 0, install.stderr
    contents = {p.name for p in (project / "node_modules" / "@tconv" / "client" / "dist").iterdir()}
    assert {"index.js", "index.d.ts", "client.js", "errors.js"} <= contents

    examples = readme_examples()
    assert len(examples) >= 5
    schema = httpx.get(f"{service_url}/openapi.json").json()
    # Examples that choose a view run once the server has views (issue #13); they still compile.
    has_views = "view" in schema["components"]["schemas"]["ShapeRequest"]["properties"]
    names = []
    for i, code in enumerate(examples):
        (project / f"example{i}.ts").write_text(code + "\nexport {};\n")
        names.append(f"example{i}.ts")
    tsc = PACKAGE / "node_modules" / ".bin" / "tsc"
    flags = ["--strict", "--module", "nodenext", "--moduleResolution", "nodenext", "--target", "es2022"]
    compiled = subprocess.run(
        [str(tsc), *flags, "--lib", "es2022,dom", "--outDir", "out", *names],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert compiled.returncode == 0, compiled.stdout + compiled.stderr
    ran = 0
    for i, code in enumerate(examples):
        if "view:" in code and not has_views:
            continue
        result = subprocess.run(
            ["node", f"out/example{i}.js"],
            cwd=project,
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, "TCONV_URL": service_url},
        )
        assert result.returncode == 0, f"README example {i}:\n{code}\n{result.stderr}"
        printed = result.stdout.splitlines()
        for expected in printed_comments(code):
            assert expected in printed, f"README example {i} promises {expected!r}; it printed {printed}"
        ran += 1
    assert ran >= 5


def printed_comments(code: str) -> list[str]:
    """What a README example says it prints: a `// ...` comment on a console.log line or the next."""
    lines = code.splitlines()
    promised = []
    for i, line in enumerate(lines):
        if "console.log(" not in line:
            continue
        if "; // " in line:
            promised.append(line.split("; // ", 1)[1])
        elif i + 1 < len(lines) and lines[i + 1].strip().startswith("// "):
            promised.append(lines[i + 1].strip()[3:])
    return promised


def test_readme_promises_are_read() -> None:
    assert "15 nn.ConvTranspose2d(1, 1, kernel_size=2, stride=2)" in printed_comments(readme_examples()[0])
    assert "true [ 14, 14 ]" in printed_comments(readme_examples()[0])
