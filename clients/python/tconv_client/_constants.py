"""Defaults for timeouts, retries and backoff."""

DEFAULT_BASE_URL = "http://127.0.0.1:8000"
DEFAULT_TIMEOUT_S = 30.0
DEFAULT_CONNECT_TIMEOUT_S = 5.0
DEFAULT_MAX_RETRIES = 3
INITIAL_RETRY_DELAY_S = 0.25
# Also the cap on a server's Retry-After: past it, the caller hears about the overload instead.
MAX_RETRY_DELAY_S = 8.0
# The server turned the request away without running it: safe to re-send, after Retry-After.
THROTTLE_STATUSES = frozenset({429, 503})
# The request may have run: re-sent for idempotent endpoints only.
RETRY_STATUSES = frozenset({408, 500, 502, 504})
