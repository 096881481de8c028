"""The Python client as a new user installs it: ``pip install clients/python`` (no extras) in a
fresh virtualenv. Its results are typed for mypy (py.typed ships), importing it pulls in neither
typer nor rich, and ``tconv`` without the ``cli`` extra says what to install.

Needs the package registry (pip). Without it the tests skip loudly here and fail under CI.
"""

from __future__ import annotations

import os
import subprocess
import venv
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
USER_CODE = Path(__file__).resolve().parent / "user_code"


def run(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(a) for a in args], capture_output=True, text=True, timeout=600, check=False, cwd=cwd
    )


@pytest.fixture(scope="module")
def fresh(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fresh virtualenv's bin/ directory, with the client (no extras) and mypy installed."""
    env = tmp_path_factory.mktemp("fresh") / "venv"
    venv.create(env, with_pip=True)
    installed = run(env / "bin" / "python", "-m", "pip", "install", "-q", ROOT / "clients" / "python", "mypy")
    if installed.returncode != 0:
        message = f"cannot install the client into a fresh virtualenv: {installed.stderr[-2000:]}"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(f"SKIPPED LOUDLY: {message}")
    return env / "bin"


def test_the_plain_install_has_py_typed_and_no_cli_dependencies(fresh: Path) -> None:
    probe = (
        "import importlib.util, pathlib, sys, tconv_client;"
        "print(pathlib.Path(tconv_client.__file__).with_name('py.typed').is_file());"
        "print(sorted(m for m in ('typer', 'rich', 'click') if m in sys.modules));"
        "print([m for m in ('typer', 'rich') if importlib.util.find_spec(m)])"
    )
    result = run(fresh / "python", "-c", probe)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[:3] == ["True", "[]", "[]"]
    # The package came from the wheel, not this checkout.
    where = run(fresh / "python", "-c", "import tconv_client; print(tconv_client.__file__)")
    assert "site-packages" in where.stdout


def test_tconv_without_the_cli_extra_says_what_to_install(fresh: Path) -> None:
    result = run(fresh / "tconv", "--help")
    assert result.returncode == 1
    assert "pip install 'tconv-client[cli]'" in result.stderr


def test_mypy_strict_types_a_users_results_with_no_any(fresh: Path, tmp_path: Path) -> None:
    checked = run(
        fresh / "mypy",
        "--strict",
        "--disallow-any-expr",
        "--no-incremental",
        USER_CODE / "typed_user_script.py",
        cwd=tmp_path,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    # The control: without typed results this mistake would pass as Any.
    mistaken = run(
        fresh / "mypy", "--strict", "--no-incremental", USER_CODE / "mistyped_user_script.py", cwd=tmp_path
    )
    assert mistaken.returncode == 1
    assert 'expression has type "int", variable has type "str"' in mistaken.stdout


def test_the_readme_examples_type_check(fresh: Path, tmp_path: Path) -> None:
    from tests.integration.test_python_sdk import readme_examples

    names = []
    for i, code in enumerate(readme_examples()):
        (tmp_path / f"readme_example_{i}.py").write_text(code)
        names.append(f"readme_example_{i}.py")
    checked = run(fresh / "mypy", "--strict", "--no-incremental", *names, cwd=tmp_path)
    assert checked.returncode == 0, checked.stdout + checked.stderr
