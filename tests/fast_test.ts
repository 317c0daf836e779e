import assert from "node:assert/strict";
import { Adam } from "@lib/adam.ts";
import { FastGpt } from "@lib/fast/gpt.ts";
import { createGpt, DEFAULT_CONFIG, type GptConfig } from "@lib/model.ts";
import { Random } from "@lib/random.ts";
import { sample } from "@lib/sample.ts";
import { Tokenizer } from "@lib/tokenizer.ts";
import { docTokens, sequenceLoss, trainStep } from "@lib/train.ts";
import { parseDocs } from "@lib/io/data.ts";

// Unicode names (accents, CJK, emoji): a dataset the tests always have.
const docs = parseDocs(
  Deno.readTextFileSync(new URL("./fixtures/unicode_names.txt", import.meta.url)),
);
const tokenizer = Tokenizer.fromDocs(docs);

const CONFIGS: Partial<GptConfig>[] = [
  {},
  { nLayer: 2 },
  { nLayer: 3, nEmbd: 24, nHead: 3, blockSize: 6 }, // names longer than the context get cut
  { nLayer: 2, nEmbd: 32, nHead: 8, blockSize: 24 },
];

function both(overrides: Partial<GptConfig>, seed = 3) {
  const config = { ...DEFAULT_CONFIG, vocabSize: tokenizer.vocabSize, ...overrides };
  return {
    config,
    value: createGpt(config, { rng: new Random(seed) }),
    fast: FastGpt.create(config, { rng: new Random(seed) }),
  };
}

Deno.test("FastGpt.create() draws the same initial weights as createGpt()", () => {
  for (const overrides of CONFIGS) {
    const { value, fast } = both(overrides);
    assert.deepEqual(Array.from(fast.params), value.params.map((p) => p.data));
  }
});

Deno.test("FastGpt.forward() and backward() match the Value engine on several configs", () => {
  for (const overrides of CONFIGS) {
    const { value, fast } = both(overrides);
    for (const doc of docs.slice(0, 6)) {
      const tokens = docTokens(tokenizer, doc);
      const loss = sequenceLoss(value, tokens);
      loss.backward();
      // Same operations in the same order: the same loss to the last bit.
      assert.equal(fast.forward(tokens), loss.data, `${JSON.stringify(overrides)} ${doc}`);
      fast.backward();
      const scale = Math.max(...value.params.map((p) => Math.abs(p.grad)));
      value.params.forEach((p, i) => {
        const diff = Math.abs(p.grad - fast.grads[i]!);
        assert.ok(diff <= 1e-13 * scale, `${JSON.stringify(overrides)} ${doc} grad ${i}: ${diff}`);
        p.grad = 0;
      });
      fast.grads.fill(0);
    }
  }
});

Deno.test("FastGpt.backward() matches finite differences", () => {
  const { fast } = both({ nLayer: 2, nEmbd: 8, nHead: 2, blockSize: 8 });
  const tokens = docTokens(tokenizer, docs[1]!);
  fast.forward(tokens);
  fast.backward();
  const h = 1e-6;
  for (const i of [0, 37, 500, 1200, fast.numParams - 1]) {
    const x = fast.params[i]!;
    fast.params[i] = x + h;
    const up = fast.forward(tokens);
    fast.params[i] = x - h;
    const down = fast.forward(tokens);
    fast.params[i] = x;
    const numeric = (up - down) / (2 * h);
    assert.ok(
      Math.abs(numeric - fast.grads[i]!) < 1e-7,
      `param ${i}: ${numeric} vs ${fast.grads[i]}`,
    );
  }
});

Deno.test("FastGpt trains and samples like the Value engine (losses within 1e-12, same names)", () => {
  for (const overrides of [{}, { nLayer: 2, blockSize: 12 }]) {
    const { value, fast, config } = both(overrides, 11);
    const adamV = new Adam(value.params.length, { numSteps: 40 });
    const adamF = new Adam(fast.numParams, { numSteps: 40 });
    for (let step = 0; step < 40; step++) {
      const tokens = docTokens(tokenizer, docs[step % docs.length]!);
      const lv = trainStep(value, { tokens, adam: adamV });
      const lf = fast.trainStep(tokens, adamF);
      assert.ok(Math.abs(lv - lf) <= 1e-12 * lv, `${JSON.stringify(config)} step ${step}`);
    }
    const rv = new Random(5);
    const rf = new Random(5);
    for (let i = 0; i < 10; i++) {
      const opts = { temperature: 0.7, prefix: i % 2 ? "a" : "" };
      assert.equal(
        fast.sample(tokenizer, { rng: rf, ...opts }),
        sample(value, tokenizer, { rng: rv, ...opts }),
      );
    }
  }
});

