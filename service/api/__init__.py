"""The HTTP API: FastAPI app factory, wire schemas, routes. Imports torch only via the worker."""
