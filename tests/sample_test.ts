import assert from "node:assert/strict";
import { Adam } from "@lib/adam.ts";
import { createGpt, DEFAULT_CONFIG } from "@lib/model.ts";
import { Random } from "@lib/random.ts";
import { keepTopK, sample, sampleTrace } from "@lib/sample.ts";
import { Tokenizer } from "@lib/tokenizer.ts";
import { docTokens, trainStep } from "@lib/train.ts";

const docs = ["ana", "bob", "anna", "abba", "nan"];
const tokenizer = Tokenizer.fromDocs(docs);

function trained(seed: number) {
  const rng = new Random(seed);
  const model = createGpt({ ...DEFAULT_CONFIG, vocabSize: tokenizer.vocabSize, blockSize: 8 }, {
    rng,
  });
  const adam = new Adam(model.params.length, { numSteps: 30 });
  const losses = Array.from(
    { length: 30 },
    (_, i) => trainStep(model, { tokens: docTokens(tokenizer, docs[i % docs.length]!), adam }),
  );
  return { model, rng, losses };
}

Deno.test("trainStep() lowers the loss on a tiny dataset", () => {
  const { losses } = trained(5);
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  assert.ok(mean(losses.slice(-5)) < mean(losses.slice(0, 5)) - 0.3, losses.join(" "));
});

Deno.test("sample() is reproducible for a seed and stays in the vocabulary", () => {
  const a = trained(5);
  const b = trained(5);
  const namesA = Array.from(
    { length: 10 },
    () => sample(a.model, tokenizer, { rng: a.rng, temperature: 0.5 }),
  );
  const namesB = Array.from(
    { length: 10 },
    () => sample(b.model, tokenizer, { rng: b.rng, temperature: 0.5 }),
  );
  assert.deepEqual(namesA, namesB);
  for (const name of namesA) {
    assert.ok([...name].every((ch) => tokenizer.uchars.includes(ch)));
  }
});

Deno.test("sample() stops at blockSize characters when the model never predicts BOS", () => {
  // Trained only on documents longer than the context, the model never sees BOS as a target
  // after the first position, so names run to the context's end: blockSize characters, no more.
  const long = Tokenizer.fromDocs(["abababababab"]);
  const blockSize = 5;
  const rng = new Random(1);
  const model = createGpt({ ...DEFAULT_CONFIG, vocabSize: long.vocabSize, blockSize }, { rng });
  const adam = new Adam(model.params.length, { numSteps: 60, learningRate: 0.05 });
  for (let i = 0; i < 60; i++) {
    trainStep(model, { tokens: docTokens(long, "abababababab"), adam });
  }
  const names = Array.from({ length: 10 }, () => sample(model, long, { rng, temperature: 1 }));
  for (const name of names) assert.equal([...name].length, blockSize, JSON.stringify(names));
});

Deno.test("sample() continues a prefix and validates its inputs", () => {
  const { model, rng } = trained(2);
  assert.ok(sample(model, tokenizer, { rng, temperature: 1, prefix: "ab" }).startsWith("ab"));
  assert.throws(
    () => sample(model, tokenizer, { rng, temperature: 0 }),
    RangeError,
    "temperature (0)",
  );
  assert.throws(() => sample(model, tokenizer, { rng, temperature: 1, prefix: "xyz" }), /"x"/);
  assert.throws(
    () => sample(model, tokenizer, { rng, temperature: 1, prefix: "abababab" }),
    /prefix has 8 characters/,
  );
});

Deno.test("sample() with topK draws only from the k likeliest tokens (pinned, seed 5)", () => {
  const names = (topK?: number) => {
    const { model, rng } = trained(5);
    return Array.from(
      { length: 10 },
      () => sample(model, tokenizer, { rng, temperature: 1, topK }),
    );
  };
  const all = ["nan", "ana", "", "abbo", "abo", "aba", "bob", "naba", "anna", "ann"];
  assert.deepEqual(names(), all);
  assert.deepEqual(names(tokenizer.vocabSize), all); // k = vocabSize keeps everything
  assert.deepEqual(names(1), Array(10).fill("ana")); // greedy: always the likeliest
  assert.deepEqual(names(2), [
    "nan",
    "ana",
    "nab",
    "ana",
    "naba",
    "anna",
    "naba",
    "anna",
    "ann",
    "abba",
  ]);
  assert.deepEqual(names(3), [
    "nan",
    "ana",
    "nab",
    "ana",
    "nba",
    "anb",
    "anna",
    "ana",
    "baba",
    "nnaa",
  ]);
  const { model, rng } = trained(5);
  assert.throws(
    () => sample(model, tokenizer, { rng, temperature: 1, topK: 0 }),
    RangeError,
    "topK (0)",
  );
  assert.throws(
    () => sample(model, tokenizer, { rng, temperature: 1, topK: 1.5 }),
    RangeError,
    "topK (1.5)",
  );
});

Deno.test("keepTopK() keeps the k largest, the lower id first on a tie, renormalised", () => {
  assert.deepEqual(keepTopK([0.25, 0.25, 0.5], 2), [0.3333333333333333, 0, 0.6666666666666666]);
  assert.deepEqual(keepTopK([0.2, 0.3, 0.5], 1), [0, 0, 1]);
  assert.deepEqual(keepTopK([0.2, 0.3, 0.5], 3), [0.2, 0.3, 0.5]);
  assert.deepEqual(keepTopK([0.2, 0.3, 0.5], 9), [0.2, 0.3, 0.5]);
});

Deno.test("sampleTrace() draws what sample() draws and records each position (pinned, seed 3)", () => {
  const { model } = trained(5);
  const trace = sampleTrace(model, tokenizer, {
    rng: new Random(3),
    temperature: 1,
    candidates: 3,
  });
  assert.equal(trace.text, "ana");
  assert.deepEqual(trace.steps.map((s) => [s.position, s.context, s.drawn.char]), [
    [0, "", "a"],
    [1, "a", "n"],
    [2, "an", "a"],
    [3, "ana", ""], // BOS: the end
  ]);
  assert.deepEqual(trace.steps[0]!.candidates, [
    { id: 0, char: "a", prob: 0.5666241583294623 },
    { id: 2, char: "n", prob: 0.19711487204738484 },
    { id: 1, char: "b", prob: 0.1878011598785922 },
  ]);
  assert.equal(trace.steps[3]!.drawn.prob, 0.9335619469440272);
  // Over many draws, with a prefix, a temperature and top-k: trace and sample agree, and the
  // generator ends in the same state.
  for (
    const options of [{ temperature: 0.5 }, { temperature: 1.3, prefix: "b" }, {
      temperature: 1,
      topK: 2,
    }]
  ) {
    const a = new Random(11);
    const b = new Random(11);
    for (let i = 0; i < 20; i++) {
      const traced = sampleTrace(model, tokenizer, { rng: a, ...options });
      assert.equal(traced.text, sample(model, tokenizer, { rng: b, ...options }));
      for (const step of traced.steps) {
        const probs = step.candidates.map((c) => c.prob);
        assert.deepEqual(probs, probs.toSorted((x, y) => y - x));
        if (options.topK) assert.equal(step.candidates.filter((c) => c.prob > 0).length, 2);
      }
    }
    assert.equal(a.random(), b.random());
  }
});