Deno.test("FastGpt.sample() with topK draws the Value engine's names", () => {
  const { value, fast } = both({}, 11);
  for (const topK of [1, 2, 5, tokenizer.vocabSize]) {
    const rv = new Random(9);
    const rf = new Random(9);
    for (let i = 0; i < 10; i++) {
      const opts = { temperature: 1.5, topK, prefix: i % 3 ? "" : "a" };
      assert.equal(
        fast.sample(tokenizer, { rng: rf, ...opts }),
        sample(value, tokenizer, { rng: rv, ...opts }),
      );
    }
  }
  assert.throws(
    () => fast.sample(tokenizer, { rng: new Random(1), temperature: 1, topK: -2 }),
    RangeError,
    "topK (-2)",
  );
});

Deno.test("FastGpt rejects a wrong parameter count, unknown tokens and a bad temperature", () => {
  const config = { ...DEFAULT_CONFIG, vocabSize: 5 };
  assert.throws(() => new FastGpt(config, new Float64Array(3)), RangeError, "3 parameters given");
  const fast = FastGpt.create(config, { rng: new Random(1) });
  assert.throws(() => fast.forward([4, 7, 4]), /token 7 is outside 0..4/);
  assert.throws(() => fast.forward([4]), /at least 2 tokens/);
  const tk = new Tokenizer(["a", "b", "c", "d"]);
  assert.throws(
    () => fast.sample(tk, { rng: new Random(1), temperature: -1 }),
    /temperature \(-1\)/,
  );
});

Deno.test("FastGpt.trainStep() moves Adam's moments into its memory and keeps them current", () => {
  const config = { ...DEFAULT_CONFIG, vocabSize: 5, nEmbd: 8, nHead: 2 };
  const fast = FastGpt.create(config, { rng: new Random(2) });
  const adam = new Adam(fast.numParams, { numSteps: 10 });
  adam.restore({
    m: new Array(fast.numParams).fill(0.5),
    v: new Array(fast.numParams).fill(1),
    t: 3,
  });
  const before = adam.m;
  fast.trainStep([4, 0, 1, 4], adam);
  assert.notEqual(adam.m, before, "the moments now live in the model's memory");
  assert.equal(adam.t, 4);
  const m1 = Array.from(adam.m);
  fast.trainStep([4, 2, 3, 4], adam);
  assert.notDeepEqual(Array.from(adam.m), m1, "adam.m shows the second step's update");
  // The same steps with the Value engine's Adam, from the same state, give the same moments.
  const value = createGpt(config, { rng: new Random(2) });
  const adamV = new Adam(value.params.length, { numSteps: 10 });
  adamV.restore({
    m: new Array(fast.numParams).fill(0.5),
    v: new Array(fast.numParams).fill(1),
    t: 3,
  });
  trainStep(value, { tokens: [4, 0, 1, 4], adam: adamV });
  trainStep(value, { tokens: [4, 2, 3, 4], adam: adamV });
  const scale = Math.max(...adamV.m.map(Math.abs));
  adam.m.forEach((m, i) => assert.ok(Math.abs(m - adamV.m[i]!) <= 1e-13 * scale, `m[${i}]`));
});

Deno.test("FastGpt.trainStep() rejects an optimiser made for another parameter count", () => {
  const fast = FastGpt.create({ ...DEFAULT_CONFIG, vocabSize: 5 }, { rng: new Random(1) });
  const adam = new Adam(fast.numParams + 1, { numSteps: 10 });
  assert.throws(
    () => fast.trainStep([4, 0, 4], adam),
    RangeError,
    `Cannot take Adam step: ${fast.numParams} parameters, expected ${fast.numParams + 1}`,
  );
  assert.ok(fast.grads.every((g) => g === 0), "nothing was run");
});

Deno.test("FastGpt.parameters() is a copy of the parameters in state-dict order", () => {
  const config = { ...DEFAULT_CONFIG, vocabSize: 5 };
  const fast = FastGpt.create(config, { rng: new Random(3) });
  const copy = fast.parameters();
  assert.deepEqual(
    Array.from(copy),
    createGpt(config, { rng: new Random(3) }).params.map((p) => p.data),
  );
  copy[0] = 42;
  assert.notEqual(fast.params[0], 42);
});
