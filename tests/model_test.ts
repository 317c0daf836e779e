import assert from "node:assert/strict";
import { readDocs } from "@lib/io/data.ts";
import {
  createGpt,
  createKvCache,
  DEFAULT_CONFIG,
  gpt,
  paramShapes,
  rmsnorm,
  softmax,
} from "@lib/model.ts";
import { Random } from "@lib/random.ts";
import { Tokenizer } from "@lib/tokenizer.ts";
import { docTokens, sequenceLoss } from "@lib/train.ts";
import { Value } from "@lib/value.ts";
import { fixture, haveNames, NAMES_PATH } from "./_names.ts";

interface Step1Debug {
  uchars: string[];
  first_docs: string[];
  first_doc_tokens: number[];
  param_order: string[];
  init_params: string[];
  loss_step1: string;
  grads_step1: string[];
}

// Largest relative difference between two equally long lists of numbers.
function maxRelDiff(got: number[], want: number[]): number {
  assert.equal(got.length, want.length);
  return Math.max(
    ...got.map((g, i) => Math.abs(g - want[i]!) / Math.max(Math.abs(want[i]!), 1e-300)),
  );
}

Deno.test({
  name: "createGpt() and the first backward match microgpt.py's step-1 dump (seed 42)",
  ignore: !haveNames(),
  fn: async () => {
    const golden = fixture<Step1Debug>("microgpt_py_seed42_step1_debug.json");
    const docs = await readDocs(NAMES_PATH);
    const rng = new Random(42);
    rng.shuffle(docs);
    assert.deepEqual(docs.slice(0, 20), golden.first_docs);
    const tokenizer = Tokenizer.fromDocs(docs);
    assert.deepEqual(tokenizer.uchars, golden.uchars);
    const tokens = docTokens(tokenizer, docs[0]!);
    assert.deepEqual(tokens, golden.first_doc_tokens);

    const model = createGpt({ ...DEFAULT_CONFIG, vocabSize: tokenizer.vocabSize }, { rng });
    assert.deepEqual(Object.keys(model.stateDict), golden.param_order);
    const init = golden.init_params.map(Number);
    // Bit-identical but for V8's sin/cos/log in gauss() rounding differently from glibc's in
    // the last bit on a few draws (3 of 4192 here).
    const initData = model.params.map((p) => p.data);
    assert.ok(maxRelDiff(initData, init) < 1e-15);
    assert.ok(initData.filter((x, i) => x === init[i]).length >= 4180);

    const loss = sequenceLoss(model, tokens);
    assert.equal(loss.data, Number(golden.loss_step1));
    loss.backward();
    const grads = golden.grads_step1.map(Number);
    assert.ok(maxRelDiff(model.params.map((p) => p.grad), grads) < 1e-13);
  },
});

Deno.test("paramShapes() lists the reference's matrices in initialisation order", () => {
  const shapes = paramShapes({ ...DEFAULT_CONFIG, vocabSize: 27, nLayer: 2 });
  assert.deepEqual(shapes.slice(0, 4), [
    ["wte", 27, 16],
    ["wpe", 16, 16],
    ["lm_head", 27, 16],
    ["layer0.attn_wq", 16, 16],
  ]);
  assert.deepEqual(shapes.at(-1), ["layer1.mlp_fc2", 16, 64]);
  const count = shapes.reduce((n, [, rows, cols]) => n + rows * cols, 0);
  assert.equal(count, 7264); // the 2-layer golden's num_params
});

Deno.test("createGpt() rejects a bad configuration with the reason", () => {
  const rng = new Random(1);
  const base = { ...DEFAULT_CONFIG, vocabSize: 27 };
  assert.throws(
    () => createGpt({ ...base, nEmbd: 10 }, { rng }),
    RangeError,
    "nEmbd (10) must be divisible by nHead (4)",
  );
  assert.throws(
    () => createGpt({ ...base, nLayer: 0 }, { rng }),
    /nLayer \(0\) must be a positive/,
  );
  assert.throws(() => createGpt({ ...base, blockSize: 2.5 }, { rng }), /blockSize/);
  assert.throws(() => createGpt({ ...base, vocabSize: 1 }, { rng }), /at least 2/);
});

Deno.test("softmax() gives probabilities summing to 1 with finite-difference gradients", () => {
  const xs = [1, -2, 0.5].map((x) => new Value(x));
  const probs = softmax(xs);
  const total = probs.reduce((s, p) => s + p.data, 0);
  assert.ok(Math.abs(total - 1) < 1e-15);
  probs[0]!.log().backward();
  // d log softmax_0 / dx_j = [j == 0] - p_j
  probs.forEach((p, j) => assert.ok(Math.abs(xs[j]!.grad - ((j === 0 ? 1 : 0) - p.data)) < 1e-12));
});

Deno.test("rmsnorm() divides by sqrt(mean square + 1e-5)", () => {
  const rmsOf = (xs: number[]) => {
    const out = rmsnorm(xs.map((x) => new Value(x)));
    return Math.sqrt(out.reduce((s, v) => s + v.data ** 2, 0) / xs.length);
  };
  // mean square 56.33: the epsilon moves the output's rms by 8.9e-8 below 1
  const rms = rmsOf([3, -4, 12]);
  assert.ok(Math.abs(rms - Math.sqrt(56 + 1 / 3) / Math.sqrt(56 + 1 / 3 + 1e-5)) < 1e-12);
  assert.ok(1 - rms > 8e-8, `${1 - rms}`);
  // mean square 1e-6, ten times smaller than the epsilon: the output stays small
  assert.ok(Math.abs(rmsOf([1e-3, -1e-3]) - Math.sqrt(1e-6 / 1.1e-5)) < 1e-12);
});

Deno.test("gpt() refuses a position past the context and an unknown token", () => {
  const model = createGpt({ ...DEFAULT_CONFIG, vocabSize: 5, blockSize: 2 }, {
    rng: new Random(3),
  });
  const cache = createKvCache(model.config);
  assert.equal(gpt(model, 4, cache).length, 5);
  gpt(model, 0, cache);
  assert.throws(() => gpt(model, 0, cache), RangeError, "position 2 is past the context");
  assert.throws(() => gpt(model, 5, createKvCache(model.config)), /token 5 is outside 0..4/);
});
