// Held-out evaluation: the split, the validation loss, the sample origins, against a CPython
// run of the same contract (a scratch script built on the reference wrote the fixture), with
// both engines; resuming, `deno task eval`, and the errors.

import assert from "node:assert/strict";
import { join } from "node:path";
import { runEval } from "@lib/cli/main.ts";
import { createEngine, ValueGpt } from "@lib/engine.ts";
import { evaluate, sampleOrigins, splitDocs } from "@lib/eval.ts";
import { FastGpt } from "@lib/fast/gpt.ts";
import type { TrainOptions } from "@lib/cli/flags.ts";
import { createKvCache, DEFAULT_CONFIG, gpt, softmax } from "@lib/model.ts";
import { Random } from "@lib/random.ts";
import { Tokenizer } from "@lib/tokenizer.ts";
import { docTokens } from "@lib/train.ts";
import { runCli, runQuiet } from "./_cli.ts";
import { fixture } from "./_names.ts";
import { inTempDir } from "./_temp.ts";

interface ValGolden {
  num_docs: number;
  num_val_docs: number;
  vocab_size: number;
  num_params: number;
  losses: string[];
  evals: { step: number; val_loss: string }[];
  samples: string[];
  sample_origin: string[];
}

const DATA = new URL("./fixtures/syllable_names.txt", import.meta.url).pathname;
// The fixture's settings: 90 names, 22 held out, 68 trained on 3.5 times over.
const SPLIT_RUN: Partial<TrainOptions> = {
  data: DATA,
  seed: 1,
  steps: 240,
  nEmbd: 8,
  nHead: 2,
  blockSize: 8,
  temperature: 0.4,
  valSplit: 0.25,
  evalEvery: 60,
};

for (const engine of ["value", "fast"] as const) {
  Deno.test(`run() with --val-split matches CPython (${engine} engine)`, async () => {
    const golden = fixture<ValGolden>("microgpt_py_valsplit.json");
    const { out, result } = await runQuiet({ ...SPLIT_RUN, engine });
    assert.equal(result.num_docs, golden.num_docs);
    assert.equal(result.num_val_docs, golden.num_val_docs);
    assert.equal(result.num_params, golden.num_params);
    assert.equal(result.losses.length, golden.losses.length);
    result.losses.forEach((loss, i) => {
      const want = Number(golden.losses[i]);
      assert.ok(Math.abs(loss - want) <= 1e-12 * want, `step ${i + 1}: ${loss} vs ${want}`);
    });
    assert.deepEqual(result.evals.map((e) => e.step), golden.evals.map((e) => e.step));
    result.evals.forEach((e, i) => {
      const want = Number(golden.evals[i]!.val_loss);
      assert.ok(Math.abs(e.val_loss - want) <= 1e-9, `eval ${e.step}: ${e.val_loss} vs ${want}`);
    });
    assert.deepEqual(result.samples, golden.samples);
    assert.deepEqual(result.sample_origin, golden.sample_origin);
    // The printed lines: the reference's, plus one per evaluation and the summaries.
    assert.match(out, /^num docs: 90\nval docs: 22 held out; training on 68\nvocab size: 11\n/);
    assert.match(
      out,
      /step {3}60 \/ {2}240 \| loss \d\.\d{4}\r\neval step {3}60 \/ {2}240 \| val loss 1\.5228 \| perplexity 4\.58\n/,
    );
    assert.match(
      out,
      /step {2}240 \/ {2}240 \| loss \d\.\d{4}\r\nval loss 1\.4893 \| perplexity 4\.43 \(22 held-out documents\)\n--- inference/,
    );
    assert.match(out, /\nsamples: 10 new, 9 in the training set, 1 in the held-out set\n$/);
  });
}

Deno.test("evaluate() gives the Value engine's own loss to the last bit, for either engine", () => {
  const docs = parseLines(Deno.readTextFileSync(DATA));
  const tokenizer = Tokenizer.fromDocs(docs);
  for (const blockSize of [4, 16]) { // 4 cuts some documents, 16 none
    const config = { ...DEFAULT_CONFIG, vocabSize: tokenizer.vocabSize, blockSize };
    const value = ValueGpt.create(config, { rng: new Random(blockSize) });
    let total = 0;
    let positions = 0;
    for (const doc of docs) {
      const tokens = docTokens(tokenizer, doc);
      const cache = createKvCache(config);
      for (let t = 0; t < Math.min(config.blockSize, tokens.length - 1); t++) {
        const probs = softmax(gpt(value.model, tokens[t]!, cache));
        total += probs[tokens[t + 1]!]!.log().neg().data;
        positions++;
      }
    }
    const want = { loss: total / positions, positions };
    assert.deepEqual(evaluate(value, tokenizer, docs), want);
    const fast = createEngine("fast", config, { params: value.parameters() });
    assert.deepEqual(evaluate(fast, tokenizer, docs), want);
  }
});

