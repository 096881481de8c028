// Errors as typed classes: `instanceof` picks the case, `status`, `code` and `requestId` say
// what happened and where to look in the server's logs.
import type { components } from "./schema.gen.js";

export type ErrorBody = components["schemas"]["ErrorBody"];
export type ErrorDetail = components["schemas"]["ErrorDetail"];

/** The server answered 4xx/5xx; `code` and `message` come from its error body. */
export class TconvError extends Error {
  readonly status: number;
  readonly code: string;
  /** The server's x-request-id: quote it in a bug report. */
  readonly requestId: string | undefined;
  /** For a 422: each refused field, the rule it broke, and why. */
  readonly details: ErrorDetail[];
  readonly body: unknown;

  constructor(status: number, code: string, message: string, options: {
    requestId?: string;
    details?: ErrorDetail[];
    body?: unknown;
  } = {}) {
    super(`${status} ${code}: ${message}`);
    this.name = new.target.name;
    this.status = status;
    this.code = code;
    this.requestId = options.requestId;
    this.details = options.details ?? [];
    this.body = options.body;
  }
}

export class BadRequestError extends TconvError {}
/** 401: no API key, or a wrong one (`apiKey` or TCONV_API_KEY). */
export class AuthenticationError extends TconvError {}
export class NotFoundError extends TconvError {}
/** 422: a field out of its domain, a search space over budget, ... (see `details`). */
export class UnprocessableEntityError extends TconvError {}
export class RateLimitError extends TconvError {}
/** 503: e.g. the verification worker's queue is full. */
export class ServiceUnavailableError extends TconvError {}
export class InternalServerError extends TconvError {}

/** The server could not be reached (after retries). */
export class TconvConnectionError extends Error {
  override readonly cause: unknown;

  constructor(message: string, cause?: unknown) {
    super(message);
    this.name = new.target.name;
    this.cause = cause;
  }
}

/** The server did not answer in time (`timeoutMs`). */
export class TconvTimeoutError extends TconvConnectionError {}

const BY_STATUS: Record<number, typeof TconvError> = {
  400: BadRequestError,
  401: AuthenticationError,
  404: NotFoundError,
  422: UnprocessableEntityError,
  429: RateLimitError,
  503: ServiceUnavailableError,
};

export function errorFromResponse(response: Response, payload: { error?: ErrorBody } | undefined): TconvError {
  const kind = BY_STATUS[response.status] ?? (response.status >= 500 ? InternalServerError : TconvError);
  const error = payload?.error;
  return new kind(response.status, error?.code ?? "http_error", error?.message ?? response.statusText, {
    requestId: response.headers.get("x-request-id") ?? undefined,
    details: error?.details ?? [],
    body: payload,
  });
}
