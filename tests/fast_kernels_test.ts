// The fast engine's WebAssembly kernels (lib/fast/kernels.as): the committed module is what the
// source compiles to, its Adam step is lib/adam.ts's to the last bit, and its two forward paths
// (a whole sequence, one position at a time) agree, all on generated configurations.

import assert from "node:assert/strict";
import { Adam } from "@lib/adam.ts";
import { FastGpt } from "@lib/fast/gpt.ts";
import { DEFAULT_CONFIG } from "@lib/model.ts";
import { Random } from "@lib/random.ts";
import { Tokenizer } from "@lib/tokenizer.ts";
import { docTokens } from "@lib/train.ts";
import { compileKernels, moduleText, OUTPUT_PATH } from "../lib/fast/build.ts";
import { generateCase } from "./_differential.ts";

const SEED = 4242;
const RUNS = 60;

// Adam.step() on a model's flat arrays, through one { data, grad } per parameter.
function adamStep(adam: Adam, params: Float64Array, grads: Float64Array): void {
  const ps = Array.from(params, (data, i) => ({ data, grad: grads[i]! }));
  adam.step(ps);
  ps.forEach((p, i) => {
    params[i] = p.data;
    grads[i] = p.grad;
  });
}

Deno.test("lib/fast/_kernels_wasm.ts is what lib/fast/kernels.as compiles to", async () => {
  const committed = await Deno.readTextFile(OUTPUT_PATH);
  assert.ok(
    committed === moduleText(await compileKernels()),
    "the committed module is stale: run `deno task wasm` and commit lib/fast/_kernels_wasm.ts",
  );
});

Deno.test(`FastGpt.trainStep() takes Adam.step()'s step, bit for bit (${RUNS} configs)`, () => {
  for (let index = 0; index < RUNS; index++) {
    const c = generateCase(SEED, index);
    const tokenizer = new Tokenizer(c.uchars);
    const kernel = FastGpt.create(c.config, { rng: new Random(index) });
    const js = new FastGpt(c.config, kernel.params);
    const options = { numSteps: c.steps, learningRate: c.lr };
    const adamK = new Adam(kernel.numParams, options);
    const adamJ = new Adam(js.numParams, options);
    for (let step = 0; step < c.steps; step++) {
      const tokens = docTokens(tokenizer, c.docs[step % c.docs.length]!);
      const loss = kernel.trainStep(tokens, adamK);
      assert.equal(js.forward(tokens), loss);
      js.backward();
      adamStep(adamJ, js.params, js.grads);
      const where = `case ${index}, step ${step + 1}`;
      assert.deepEqual(kernel.params, js.params, where);
      assert.deepEqual(adamK.m, adamJ.m, where);
      assert.deepEqual(adamK.v, adamJ.v, where);
      assert.equal(adamK.t, adamJ.t);
      assert.ok(kernel.grads.every((g) => g === 0), `${where}: gradients zeroed`);
    }
  }
});

Deno.test("the kernels' Adam stays bit-identical past the steps where the corrections reach 1", () => {
  // An odd parameter count (147), so the last parameter takes the scalar path too.
  const config = { ...DEFAULT_CONFIG, vocabSize: 5, nEmbd: 3, nHead: 1, blockSize: 3 };
  const kernel = FastGpt.create(config, { rng: new Random(5) });
  const js = new FastGpt(config, kernel.params);
  assert.equal(kernel.numParams % 2, 1);
  const adamK = new Adam(kernel.numParams, { numSteps: 4000 });
  const adamJ = new Adam(js.numParams, { numSteps: 4000 });
  const docs = [[4, 0, 1, 4], [4, 2, 3, 0, 4], [4, 1, 4]];
  for (let step = 0; step < 3800; step++) {
    const tokens = docs[step % docs.length]!;
    kernel.trainStep(tokens, adamK);
    js.forward(tokens);
    js.backward();
    adamStep(adamJ, js.params, js.grads);
    if ([1, 230, 231, 232, 3724, 3725, 3726, 3800].includes(step + 1)) {
      assert.deepEqual(kernel.params, js.params, `step ${step + 1}`);
      assert.deepEqual(adamK.m, adamJ.m, `step ${step + 1}`);
    }
  }
  assert.equal(1 - 0.85 ** 231, 1); // from here on the first correction divides by 1
  assert.notEqual(1 - 0.85 ** 230, 1);
  assert.equal(1 - 0.99 ** 3725, 1);
  assert.notEqual(1 - 0.99 ** 3724, 1);
});

Deno.test(`one position at a time gives positionLosses()'s numbers (${RUNS} configs)`, () => {
  for (let index = 0; index < RUNS; index++) {
    const c = generateCase(SEED + 1, index);
    const tokenizer = new Tokenizer(c.uchars);
    const model = FastGpt.create(c.config, { rng: new Random(index) });
    for (const doc of c.docs) {
      const tokens = docTokens(tokenizer, doc);
      const whole = Array.from(model.positionLosses(tokens));
      const stepwise = whole.map((_, t) => {
        model.runPosition(t, tokens[t]!);
        return model.lossAt(t, tokens[t + 1]!);
      });
      assert.deepEqual(stepwise, whole, `case ${index}, ${JSON.stringify(doc)}`);
    }
  }
});

Deno.test("an Adam moves between models without losing its moments", () => {
  const config = { ...DEFAULT_CONFIG, vocabSize: 5, nEmbd: 4, nHead: 2, blockSize: 4 };
  const a = FastGpt.create(config, { rng: new Random(3) });
  const b = new FastGpt(config, a.params);
  const same = new FastGpt(config, a.params);
  const adam = new Adam(a.numParams, { numSteps: 6 });
  const solo = new Adam(a.numParams, { numSteps: 6 });
  // a takes two steps, then b carries on from a's parameters with the same optimiser
  for (const model of [a, a, b, b]) {
    if (model === b && adam.t === 2) b.params.set(a.params);
    model.trainStep([4, 0, 1, 4], adam);
    same.trainStep([4, 0, 1, 4], solo);
    assert.deepEqual(model.params, same.params);
  }
  assert.deepEqual(adam.m, solo.m);
  assert.deepEqual(adam.v, solo.v);
  assert.equal(adam.t, 4);
});

Deno.test("FastGpt refuses a shape that needs more than WebAssembly's 4 GiB", () => {
  const config = { ...DEFAULT_CONFIG, vocabSize: 3, nEmbd: 8, nHead: 8, blockSize: 20_000 };
  assert.throws(
    () => FastGpt.create(config, { rng: new Random(1) }),
    RangeError,
    "more than the 4 GiB WebAssembly can address (160048 parameters, context 20000)",
  );
});
