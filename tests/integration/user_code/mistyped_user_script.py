"""A mistake mypy catches only when the package ships py.typed (else every result is Any)."""

from tconv_client import Client


def main() -> None:
    with Client() as client:
        total: str = client.search(7, 14).total
        print(total)
