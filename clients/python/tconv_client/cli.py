"""The ``tconv`` entry point. The command line needs the ``cli`` extra; without it, ``tconv``
says how to install it instead of failing with an ImportError (httpx's ``_main`` pattern)."""

from __future__ import annotations

import sys

INSTALL_HINT = (
    "The tconv command line needs typer and rich, which the plain client does not install.\n"
    "Install them with: pip install 'tconv-client[cli]'"
)


def main() -> None:
    try:
        from tconv_client._cli import main as run
    except ImportError as exc:
        if exc.name not in {"typer", "rich", "click"}:
            raise
        print(f"{INSTALL_HINT}\n(missing: {exc.name})", file=sys.stderr)
        sys.exit(1)
    run()


if __name__ == "__main__":
    main()
