// Runs against a real service: TCONV_URL is set by tests/integration/test_typescript_client.py,
// which starts `python -m service` on a free loopback port.
import assert from "node:assert/strict";
import { test } from "node:test";

import { TconvClient, TconvConnectionError, TconvError } from "../src/index.js";

const client = new TconvClient();

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

test("errors keep the server's code", async () => {
  await assert.rejects(
    client.search({ input_size: 7, output_size: 14, kernel_size: 0 } as never),
    (error: unknown) => error instanceof TconvError && error.status === 422 && error.code === "invalid_request",
  );
  const dead = new TconvClient({ baseUrl: "http://127.0.0.1:9", maxRetries: 0 });
  await assert.rejects(dead.info(), TconvConnectionError);
});
