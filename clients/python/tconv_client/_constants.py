"""Defaults for timeouts, retries and backoff (every endpoint is a pure function: retrying is safe)."""

DEFAULT_BASE_URL = "http://127.0.0.1:8000"
DEFAULT_TIMEOUT_S = 30.0
DEFAULT_CONNECT_TIMEOUT_S = 5.0
DEFAULT_MAX_RETRIES = 3
INITIAL_RETRY_DELAY_S = 0.25
MAX_RETRY_DELAY_S = 8.0
RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