function parseLines(text: string): string[] {
  return text.split("\n").filter((l) => l.length > 0);
}

Deno.test("splitDocs() holds out the last floor(F x n) documents; sampleOrigins() prefers train", () => {
  const docs = ["a", "b", "c", "d", "e", "f", "g"];
  assert.deepEqual(splitDocs(docs, 0.3), { train: ["a", "b", "c", "d", "e"], val: ["f", "g"] });
  assert.deepEqual(splitDocs(docs, 0.1).val, []); // floor(0.7) = 0
  assert.throws(() => splitDocs(docs, 1), RangeError, "must be in [0, 1)");
  assert.deepEqual(
    sampleOrigins(["a", "f", "z", "a"], { train: ["a", "b"], val: ["a", "f"] }),
    ["train", "val", "new", "train"],
  );
});

Deno.test("sampleOrigins() agrees with a Set of each split, for few samples and for many", () => {
  // Generated: the function searches the arrays for up to 100 samples and hashes them beyond.
  const rng = new Random(7);
  const below = (n: number) => Math.floor(rng.random() * n);
  const word = () => "abc".slice(0, 1 + below(3)) + "xyz"[below(3)]!;
  for (let trial = 0; trial < 60; trial++) {
    const split = {
      train: Array.from({ length: below(40) }, word),
      val: Array.from({ length: below(10) }, word),
    };
    const samples = Array.from({ length: below(250) }, word);
    const [train, val] = [new Set(split.train), new Set(split.val)];
    const expected = samples.map((s) => train.has(s) ? "train" : val.has(s) ? "val" : "new");
    assert.deepEqual(sampleOrigins(samples, split), expected, `trial ${trial}`);
  }
});

Deno.test("evaluating draws no random numbers: the samples are the same with or without it", async () => {
  const base = { ...SPLIT_RUN, engine: "fast" as const, steps: 30, evalEvery: undefined };
  const without = await runQuiet(base);
  const every = await runQuiet({ ...base, evalEvery: 1 });
  assert.deepEqual(every.result.losses, without.result.losses);
  assert.deepEqual(every.result.samples, without.result.samples);
  assert.equal(every.result.evals.length, 30);
  assert.deepEqual(every.result.evals.at(-1), without.result.evals.at(-1));
});

Deno.test(
  "a split survives a checkpoint: resuming gives the same bits, and a different split is refused",
  inTempDir(async (dir) => {
    const ck = join(dir, "ck.json");
    const whole = await runQuiet({ ...SPLIT_RUN, engine: "fast" });
    await runQuiet({ ...SPLIT_RUN, engine: "fast", stopAt: 100, save: ck });
    const rest = await runQuiet({
      data: DATA,
      engine: "fast",
      load: ck,
      evalEvery: 60,
      temperature: 0.4,
    });
    assert.deepEqual(rest.result.losses, whole.result.losses.slice(100));
    assert.deepEqual(rest.result.evals, whole.result.evals.filter((e) => e.step > 100));
    assert.deepEqual(rest.result.samples, whole.result.samples);
    assert.deepEqual(rest.result.sample_origin, whole.result.sample_origin);
    const other = await runCli(["--load", ck, "--data", DATA, "--val-split", "0.5"]);
    assert.equal(other.code, 2, other.err);
    assert.match(other.err, /trained with --val-split 0\.25, not 0\.5; drop --val-split/);
    const same = await runCli([
      ...["--load", ck, "--data", DATA, "--val-split", "0.25", "--engine", "fast"],
    ]);
    assert.equal(same.code, 0, same.err);
  }),
);

