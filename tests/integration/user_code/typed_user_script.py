"""A user's script: every result is typed, nothing is Any (mypy --strict --disallow-any-expr).

Type-checked, not run, by tests/integration/test_python_package.py in a fresh virtualenv.
"""

import asyncio
from typing import assert_type

from tconv_client import (
    AsyncClient,
    BatchError,
    Candidate,
    CandidateBasic,
    Client,
    InvertResult,
    PlanResult,
    SearchBasic,
    SearchResult,
    ShapeBasic,
    ShapeQuery,
    ShapeResult,
    UnprocessableEntityError,
)
from tconv_client.types import Info, PlanResultBasic, VerifyResult


def main() -> None:
    with Client() as client:
        result = client.search(7, 14, limit=5, objective="quality", kernel_size={"min": 2, "max": 4})
        assert_type(result, SearchResult)
        assert_type(result.best, Candidate | None)
        if result.best is not None:
            snippet: str = result.best.snippet
            macs: int = result.best.cost.macs
            holes: int = result.best.overlap.dims[0].holes
            print(snippet, macs, holes, result.best.layer.kernel_size[0] + 1)
        basic = client.search(7, 14, view="basic")
        assert_type(basic, SearchBasic)
        assert_type(basic.best, CandidateBasic | None)
        shape = client.shape(7, 4, stride=2, padding=1)
        assert_type(shape, ShapeResult)
        if shape.error is not None:
            print(shape.error.code, shape.error.message, shape.error.dim)
        assert_type(client.shape(7, 4, view="basic"), ShapeBasic)
        assert_type(client.plan(4, 64, layers=4, channels=[512, 256, 128, 64, 3]), PlanResult)
        assert_type(client.plan(4, 64, view="basic"), PlanResultBasic)
        assert_type(client.invert(64, [{"kernel_size": 3, "stride": 2, "padding": 1}]), InvertResult)
        verified = client.verify(7, [{"kernel_size": 4, "stride": 2, "padding": 1}], device="cpu")
        assert_type(verified, VerifyResult)
        latency: float | None = verified.results[0].latency_ms
        info = client.info()
        assert_type(info, Info)
        print(latency, info.verification.available, info.limits["max_limit"])
        queries: list[ShapeQuery] = [{"input_size": n, "kernel_size": 4, "stride": 2} for n in range(1, 100)]
        for answer in client.shape_many(queries, batch_size=50):
            assert_type(answer, ShapeBasic | BatchError)
            if isinstance(answer, BatchError):
                print(answer.error.code, answer.error.message)
            elif answer.valid and answer.output_size is not None:
                print(sum(answer.output_size))
        for found in client.search_many([{"input_size": 7, "output_size": 14}], view="full"):
            assert_type(found, SearchResult | BatchError)
        for candidate in client.iter_candidates(7, 14, page_size=4):
            assert_type(candidate, Candidate)
        try:
            client.search(7, 14, kernel_size=0)
        except UnprocessableEntityError as exc:
            field: str | None = exc.details[0]["field"]
            print(exc.status_code, exc.code, exc.message, exc.request_id, field)


async def amain() -> None:
    async with AsyncClient() as client:
        result = await client.search(7, 14)
        assert_type(result, SearchResult)
        async for answer in client.shape_many([{"input_size": 7, "kernel_size": 4}]):
            assert_type(answer, ShapeBasic | BatchError)


if __name__ == "__main__":
    main()
    asyncio.run(amain())
