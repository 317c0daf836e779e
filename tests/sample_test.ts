import assert from "node:assert/strict";
import { Adam } from "@lib/adam.ts";
import { createGpt, DEFAULT_CONFIG } from "@lib/model.ts";
import { Random } from "@lib/random.ts";
import { sample } from "@lib/sample.ts";
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
