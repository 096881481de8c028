// Runs against a real service: TCONV_URL is set by tests/integration/test_typescript_client.py,
// which starts `python -m service` on a free loopback port.
import assert from "node:assert/strict";
import { createServer } from "node:net";
import { test } from "node:test";

import {
  TconvClient,
  TconvConnectionError,
  TconvError,
  TconvTimeoutError,
  UnprocessableEntityError,
  retryAfterMs,
  type SearchBasic,
  type ShapeBasic,
  type ShapeQuery,
} from "../src/index.js";

const client = new TconvClient();

/** The real fetch, counting the requests the client sends (its retries included). */
function counting(): { fetch: typeof fetch; sent: string[] } {
  const sent: string[] = [];
  return { sent, fetch: (input, init) => (sent.push(String(input)), fetch(String(input), init)) };
}

/** A loopback address nothing listens on. */
async function deadUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return `http://127.0.0.1:${port}`;
}

/** The real fetch, reached only after the client's timeout has passed: a network slower than
 * `timeoutMs`, so that the client sees a timeout every time. */
function late(sent: string[]): typeof fetch {
  return async (input, init) => {
    sent.push(String(input));
    await new Promise((resolve) => setTimeout(resolve, 20));
    return fetch(String(input), init);
  };
}

async function serverHasViews(): Promise<boolean> {
  const schema = (await (await fetch(`${client.baseUrl}/openapi.json`)).json()) as {
    components: { schemas: { ShapeRequest: { properties: Record<string, unknown> } } };
  };
  return "view" in schema.components.schemas.ShapeRequest.properties;
}

test("search finds and ranks 7 -> 14", async () => {
  const result = await client.search({ input_size: 7, output_size: 14, limit: 3 });
  assert.equal(result.total, 15);
  assert.equal(result.candidates[0].snippet, "nn.ConvTranspose2d(1, 1, kernel_size=2, stride=2)");
  assert.deepEqual(result.candidates[0].layer.kernel_size, [2, 2]);
  const best = await client.best({ input_size: 7, output_size: 14 });
  assert.equal(best?.rank, 1);
});

test("shape, invert, plan, verify and info answer", async () => {
  const shape = await client.shape({ input_size: 7, kernel_size: 4, stride: 2, padding: 1 });
  assert.deepEqual(shape.output_size, [14, 14]);
  const inverted = await client.invert({ input_size: 64, conv: { kernel_size: 3, stride: 2, padding: 1 } });
  assert.equal(inverted.valid, true);
  const plan = await client.plan({ input_size: 4, output_size: 64, layers: 4, limit: 1 });
  assert.deepEqual(plan.plans[0].sizes.at(-1), [64, 64]);
  const verified = await client.verify({ input_size: 7, layers: [{ kernel_size: 4, stride: 2, padding: 1 }] });
  assert.equal(verified.results.length, 1);
  assert.equal((await client.info()).api_version, "v1");
});

test("iterCandidates pages through the whole search", async () => {
  const ranks: number[] = [];
  for await (const candidate of client.iterCandidates({ input_size: 7, output_size: 14 }, { pageSize: 4 })) {
    ranks.push(candidate.rank);
  }
  assert.deepEqual(ranks, Array.from({ length: 15 }, (_, i) => i + 1));
});

test("shapeMany answers in input order, a malformed item alone failing", async () => {
  const queries: ShapeQuery[] = Array.from({ length: 57 }, (_, i) => ({
    input_size: 3 + i,
    kernel_size: i === 20 ? 0 : 1 + (i % 5),
    stride: 1 + (i % 3),
  }));
  const counter = counting();
  const bulk = new TconvClient({ fetch: counter.fetch });
  const answers: (ShapeBasic | { error: { code: string } })[] = [];
  for await (const answer of bulk.shapeMany(queries, { batchSize: 8, concurrency: 3 })) answers.push(answer);
  assert.equal(answers.length, queries.length);
  assert.equal(counter.sent.length, 8); // ceil(57 / 8) batch requests
  for (const [i, query] of queries.entries()) {
    const answer = answers[i];
    if (query.kernel_size === 0) {
      assert.ok("error" in answer && !("valid" in answer));
      continue;
    }
    const single = await client.shape(query);
    assert.ok("valid" in answer);
    assert.deepEqual([answer.valid, answer.output_size], [single.valid, single.output_size], `item ${i}`);
  }
});

