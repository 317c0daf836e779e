import assert from "node:assert/strict";
import { splitDocs } from "@lib/eval.ts";
import { parseDocs } from "@lib/io/data.ts";
import { chooseK, K_GRID, lossLadder, NgramModel } from "@lib/ngram.ts";
import { Random } from "@lib/random.ts";
import { Tokenizer } from "@lib/tokenizer.ts";
import { haveNames, NAMES_PATH } from "./_names.ts";

const fixtureDocs = (name: string) =>
  parseDocs(Deno.readTextFileSync(new URL(`./fixtures/${name}`, import.meta.url)));

// The fixture shuffled and split as the CLI does it with --seed and --val-split.
function splitFixture(name: string, seed: number, valSplit: number) {
  const docs = fixtureDocs(name);
  new Random(seed).shuffle(docs);
  return { tokenizer: Tokenizer.fromDocs(docs), split: splitDocs(docs, valSplit) };
}

// tests/_ngram.py's numbers, or null where python3 is missing (an error under CI).
function cpython(args: string[]): { heldout: number[][]; choose: number[][] } | null {
  const script = new URL("./_ngram.py", import.meta.url).pathname;
  let out;
  try {
    out = new Deno.Command("python3", { args: [script, ...args], stderr: "inherit" }).outputSync();
  } catch (err) {
    if (Deno.env.get("CI") || !(err instanceof Deno.errors.NotFound)) throw err;
    console.warn("skipping: python3 is not installed");
    return null;
  }
  assert.ok(out.success, "tests/_ngram.py failed");
  return JSON.parse(new TextDecoder().decode(out.stdout));
}

const close = (a: number, b: number, what: string) =>
  assert.ok(Math.abs(a - b) <= 1e-12 * Math.max(1, Math.abs(b)), `${what}: ${a} vs ${b}`);

for (
  const [fixture, seed, valSplit, blockSize] of [
    ["unicode_names.txt", 42, 0.2, 6], // names longer than the context get cut
    ["syllable_names.txt", 7, 0.25, 16],
  ] as const
) {
  Deno.test(`NgramModel.evaluate() and chooseK() match CPython on ${fixture} (n = 0..4, every k)`, () => {
    const path = new URL(`./fixtures/${fixture}`, import.meta.url).pathname;
    const py = cpython([path, `${seed}`, `${valSplit}`, `${blockSize}`]);
    if (py === null) return;
    const { tokenizer, split } = splitFixture(fixture, seed, valSplit);
    for (let n = 0; n <= 4; n++) {
      K_GRID.forEach((k, i) => {
        const model = NgramModel.fit(tokenizer, split.train, { n, k, blockSize });
        close(model.evaluate(tokenizer, split.val).loss, py.heldout[n]![i]!, `n ${n} k ${k}`);
      });
      const { losses } = chooseK(tokenizer, split.train, { n, blockSize });
      losses.forEach(({ loss }, i) =>
        close(loss, py.choose[n]![i]!, `chooseK n ${n} k ${K_GRID[i]}`)
      );
    }
  });
}