Deno.test(
  "deno task eval prints a checkpoint's held-out and training loss, without training",
  inTempDir(async (dir) => {
    const ck = join(dir, "ck.json");
    const trained = await runQuiet({ ...SPLIT_RUN, engine: "fast", save: ck });
    let out = "";
    const result = await runEval({ checkpoint: ck, data: DATA, help: false }, {
      out: (t) => (out += t),
      err: () => {},
    });
    assert.equal(result.val!.loss, trained.result.evals.at(-1)!.val_loss);
    assert.ok(result.train.loss < result.val!.loss, "it fits what it trained on better");
    assert.match(out, /^checkpoint: step 240 of 240, 68 training and 22 held-out documents\n/);
    assert.match(out, /\ntrain loss \d\.\d{4} \| perplexity \d+\.\d\d \(\d+ tokens\)\n/);
    assert.match(out, /\nval loss {3}1\.4893 \| perplexity 4\.43 \(\d+ tokens\)\n$/);
    // Through the task, with its least-privilege launcher.
    const task = await new Deno.Command(Deno.execPath(), {
      args: ["task", "-q", "eval", "--checkpoint", ck, "--data", DATA],
      cwd: new URL("..", import.meta.url),
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(task.code, 0, new TextDecoder().decode(task.stderr));
    assert.equal(new TextDecoder().decode(task.stdout), out);
  }),
);

Deno.test(
  "bad splits are refused with one line, exit 2",
  inTempDir(async (dir) => {
    const tiny = join(dir, "tiny.txt");
    await Deno.writeTextFile(tiny, "ana\nbo\ncy\n");
    const cases: [string[], RegExp][] = [
      [
        ["--val-split", "1"],
        /--val-split \("1"\) must be a fraction from 0 up to \(not including\) 1/,
      ],
      [["--val-split", "-0.1"], /must be a fraction/],
      [
        ["--val-split", "0.2"],
        /--val-split 0\.2 of 3 documents holds out none; give at least 0\.3334/,
      ],
      [["--eval-every", "5"], /--eval-every needs held-out documents: add --val-split F/],
    ];
    for (const [args, message] of cases) {
      const r = await runCli(["--data", tiny, "--engine", "fast", ...args]);
      assert.equal(r.code, 2, r.err);
      assert.match(r.err, message);
      assert.doesNotMatch(r.out, /step/);
    }
    // The advised fraction does hold one out.
    const advised = await runCli(["--data", tiny, "--engine", "fast", "--val-split", "0.3334"]);
    assert.equal(advised.code, 0, advised.err);
    assert.match(advised.out, /val docs: 1 held out; training on 2/);
    // A checkpoint trained without a split cannot be evaluated every N steps.
    const ck = join(dir, "ck.json");
    await runQuiet({ data: tiny, engine: "fast", steps: 4, stopAt: 2, save: ck });
    const r = await runCli(["--load", ck, "--data", tiny, "--eval-every", "1"]);
    assert.equal(r.code, 2);
    assert.match(r.err, /was trained without held-out documents/);
  }),
);

Deno.test("--val-split 0 leaves the run as it was, and --json says where samples come from", async () => {
  const base = { data: DATA, engine: "fast" as const, steps: 20, samples: 8 };
  const plain = await runQuiet(base);
  assert.doesNotMatch(plain.out, /val|samples:/);
  assert.equal(plain.result.num_val_docs, 0);
  assert.deepEqual(plain.result.evals, []);
  const docs = new Set(parseLines(Deno.readTextFileSync(DATA)));
  assert.deepEqual(
    plain.result.sample_origin,
    plain.result.samples.map((s) => docs.has(s) ? "train" : "new"),
  );
});

Deno.test("evaluate() walks a trie of prefixes, to exactly the sum a plain loop gives", () => {
  const rng = new Random(9);
  const letters = ["a", "b", "c"]; // few letters: many shared prefixes, duplicates too
  for (let trial = 0; trial < 20; trial++) {
    const docs = Array.from({ length: 1 + Math.floor(rng.random() * 40) }, () =>
      Array.from(
        { length: 1 + Math.floor(rng.random() * 9) },
        () => letters[Math.floor(rng.random() * 3)]!,
      ).join(""));
    const tokenizer = new Tokenizer(letters);
    const blockSize = 1 + Math.floor(rng.random() * 8); // shorter and longer than the documents
    const model = FastGpt.create({ ...DEFAULT_CONFIG, vocabSize: 4, blockSize, nLayer: 2 }, {
      rng,
    });
    let total = 0;
    let positions = 0;
    for (const doc of docs) {
      for (const loss of model.positionLosses(docTokens(tokenizer, doc))) total += loss;
      positions += Math.min(blockSize, [...doc].length + 1);
    }
    assert.deepEqual(evaluate(model, tokenizer, docs), { loss: total / positions, positions });
  }
});
