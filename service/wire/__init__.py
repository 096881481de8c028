"""The wire contract: pydantic models of every request and answer (both views) and the error
body, the one source of /openapi.json. Imports pydantic and the solver's limits only; the API
and the worker both stand on it."""