Deno.test("NgramModel.prob() is add-k smoothed counts of the previous n - 1 tokens, BOS-padded", () => {
  const tokenizer = Tokenizer.fromDocs(["abc", "abd"]); // a b c d, BOS = 4
  const BOS = tokenizer.BOS;
  const trigram = NgramModel.fit(tokenizer, ["abc", "abd"], { n: 3, k: 0.5 });
  // context (BOS, BOS) is the start of every name: "a" twice
  assert.equal(trigram.prob([BOS], 0), (2 + 0.5) / (2 + 0.5 * 5));
  assert.equal(trigram.prob([BOS, 0, 1], 2), (1 + 0.5) / (2 + 0.5 * 5)); // "ab" -> c once of 2
  assert.equal(trigram.prob([BOS, 0, 1, 2], BOS), (1 + 0.5) / (1 + 0.5 * 5)); // "bc" -> end
  assert.equal(trigram.prob([BOS, 2, 2], 0), 0.5 / (0.5 * 5)); // unseen context: uniform
  const unigram = NgramModel.fit(tokenizer, ["abc", "abd"], { n: 1, k: 1 });
  assert.equal(unigram.prob([BOS, 0], 0), (2 + 1) / (8 + 5)); // 8 targets: 6 characters, 2 BOS
  const uniform = NgramModel.fit(tokenizer, [], { n: 0, k: 1 });
  assert.equal(uniform.evaluate(tokenizer, ["abc"]).loss, Math.log(5));
  for (let n = 1; n <= 4; n++) {
    const model = NgramModel.fit(tokenizer, ["abc", "abd"], { n, k: 0.1 });
    for (const context of [[BOS], [BOS, 0], [BOS, 0, 1], [BOS, 3, 3, 3]]) {
      const total = [0, 1, 2, 3, 4].reduce((s, x) => s + model.prob(context, x), 0);
      assert.ok(Math.abs(total - 1) < 1e-12, `n ${n}: probabilities add up to ${total}`);
    }
  }
});

Deno.test("NgramModel.evaluate() scores the positions evaluate() scores: the first blockSize", () => {
  const tokenizer = Tokenizer.fromDocs(["abcdef"]);
  const model = NgramModel.fit(tokenizer, ["abcdef"], { n: 2, k: 1, blockSize: 4 });
  assert.equal(model.evaluate(tokenizer, ["abcdef", "ab"]).positions, 4 + 3);
  const full = NgramModel.fit(tokenizer, ["abcdef"], { n: 2, k: 1, blockSize: 16 });
  assert.equal(full.evaluate(tokenizer, ["abcdef"]).positions, 7);
});

Deno.test("NgramModel.fit() and chooseK() reject bad settings with the message", () => {
  const tokenizer = Tokenizer.fromDocs(["ab"]);
  assert.throws(() => NgramModel.fit(tokenizer, ["ab"], { n: -1, k: 1 }), RangeError, "n (-1)");
  assert.throws(() => NgramModel.fit(tokenizer, ["ab"], { n: 2, k: 0 }), RangeError, "k (0)");
  assert.throws(
    () => NgramModel.fit(tokenizer, ["ab"], { n: 2, k: 1, blockSize: 0 }),
    RangeError,
    "blockSize (0)",
  );
  const model = NgramModel.fit(tokenizer, ["ab"], { n: 2, k: 1 });
  assert.throws(() => model.prob([2], 3), RangeError, "Cannot score token 3");
  assert.throws(() => model.evaluate(tokenizer, []), RangeError, "no documents");
  assert.throws(() => chooseK(tokenizer, ["ab"], { n: 2 }), RangeError, "Cannot choose k");
});

Deno.test({
  name: "lossLadder() on names.txt (seed 42, last 10% held out): the issue's figures at k = 0.1",
  ignore: !haveNames(),
  fn: () => {
    const docs = parseDocs(Deno.readTextFileSync(NAMES_PATH));
    new Random(42).shuffle(docs);
    const tokenizer = Tokenizer.fromDocs(docs);
    const split = splitDocs(docs, 0.1);
    const fixed = lossLadder(tokenizer, split, { k: 0.1 });
    assert.deepEqual(fixed.map((r) => r.name), [
      "uniform",
      "unigram",
      "bigram",
      "trigram",
      "4-gram",
    ]);
    assert.deepEqual(fixed.map((r) => r.loss.toFixed(4)), [
      "3.2958",
      "2.8254",
      "2.4575",
      "2.2224",
      "2.0925",
    ]);
    const chosen = lossLadder(tokenizer, split);
    assert.deepEqual(chosen.map((r) => r.k), [NaN, 1, 0.3, 0.1, 0.1]);
    assert.deepEqual(chosen.map((r) => r.loss.toFixed(4)), [
      "3.2958",
      "2.8254",
      "2.4576",
      "2.2224",
      "2.0925",
    ]);
    for (const r of chosen) assert.equal(r.bits, r.loss / Math.LN2);
  },
});
