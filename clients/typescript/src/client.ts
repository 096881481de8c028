// A small typed client over fetch. Wire types come from src/schema.gen.ts, generated from the
// service's OpenAPI schema (clients/openapi.json) by `npm run generate`: one source of truth.
// The basic-view types below are projections of those (the contract's "Views").
import type { components } from "./schema.gen.js";
import {
  TconvConnectionError,
  TconvTimeoutError,
  errorFromResponse,
  type ErrorBody,
} from "./errors.js";

export * from "./errors.js";

export type Schemas = components["schemas"];
export type View = "basic" | "full";
type Viewed<T> = T & { view?: View };

export type ShapeRequest = Viewed<Schemas["ShapeRequest"]>;
export type ShapeResponse = Schemas["ShapeResponse"];
export type SearchRequest = Viewed<Schemas["SearchRequest"]>;
export type SearchResponse = Schemas["SearchResponse"];
export type Candidate = Schemas["CandidateOut"];
export type Layer = Schemas["LayerOut"];
export type InvertRequest = Viewed<Schemas["InvertRequest"]>;
export type InvertResponse = Schemas["InvertResponse"];
export type PlanRequest = Viewed<Schemas["PlanRequest"]>;
export type PlanResponse = Schemas["PlanResponse"];
export type VerifyRequest = Schemas["VerifyRequest"];
export type VerifyResponse = Schemas["VerifyResponse"];
export type InfoResponse = Schemas["InfoResponse"];
export type BatchError = Schemas["BatchError"];
/** One item of a batch or bulk request: the single request, without `view` (set once per batch). */
export type ShapeQuery = Schemas["ShapeRequest"];
export type SearchQuery = Schemas["SearchRequest"];

/** The basic view's error: which rule failed, and in which dimension. */
export interface ErrorCode {
  code: string;
  dim?: number | null;
}
export interface ShapeBasic {
  valid: boolean;
  output_size: number[] | null;
  error: ErrorCode | null;
}
export interface CandidateBasic {
  rank: number;
  layer: Layer;
  output_size: number[];
  score: number;
}
export interface NearestBasic {
  direction: "below" | "above";
  output_size: number[];
  example: CandidateBasic;
}
export interface SearchBasic {
  total: number;
  candidates: CandidateBasic[];
  reason?: string | null;
  nearest?: NearestBasic[];
}
export interface PlanBasic {
  rank: number;
  layers: Layer[];
  sizes: number[][];
  score: number;
}
export interface PlanResponseBasic {
  total: number | null;
  plans: PlanBasic[];
}
export interface InvertBasic {
  sizes: number[][];
  decoder: Layer[];
  is_exact: boolean;
  exact_input_sizes?: Schemas["ExactSizesOut"] | null;
}

interface Endpoint {
  method: "GET" | "POST";
  path: string;
  // False where running a request twice has an effect (verify occupies the worker): re-sent
  // only when it surely never ran (connection refused, 429, 503) unless `retryVerify` is set.
  idempotent: boolean;
}

// Adding an endpoint: one line here and one method below.
const ENDPOINTS = {
  shape: { method: "POST", path: "/v1/shape", idempotent: true },
  shapeBatch: { method: "POST", path: "/v1/shape/batch", idempotent: true },
  search: { method: "POST", path: "/v1/search", idempotent: true },
  searchBatch: { method: "POST", path: "/v1/search/batch", idempotent: true },
  invert: { method: "POST", path: "/v1/invert", idempotent: true },
  plan: { method: "POST", path: "/v1/plan", idempotent: true },
  verify: { method: "POST", path: "/v1/verify", idempotent: false },
  info: { method: "GET", path: "/v1/info", idempotent: true },
} as const satisfies Record<string, Endpoint>;

// The server turned the request away without running it: re-sent after Retry-After.
const THROTTLE_STATUSES = new Set([429, 503]);
// The request may have run: re-sent for idempotent endpoints only.
const RETRY_STATUSES = new Set([408, 500, 502, 504]);
const INITIAL_RETRY_DELAY_MS = 250;
// Also the cap on a server's Retry-After: past it, the caller hears about the overload instead.
const MAX_RETRY_DELAY_MS = 8_000;
// Errors that mean the request never left this machine.
const NEVER_SENT = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "UND_ERR_CONNECT_TIMEOUT"]);

export interface ClientOptions {
  /** Default: TCONV_URL, else http://127.0.0.1:8000. */
  baseUrl?: string;
  /** Sent as `Authorization: Bearer`. Default: TCONV_API_KEY. */
  apiKey?: string;
  timeoutMs?: number;
  maxRetries?: number;
  /** Re-send a verify that timed out or lost its connection (it may have run). Default false. */
  retryVerify?: boolean;
  fetch?: typeof fetch;
}

export interface BulkOptions {
  /** Items per batch request. */
  batchSize?: number;
  /** Batch requests in flight at once. */
  concurrency?: number;
  view?: View;
}

export class TconvClient {
  readonly baseUrl: string;
  private readonly apiKey?: string;
  private readonly timeoutMs: number;
  private readonly maxRetries: number;
  private readonly retryVerify: boolean;
  private readonly fetchImpl: typeof fetch;

