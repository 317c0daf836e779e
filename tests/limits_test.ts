// The limits the CLI derives before any work (lib/cli/limits.ts), held to the real thing: the
// Value engine's graph counted on real steps, and the weight bound against a forward pass at
// the bound itself.

import assert from "node:assert/strict";
import {
  ADAM_MAX_STEP,
  graphValues,
  maxLearningRate,
  maxWeight,
  memoryProblem,
  minTemperature,
} from "@lib/cli/limits.ts";
import { createEngine } from "@lib/engine.ts";
import { evaluate } from "@lib/eval.ts";
import { countParams, createGpt, DEFAULT_CONFIG, type GptConfig } from "@lib/model.ts";
import { Random } from "@lib/random.ts";
import { Tokenizer } from "@lib/tokenizer.ts";
import { sequenceLoss } from "@lib/train.ts";
import type { Value } from "@lib/value.ts";

// Every Value a loss was computed from, itself included.
function countGraph(loss: Value): number {
  const seen = new Set<Value>();
  const stack = [loss];
  while (stack.length > 0) {
    const v = stack.pop()!;
    if (seen.has(v)) continue;
    seen.add(v);
    if (v.child0) stack.push(v.child0);
    if (v.child1) stack.push(v.child1);
  }
  return seen.size;
}

Deno.test("graphValues() is within 4% above the Value graph of real steps", () => {
  const shapes: [number, number, number, number, number][] = [
    // nEmbd, nLayer, nHead, positions, vocabSize
    [16, 1, 4, 8, 27],
    [16, 1, 4, 16, 27],
    [32, 2, 4, 8, 27],
    [64, 1, 4, 8, 27],
    [16, 3, 2, 12, 50],
    [48, 1, 4, 16, 100],
  ];
  for (const [nEmbd, nLayer, nHead, n, vocabSize] of shapes) {
    const config = { ...DEFAULT_CONFIG, nEmbd, nLayer, nHead, vocabSize, blockSize: 16 };
    const model = createGpt(config, { rng: new Random(1) });
    const tokens = Array.from({ length: n + 1 }, (_, i) => i % vocabSize);
    const counted = countGraph(sequenceLoss(model, tokens)); // parameters included
    const estimate = graphValues(config, n);
    const ratio = estimate / counted;
    assert.ok(ratio >= 1 && ratio < 1.04, `${JSON.stringify(config)}: ${estimate} / ${counted}`);
  }
});

Deno.test("memoryProblem() refuses the Value engine's graph past 3 GiB, the fast engine's arrays past 4 GiB", () => {
  const config = (nEmbd: number): GptConfig => ({
    ...DEFAULT_CONFIG,
    nEmbd,
    vocabSize: 27,
  });
  assert.equal(memoryProblem(config(16), { engine: "value", positions: 16 }), undefined);
  assert.match(
    memoryProblem(config(512), { engine: "value", positions: 16 })!,
    /^the Value engine's graph for a step of 16 positions needs about 12\.\d GiB/,
  );
  assert.equal(memoryProblem(config(512), { engine: "fast", positions: 16 }), undefined);
  assert.match(
    memoryProblem(config(8192), { engine: "fast", positions: 16 })!,
    /more than the 4\.0 GiB/,
  );
  assert.ok(countParams(config(512)) > 3e6);
});

Deno.test("maxWeight() is sound: a model with every weight at the bound still gives a finite loss", () => {
  const tokenizer = Tokenizer.fromDocs(["abc"]);
  for (const [nEmbd, nLayer] of [[16, 1], [8, 2], [32, 1]] as const) {
    const config = { ...DEFAULT_CONFIG, nEmbd, nLayer, vocabSize: tokenizer.vocabSize };
    const bound = maxWeight(config);
    for (const sign of [1, -1]) {
      const params = new Float64Array(countParams(config)).fill(sign * bound);
      const engine = createEngine("fast", config, { params });
      const { loss } = evaluate(engine, tokenizer, ["abc", "cab"]);
      assert.ok(Number.isFinite(loss), `nEmbd ${nEmbd}, nLayer ${nLayer}: ${loss}`);
    }
  }
});

Deno.test("maxLearningRate() and minTemperature() follow from the weight bound", () => {
  const config = { ...DEFAULT_CONFIG, vocabSize: 27 };
  assert.ok(Math.abs(ADAM_MAX_STEP - 2.8857) < 1e-4);
  const lr = maxLearningRate(config, { steps: 1000, from: 0, weight: 1 });
  // Over 1000 linearly decaying steps the rates add up to 500.5 lr.
  assert.ok(
    Math.abs(1 + lr * 500.5 * ADAM_MAX_STEP - maxWeight(config)) / maxWeight(config) < 1e-12,
  );
  // Fewer steps left, a larger rate allowed.
  assert.ok(maxLearningRate(config, { steps: 1000, from: 900, weight: 1 }) > 40 * lr);
  // A trained default model's weights are a few units: ~1e-300 is still fine, 1e-310 is not.
  assert.ok(minTemperature(config, 20) < 1e-299);
  assert.ok(minTemperature(config, 20) > 1e-310);
  assert.equal(minTemperature(config, 0), 1 / Number.MAX_VALUE);
});
