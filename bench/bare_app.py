"""A bare one-route FastAPI app: the floor /healthz is compared with (issue 13). Served by
uvicorn with no access log: ``uvicorn bench.bare_app:app --no-access-log``."""

from fastapi import FastAPI

app = FastAPI()


@app.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}
