// A small typed wrapper over fetch. Types come from src/schema.gen.ts, generated from the
// service's OpenAPI schema (clients/openapi.json) by `npm run generate`: one source of truth.
import type { components } from "./schema.gen.js";

export type Schemas = components["schemas"];
export type ShapeRequest = Schemas["ShapeRequest"];
export type ShapeResponse = Schemas["ShapeResponse"];
export type SearchRequest = Schemas["SearchRequest"];
export type SearchResponse = Schemas["SearchResponse"];
export type Candidate = Schemas["CandidateOut"];
export type Layer = Schemas["LayerOut"];
export type InvertRequest = Schemas["InvertRequest"];
export type InvertResponse = Schemas["InvertResponse"];
export type PlanRequest = Schemas["PlanRequest"];
export type PlanResponse = Schemas["PlanResponse"];
export type VerifyRequest = Schemas["VerifyRequest"];
export type VerifyResponse = Schemas["VerifyResponse"];
export type InfoResponse = Schemas["InfoResponse"];
export type ErrorBody = Schemas["ErrorBody"];

// Every endpoint is a pure function of its request, so retrying is always safe.
const RETRY_STATUSES = new Set([408, 429, 500, 502, 503, 504]);

export interface ClientOptions {
  baseUrl?: string;
  apiKey?: string;
  timeoutMs?: number;
  maxRetries?: number;
  fetch?: typeof fetch;
}

/** A 4xx/5xx answer; `code` and `message` come from the server's error body. */
export class TconvError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly body: unknown,
  ) {
    super(`${status} ${code}: ${message}`);
    this.name = "TconvError";
  }
}

/** The server could not be reached (after retries) or did not answer in time. */
export class TconvConnectionError extends Error {
  constructor(message: string, readonly cause?: unknown) {
    super(message);
    this.name = "TconvConnectionError";
  }
}

export class TconvClient {
  readonly baseUrl: string;
  private readonly apiKey?: string;
  private readonly timeoutMs: number;
  private readonly maxRetries: number;
  private readonly fetchImpl: typeof fetch;

  constructor(options: ClientOptions = {}) {
    const env = typeof process !== "undefined" ? process.env : {};
    this.baseUrl = (options.baseUrl ?? env.TCONV_URL ?? "http://127.0.0.1:8000").replace(/\/+$/, "");
    this.apiKey = options.apiKey ?? env.TCONV_API_KEY;
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.maxRetries = options.maxRetries ?? 3;
    this.fetchImpl = options.fetch ?? fetch;
  }

  shape(request: ShapeRequest): Promise<ShapeResponse> {
    return this.request("POST", "/v1/shape", request);
  }

  search(request: SearchRequest): Promise<SearchResponse> {
    return this.request("POST", "/v1/search", request);
  }

  /** The best candidate, or undefined when nothing fits. */
  async best(request: SearchRequest): Promise<Candidate | undefined> {
    return (await this.search({ ...request, limit: 1, offset: 0 })).candidates[0];
  }

  invert(request: InvertRequest): Promise<InvertResponse> {
    return this.request("POST", "/v1/invert", request);
  }

  plan(request: PlanRequest): Promise<PlanResponse> {
    return this.request("POST", "/v1/plan", request);
  }

  verify(request: VerifyRequest): Promise<VerifyResponse> {
    return this.request("POST", "/v1/verify", request);
  }

  info(): Promise<InfoResponse> {
    return this.request("GET", "/v1/info");
  }

  private async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      let response: Response;
      try {
        response = await this.fetchImpl(`${this.baseUrl}${path}`, {
          method,
          headers: {
            "content-type": "application/json",
            accept: "application/json",
            ...(this.apiKey ? { authorization: `Bearer ${this.apiKey}` } : {}),
          },
          body: body === undefined ? undefined : JSON.stringify(body),
          signal: AbortSignal.timeout(this.timeoutMs),
        });
      } catch (error) {
        if (attempt >= this.maxRetries) {
          throw new TconvConnectionError(`${method} ${path}: cannot reach ${this.baseUrl}`, error);
        }
        await sleep(backoffMs(attempt));
        continue;
      }
      if (response.ok) return (await response.json()) as T;
      if (RETRY_STATUSES.has(response.status) && attempt < this.maxRetries) {
        const retryAfter = Number(response.headers.get("retry-after"));
        await sleep(Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : backoffMs(attempt));
        continue;
      }
      const payload: unknown = await response.json().catch(() => undefined);
      const error = (payload as { error?: ErrorBody } | undefined)?.error;
      throw new TconvError(response.status, error?.code ?? "http_error", error?.message ?? response.statusText, payload);
    }
  }
}

function backoffMs(attempt: number): number {
  const base = Math.min(250 * 2 ** attempt, 8_000);
  return base * (0.75 + Math.random() / 2);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