test("searchMany matches single searches", async () => {
  const queries = [7, 8, 9, 10, 11].map((n) => ({ input_size: n, output_size: 2 * n, limit: 2 }));
  const totals: number[] = [];
  for await (const answer of client.searchMany(queries, { batchSize: 2 })) {
    totals.push((answer as SearchBasic).total);
  }
  const singles = await Promise.all(queries.map((q) => client.search(q)));
  assert.deepEqual(totals, singles.map((s) => s.total));
});

test("views: sent only when set", async () => {
  if (!(await serverHasViews())) {
    // Before the server knows `view` (issue #13) it refuses it: proof the client sends it.
    await assert.rejects(
      client.shape({ input_size: 7, kernel_size: 4, view: "basic" }),
      (error: unknown) => error instanceof UnprocessableEntityError && error.message.includes("view"),
    );
    return;
  }
  const basic = await client.shape({ input_size: 5, kernel_size: 3, stride: 2, padding: 1, output_padding: 3, view: "basic" });
  assert.deepEqual(Object.keys(basic).sort(), ["error", "output_size", "valid"]);
  const page = await client.search({ input_size: 7, output_size: 14, limit: 2, view: "basic" });
  assert.deepEqual(Object.keys(page.candidates[0]).sort(), ["layer", "output_size", "rank", "score"]);
});

test("errors are typed, with status, code and request id", async () => {
  await assert.rejects(
    client.search({ input_size: 7, output_size: 14, kernel_size: 0 } as never),
    (error: unknown) =>
      error instanceof UnprocessableEntityError &&
      error instanceof TconvError &&
      error.status === 422 &&
      error.code === "invalid_request" &&
      error.details[0].field === "kernel_size" &&
      typeof error.requestId === "string" &&
      error.requestId.length > 0,
  );
  const dead = new TconvClient({ baseUrl: await deadUrl(), maxRetries: 0 });
  await assert.rejects(dead.info(), TconvConnectionError);
});

test("a timed-out verify is not sent again; a search is", async () => {
  const layers = [{ kernel_size: 4, stride: 2, padding: 1 }];
  const sent: string[] = [];
  const hasty = new TconvClient({ timeoutMs: 5, maxRetries: 2, fetch: late(sent) });
  await assert.rejects(hasty.verify({ input_size: 7, layers }), TconvTimeoutError);
  assert.equal(sent.length, 1);
  await assert.rejects(hasty.search({ input_size: 7, output_size: 14 }), TconvTimeoutError);
  assert.equal(sent.length, 1 + 3);
  const again: string[] = [];
  const retrying = new TconvClient({ timeoutMs: 5, maxRetries: 1, retryVerify: true, fetch: late(again) });
  await assert.rejects(retrying.verify({ input_size: 7, layers }), TconvTimeoutError);
  assert.equal(again.length, 2);
  // Refused connections never reached a server: retried even for verify.
  const refused = counting();
  const dead = new TconvClient({ baseUrl: await deadUrl(), maxRetries: 2, fetch: refused.fetch });
  await assert.rejects(dead.verify({ input_size: 7, layers }), TconvConnectionError);
  assert.equal(refused.sent.length, 3);
});

test("Retry-After: seconds or an HTTP date", () => {
  assert.equal(retryAfterMs("2"), 2000);
  assert.equal(retryAfterMs(null), undefined);
  assert.equal(retryAfterMs("soon"), undefined);
  const inThree = retryAfterMs(new Date(Date.now() + 3000).toUTCString());
  assert.ok(inThree !== undefined && inThree > 1000 && inThree <= 3000);
  const throttled = new TconvClient({ maxRetries: 3 });
  const endpoint = { method: "POST" as const, path: "/v1/verify", idempotent: false };
  const answer = (status: number, retryAfter?: string) =>
    new Response(null, { status, headers: retryAfter ? { "retry-after": retryAfter } : {} });
  assert.equal(throttled.retryDelay(endpoint, 0, answer(503, "1")), 1000);
  assert.equal(throttled.retryDelay(endpoint, 0, answer(429, "600")), 8000); // capped
  assert.equal(throttled.retryDelay(endpoint, 0, answer(502)), undefined); // may have run
  assert.equal(throttled.retryDelay(endpoint, 3, answer(503, "1")), undefined); // out of attempts
});

test("the API key is sent as a bearer token", async () => {
  const seen: (string | null)[] = [];
  const spy: typeof fetch = (input, init) => {
    seen.push(new Headers(init?.headers).get("authorization"));
    return fetch(String(input), init);
  };
  await new TconvClient({ apiKey: "k-123", fetch: spy }).info();
  assert.deepEqual(seen, ["Bearer k-123"]);
});