  constructor(options: ClientOptions = {}) {
    const env = typeof process !== "undefined" ? process.env : {};
    this.baseUrl = (options.baseUrl ?? env.TCONV_URL ?? "http://127.0.0.1:8000").replace(/\/+$/, "");
    this.apiKey = options.apiKey ?? env.TCONV_API_KEY;
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.maxRetries = options.maxRetries ?? 3;
    this.retryVerify = options.retryVerify ?? false;
    this.fetchImpl = options.fetch ?? fetch;
  }

  /** The output size PyTorch gives, or which rule the layer breaks. */
  shape(request: ShapeRequest & { view: "basic" }): Promise<ShapeBasic>;
  shape(request: ShapeRequest & { view?: "full" }): Promise<ShapeResponse>;
  shape(request: ShapeRequest): Promise<ShapeBasic | ShapeResponse>;
  shape(request: ShapeRequest): Promise<ShapeBasic | ShapeResponse> {
    return this.request(ENDPOINTS.shape, request);
  }

  /** One page of every layer mapping `input_size` to `output_size`, best first. */
  search(request: SearchRequest & { view: "basic" }): Promise<SearchBasic>;
  search(request: SearchRequest & { view?: "full" }): Promise<SearchResponse>;
  search(request: SearchRequest): Promise<SearchBasic | SearchResponse>;
  search(request: SearchRequest): Promise<SearchBasic | SearchResponse> {
    return this.request(ENDPOINTS.search, request);
  }

  /** The best candidate, or undefined when nothing fits. */
  async best(request: Omit<SearchRequest, "view">): Promise<Candidate | undefined> {
    return (await this.search({ ...request, limit: 1, offset: 0 })).candidates[0];
  }

  /** Every candidate of a search, best first, fetched page by page (`pageSize` per request). */
  async *iterCandidates(
    request: Omit<SearchRequest, "view" | "limit">,
    { pageSize = 1000 }: { pageSize?: number } = {},
  ): AsyncGenerator<Candidate> {
    let offset = request.offset ?? 0;
    for (;;) {
      const page = await this.search({ ...request, offset, limit: pageSize });
      yield* page.candidates;
      offset += page.candidates.length;
      if (page.candidates.length === 0 || offset >= page.total) return;
    }
  }

  invert(request: InvertRequest & { view: "basic" }): Promise<InvertBasic>;
  invert(request: InvertRequest & { view?: "full" }): Promise<InvertResponse>;
  invert(request: InvertRequest): Promise<InvertBasic | InvertResponse> {
    return this.request(ENDPOINTS.invert, request);
  }

  plan(request: PlanRequest & { view: "basic" }): Promise<PlanResponseBasic>;
  plan(request: PlanRequest & { view?: "full" }): Promise<PlanResponse>;
  plan(request: PlanRequest): Promise<PlanResponseBasic | PlanResponse> {
    return this.request(ENDPOINTS.plan, request);
  }

  /** Runs the layers in PyTorch on the server. Not re-sent after a timeout unless `retryVerify`. */
  verify(request: VerifyRequest): Promise<VerifyResponse> {
    return this.request(ENDPOINTS.verify, request);
  }

  info(): Promise<InfoResponse> {
    return this.request(ENDPOINTS.info);
  }

  /** One /v1/shape/batch request (basic view unless `view: "full"`); a bad item fails alone. */
  shapeBatch(queries: ShapeQuery[], options: { view: "full" }): Promise<(ShapeResponse | BatchError)[]>;
  shapeBatch(queries: ShapeQuery[], options?: { view?: View }): Promise<(ShapeBasic | BatchError)[]>;
  async shapeBatch(queries: ShapeQuery[], { view }: { view?: View } = {}): Promise<unknown[]> {
    return this.batch(ENDPOINTS.shapeBatch, queries, view);
  }

  /** One /v1/search/batch request (basic view unless `view: "full"`). */
  searchBatch(queries: SearchQuery[], options: { view: "full" }): Promise<(SearchResponse | BatchError)[]>;
  searchBatch(queries: SearchQuery[], options?: { view?: View }): Promise<(SearchBasic | BatchError)[]>;
  async searchBatch(queries: SearchQuery[], { view }: { view?: View } = {}): Promise<unknown[]> {
    return this.batch(ENDPOINTS.searchBatch, queries, view);
  }

  /** Any number of shape queries through /v1/shape/batch: `batchSize` per request,
   * `concurrency` requests at once, answers yielded in input order. */
  shapeMany(
    queries: Iterable<ShapeQuery> | AsyncIterable<ShapeQuery>,
    options: BulkOptions & { view: "full" },
  ): AsyncGenerator<ShapeResponse | BatchError>;
  shapeMany(
    queries: Iterable<ShapeQuery> | AsyncIterable<ShapeQuery>,
    options?: BulkOptions,
  ): AsyncGenerator<ShapeBasic | BatchError>;
  shapeMany(
    queries: Iterable<ShapeQuery> | AsyncIterable<ShapeQuery>,
    options: BulkOptions = {},
  ): AsyncGenerator<unknown> {
    return this.many(ENDPOINTS.shapeBatch, queries, { batchSize: 1000, ...options });
  }

  /** Any number of searches through /v1/search/batch, in input order. */
  searchMany(
    queries: Iterable<SearchQuery> | AsyncIterable<SearchQuery>,
    options: BulkOptions & { view: "full" },
  ): AsyncGenerator<SearchResponse | BatchError>;
  searchMany(
    queries: Iterable<SearchQuery> | AsyncIterable<SearchQuery>,
    options?: BulkOptions,
  ): AsyncGenerator<SearchBasic | BatchError>;
  searchMany(
    queries: Iterable<SearchQuery> | AsyncIterable<SearchQuery>,
    options: BulkOptions = {},
  ): AsyncGenerator<unknown> {
    return this.many(ENDPOINTS.searchBatch, queries, { batchSize: 100, ...options });
  }

  private async batch(endpoint: Endpoint, queries: unknown[], view: View | undefined): Promise<unknown[]> {
    const body = view === undefined ? { queries } : { queries, view };
    return (await this.request<{ results: unknown[] }>(endpoint, body)).results;
  }

  private async *many(
    endpoint: Endpoint,
    queries: Iterable<unknown> | AsyncIterable<unknown>,
    { batchSize = 1000, concurrency = 4, view }: BulkOptions,
  ): AsyncGenerator<unknown> {
    if (batchSize < 1 || concurrency < 1) throw new RangeError("batchSize and concurrency must be >= 1");
    const pending: Promise<unknown[]>[] = [];
    let chunk: unknown[] = [];
    const flush = () => {
      const sent = this.batch(endpoint, chunk, view);
      sent.catch(() => undefined); // awaited in order below; this only silences an early rejection
      pending.push(sent);
      chunk = [];
    };
    for await (const query of queries) {
      chunk.push(query);
      if (chunk.length === batchSize) flush();
      while (pending.length >= concurrency) yield* await pending.shift()!;
    }
    if (chunk.length > 0) flush();
    while (pending.length > 0) yield* await pending.shift()!;
  }

  private async request<T>(endpoint: Endpoint, body?: unknown): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      let response: Response;
      try {
        response = await this.fetchImpl(`${this.baseUrl}${endpoint.path}`, {
          method: endpoint.method,
          headers: {
            "content-type": "application/json",
            accept: "application/json",
            ...(this.apiKey ? { authorization: `Bearer ${this.apiKey}` } : {}),
          },
          body: body === undefined ? undefined : JSON.stringify(body),
          signal: AbortSignal.timeout(this.timeoutMs),
        });
      } catch (error) {
        const delay = this.retryDelay(endpoint, attempt, error);
        if (delay === undefined) throw this.connectionError(endpoint, error);
        await sleep(delay);
        continue;
      }
      if (response.ok) return (await response.json()) as T;
      const delay = this.retryDelay(endpoint, attempt, response);
      if (delay === undefined) {
        const payload: unknown = await response.json().catch(() => undefined);
        throw errorFromResponse(response, payload as { error?: ErrorBody } | undefined);
      }
      await response.body?.cancel();
      await sleep(delay);
    }
  }

  /** Milliseconds before the next attempt, or undefined to stop (see the constants above). */
  retryDelay(endpoint: Endpoint, attempt: number, outcome: Response | unknown): number | undefined {
    if (attempt >= this.maxRetries) return undefined;
    const resend = endpoint.idempotent || this.retryVerify;
    if (outcome instanceof Response) {
      if (THROTTLE_STATUSES.has(outcome.status)) {
        const told = retryAfterMs(outcome.headers.get("retry-after"));
        return told === undefined ? backoffMs(attempt) : Math.min(told, MAX_RETRY_DELAY_MS);
      }
      return RETRY_STATUSES.has(outcome.status) && resend ? backoffMs(attempt) : undefined;
    }
    return neverSent(outcome) || resend ? backoffMs(attempt) : undefined;
  }

  private connectionError(endpoint: Endpoint, error: unknown): TconvConnectionError {
    const where = `${endpoint.method} ${endpoint.path}`;
    if (error instanceof Error && error.name === "TimeoutError") {
      return new TconvTimeoutError(`${where} timed out after ${this.timeoutMs} ms`, error);
    }
    return new TconvConnectionError(`${where}: cannot reach ${this.baseUrl}`, error);
  }
}

function neverSent(error: unknown): boolean {
  const cause = (error as { cause?: { code?: unknown } } | undefined)?.cause;
  return typeof cause?.code === "string" && NEVER_SENT.has(cause.code);
}

/** Milliseconds from a Retry-After header (delta-seconds or an HTTP date). */
export function retryAfterMs(value: string | null): number | undefined {
  if (value === null || value.trim() === "") return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const when = Date.parse(value);
  return Number.isNaN(when) ? undefined : Math.max(0, when - Date.now());
}

function backoffMs(attempt: number): number {
  const base = Math.min(INITIAL_RETRY_DELAY_MS * 2 ** attempt, MAX_RETRY_DELAY_MS);
  return base * (0.75 + Math.random() / 2); // jitter: spread retries of many clients
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
