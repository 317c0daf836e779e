// The web edition's modules outside a browser (no Chromium, a few seconds): the page's run gives
// microgpt.py's numbers, its log reads as the command line's stdout, and the page reads documents
// and checkpoints with lib/io's own functions, not copies.

import assert from "node:assert/strict";
import { join } from "node:path";
import { Adam } from "../../lib/adam.ts";
import { createEngine } from "../../lib/engine.ts";
import { parseDocs as libParseDocs } from "../../lib/io/data.ts";
import {
  type Checkpoint,
  checkpointOf,
  decodeCheckpoint,
  docsSha256,
  loadCheckpoint,
  restoreCheckpoint,
  saveCheckpoint,
} from "../../lib/io/checkpoint.ts";
import { UserError } from "../../lib/io/errors.ts";
import { encodeSafetensors, type TensorToWrite } from "../../lib/io/safetensors.ts";
import { createGpt, DEFAULT_CONFIG, paramShapes } from "../../lib/model.ts";
import { Random } from "../../lib/random.ts";
import { Tokenizer } from "../../lib/tokenizer.ts";
import { sampleTrace } from "../../lib/sample.ts";
import { docTokens } from "../../lib/train.ts";
import { attentionMaps } from "../../web/attention.ts";
import { checkpointSampler, parseCheckpoint } from "../../web/checkpoint.ts";
import {
  configQuery,
  DEFAULT_WEB_CONFIG,
  InputError,
  parseConfig,
  type WebConfig,
} from "../../web/config.ts";
import { parseDocs } from "../../web/docs.ts";
import { drawSamples, Run, sampleLine, stepLine } from "../../web/run.ts";
import { Terminal } from "../../web/terminal.ts";
import { fixture, haveNames, NAMES_PATH } from "../_names.ts";
import { screen } from "./_screen.ts";

const FIXTURES = new URL("../fixtures/", import.meta.url).pathname;
const reference = fixture<{ losses: string[]; samples: string[] }>("microgpt_py_seed42.json");
const referenceStdout = Deno.readTextFileSync(join(FIXTURES, "microgpt_py_seed42_stdout.txt"));

Deno.test({
  name: "Run gives microgpt.py's losses, stdout and 20 names with the page's defaults",
  ignore: !haveNames(),
  fn() {
    const run = Run.start(parseDocs(Deno.readTextFileSync(NAMES_PATH)), DEFAULT_WEB_CONFIG);
    const terminal = new Terminal();
    terminal.write(`num docs: ${run.docs.length}\nvocab size: ${run.tokenizer.vocabSize}\n`);
    terminal.write(`num params: ${run.engine.numParams}\n`);
    while (!run.done) {
      const loss = run.trainStep();
      // the fast engine sums some gradients in another order: ~1e-16 apart, the same to print
      const want = Number(reference.losses[run.step - 1]);
      assert.ok(Math.abs(loss - want) <= 1e-12 * want, `step ${run.step}: ${loss} vs ${want}`);
      terminal.write(`${stepLine(run.step, run.numSteps, loss)}\r`);
    }
    terminal.write("\n--- inference (new, hallucinated names) ---\n");
    const names = drawSamples(run, { count: 20, temperature: 0.5, prefix: "" });
    assert.deepEqual(names.map((d) => d.text), reference.samples);
    names.forEach((d, i) => terminal.write(`${sampleLine(i + 1, d.text)}\n`));
    assert.equal(terminal.text, screen(referenceStdout));
  },
});

Deno.test("Run trains the Value and fast engines to the same losses and names", () => {
  const docs = Deno.readTextFileSync(join(FIXTURES, "syllable_names.txt")).split("\n");
  const options = { ...DEFAULT_WEB_CONFIG, steps: 40, valSplit: 0.2, seed: 5 };
  const [value, fast] = (["value", "fast"] as const).map((engine) => {
    const run = Run.start(docs, { ...options, engine });
    while (!run.done) run.trainStep();
    return run;
  });
  value!.losses.forEach((loss, i) => {
    assert.ok(Math.abs(loss - fast!.losses[i]!) <= 1e-12 * loss, `step ${i + 1}`);
  });
  assert.equal(value!.evaluate()!.positions, fast!.evaluate()!.positions);
  const draw = (run: Run) => drawSamples(run, { count: 10, temperature: 0.8, prefix: "" });
  assert.deepEqual(draw(value!).map((d) => d.text), draw(fast!).map((d) => d.text));
});

Deno.test("Run.start() refuses what the command line refuses, as an InputError", () => {
  const start = (docs: string[], changes: Partial<WebConfig>) => () =>
    Run.start(docs, { ...DEFAULT_WEB_CONFIG, ...changes });
  assert.throws(start([], {}), InputError, "the text has no documents");
  assert.throws(start(["ab", "cd"], { valSplit: 0.1 }), InputError, "holds out none");
  assert.throws(start(["ab"], { nEmbd: 10, nHead: 4 }), InputError, "divisible by nHead");
  const run = Run.start(["ab", "ba"], { ...DEFAULT_WEB_CONFIG, lr: 1e6 });
  assert.throws(
    () => {
      while (!run.done) run.trainStep();
    },
    InputError,
    "lower lr",
  );
});

Deno.test("drawSamples() refuses a prefix outside the vocabulary as an InputError", () => {
  const run = Run.start(["ab", "ba"], { ...DEFAULT_WEB_CONFIG, steps: 1 });
  const draw = (prefix: string) => () => drawSamples(run, { count: 1, temperature: 0.5, prefix });
  assert.throws(draw("z"), InputError, 'character "z"');
  assert.throws(draw("a".repeat(16)), InputError, "the context holds 15");
});

Deno.test("parseConfig() reads every setting and configQuery() writes them back", () => {
  const query =
    "n_layer=2&n_embd=32&n_head=8&block_size=8&steps=2000&seed=7&lr=0.02&val_split=0.1" +
    "&eval_every=50&engine=value&temperature=0.8&samples=5&prefix=ma&run=1";
  const { config, errors } = parseConfig(new URLSearchParams(query));
  assert.deepEqual(errors, []);
  assert.deepEqual(config, {
    nLayer: 2,
    nEmbd: 32,
    nHead: 8,
    blockSize: 8,
    steps: 2000,
    seed: 7,
    lr: 0.02,
    valSplit: 0.1,
    evalEvery: 50,
    engine: "value",
    temperature: 0.8,
    samples: 5,
    prefix: "ma",
    run: true,
  });
  assert.equal(configQuery(config), query);
  assert.equal(
    parseConfig(new URLSearchParams("seed=-18446744073709551617")).config.seed,
    -18446744073709551617n,
  );
  assert.equal(parseConfig(new URLSearchParams("run")).config.run, true);
});

Deno.test("parseConfig() keeps the default of a malformed setting and says why", () => {
  const { config, errors } = parseConfig(
    new URLSearchParams("n_layer=0&n_embd=1e3&steps=2000000&seed=1.5&lr=-1&val_split=1&engine=gpu"),
  );
  const defaults = { ...DEFAULT_WEB_CONFIG };
  assert.deepEqual(config, defaults);
  assert.deepEqual(errors, [
    "Cannot read the setting n_layer: 0 must be a whole number from 1",
    "Cannot read the setting n_embd: 1e3 must be a whole number from 1",
    "Cannot read the setting steps: 2000000 must be at most 1,000,000",
    "Cannot read the setting seed: 1.5 must be an integer",
    "Cannot read the setting lr: -1 must be a number above 0",
    "Cannot read the setting val_split: 1 must be a fraction from 0 up to 1",
    'Cannot read the setting engine: gpu must be "fast" or "value"',
  ]);
});

Deno.test("the page splits text with the library's parseDocs(), not a copy", () => {
  assert.equal(parseDocs, libParseDocs);
});

// A checkpoint of a short run, saved by lib/io (as `deno task train --save` saves it), and the
// names the run would sample next.
async function savedCheckpoint(dir: string): Promise<{ path: string; names: string[] }> {
  const docs = ["emma", "olivia", "ava", "isabella", "sophia"];
  const rng = new Random(42);
  rng.shuffle(docs);
  const tokenizer = Tokenizer.fromDocs(docs);
  const config = { ...DEFAULT_CONFIG, vocabSize: tokenizer.vocabSize };
  const engine = createEngine("fast", config, { rng });
  const adam = new Adam(engine.numParams, { numSteps: 5 });
  for (let step = 0; step < 5; step++) engine.trainStep(docTokens(tokenizer, docs[step]!), adam);
  const data = { path: null, numDocs: docs.length, sha256: await docsSha256(docs) };
  const path = join(dir, "ck.safetensors");
  const train = { seed: 42, data };
  await saveCheckpoint(path, checkpointOf({ engine, adam, tokenizer, rng, train }));
  const names = Array.from(
    { length: 8 },
    () => engine.sample(tokenizer, { rng, temperature: 0.5 }),
  );
  return { path, names };
}

const inTempDir = (fn: (dir: string) => Promise<void>) => async () => {
  const dir = await Deno.makeTempDir();
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
};

Deno.test(
  "parseCheckpoint() reads both versions with lib/io's decoder, and samples as deno task sample does",
  inTempDir(async (dir) => {
    const { path, names } = await savedCheckpoint(dir);
    for (const file of [path, join(FIXTURES, "checkpoint_v1.json")]) {
      const bytes = await Deno.readFile(file);
      const decoded = decodeCheckpoint(bytes, "ck");
      assert.deepEqual(parseCheckpoint(bytes, "ck"), decoded);
      // the library's in-memory decoder reads what its file loader reads
      assert.deepEqual(decoded, await loadCheckpoint(file));
    }
    const checkpoint = parseCheckpoint(await Deno.readFile(path), "ck.safetensors");
    for (const engine of ["fast", "value"] as const) {
      const sampler = checkpointSampler(checkpoint, { engine });
      const drawn = drawSamples(sampler, { count: 8, temperature: 0.5, prefix: "" });
      assert.deepEqual(drawn.map((d) => d.text), names);
      const restored = restoreCheckpoint(checkpoint, { engine });
      assert.deepEqual(sampler.engine.parameters(), restored.engine.parameters());
    }
  }),
);

// A version-2 file of a checkpoint, with its metadata and tensors changed as given.
function encodeV2(
  c: Checkpoint,
  change: { meta?: Record<string, string>; tensors?: (t: TensorToWrite[]) => TensorToWrite[] } = {},
): Uint8Array {
  const params = Float64Array.from(c.params);
  let at = 0;
  let tensors: TensorToWrite[] = paramShapes(c.config).map(([name, rows, cols]) => {
    const data = params.subarray(at, at += rows * cols);
    return { name, shape: [rows, cols], data };
  });
  tensors.push({ name: "adam.m", shape: [params.length], data: Float64Array.from(c.adam.m) });
  tensors.push({ name: "adam.v", shape: [params.length], data: Float64Array.from(c.adam.v) });
  if (change.tensors) tensors = change.tensors(tensors);
  const metadata = {
    format: c.format,
    version: "2",
    config: JSON.stringify(c.config),
    uchars: JSON.stringify(c.uchars),
    train: JSON.stringify(c.train),
    step: String(c.step),
    "adam.t": String(c.adam.t),
    rng: JSON.stringify(c.rng),
    ...change.meta,
  };
  return encodeSafetensors(tensors, metadata);
}

Deno.test(
  "parseCheckpoint() refuses a broken file with lib/io's message, as an InputError",
  inTempDir(async (dir) => {
    const v1 = JSON.parse(await Deno.readTextFile(join(FIXTURES, "checkpoint_v1.json")));
    const { path } = await savedCheckpoint(dir);
    const good = await Deno.readFile(path);
    const c = await loadCheckpoint(path);
    assert.deepEqual(parseCheckpoint(encodeV2(c), "ck"), c); // unchanged, it loads
    const json = (change: (c: Record<string, unknown>) => unknown) =>
      new TextEncoder().encode(JSON.stringify(change(v1)));
    const nan = (t: TensorToWrite[]) =>
      t.map((x) => x.name === "wte" ? { ...x, data: x.data.map((v, i) => i === 3 ? NaN : v) } : x);
    const broken: [string, Uint8Array][] = [
      ["not a checkpoint", new TextEncoder().encode("hello")],
      ["not valid JSON", new TextEncoder().encode('{"format": "microgpt-ts-checkpoint",')],
      ["format is", json((c) => ({ ...c, format: "other" }))],
      ["version 3 is not supported", json((c) => ({ ...c, version: 3 }))],
      [
        "must be divisible by config.nHead (3)",
        json((c) => ({ ...c, config: { ...(c.config as object), nHead: 3 } })),
      ],
      ["uchars has 1 characters", json((c) => ({ ...c, uchars: ["a"] }))],
      [
        "the characters must be sorted",
        json((c) => ({ ...c, uchars: [...(c.uchars as string[])].reverse() })),
      ],
      ["train.steps", json((c) => ({ ...c, train: { ...(c.train as object), steps: 0 } }))],
      ["step (31)", json((c) => ({ ...c, step: 31 }))],
      ["params has 3 numbers", json((c) => ({ ...c, params: [1, 2, 3] }))],
      [
        "params[0] (null)",
        json((c) => ({ ...c, params: [null, ...(c.params as number[]).slice(1)] })),
      ],
      ["adam.t (1) must equal", json((c) => ({ ...c, adam: { ...(c.adam as object), t: 1 } }))],
      [
        "rng.index (9999) must be an integer in 0..624",
        json((c) => ({ ...c, rng: { ...(c.rng as object), index: 9999 } })),
      ],
      ["is more than the file holds", good.slice(0, 100)],
      ["the tensors end at byte", good.slice(0, good.length - 8)],
      ['version "3" is not supported', encodeV2(c, { meta: { version: "3" } })],
      ["adam.t (4) must equal", encodeV2(c, { meta: { "adam.t": "4" } })],
      [
        "tensor wpe has shape",
        encodeV2(c, { meta: { config: JSON.stringify({ ...c.config, blockSize: 8 }) } }),
      ],
      ["wte[0][3] (NaN) is not a finite", encodeV2(c, { tensors: nan })],
      [
        'tensor "extra" is not part',
        encodeV2(c, {
          tensors: (t) => [...t, { name: "extra", shape: [1], data: new Float64Array(1) }],
        }),
      ],
      [
        "tensor adam.v is missing",
        encodeV2(c, { tensors: (t) => t.filter((x) => x.name !== "adam.v") }),
      ],
    ];
    const file = join(dir, "bad");
    const messageOf = (fn: () => unknown, type: new (...args: never[]) => Error) => {
      try {
        fn();
      } catch (err) {
        assert.ok(err instanceof type, `${(err as Error).name}: ${(err as Error).message}`);
        return err.message;
      }
      assert.fail("it loaded");
    };
    for (const [why, bytes] of broken) {
      const message = messageOf(() => decodeCheckpoint(bytes, file), UserError);
      assert.ok(message.startsWith(`Cannot load checkpoint ${file}: `), message);
      assert.ok(message.includes(why), `${message} (expected ${why})`);
      // the page says what the library says, as its own error type
      assert.equal(messageOf(() => parseCheckpoint(bytes, file), InputError), message);
      // and the library says the same of the file
      await Deno.writeFile(file, bytes);
      await assert.rejects(() => loadCheckpoint(file), new UserError(message));
    }
  }),
);

Deno.test("sampleTrace() replays the page's samples from their generator states", () => {
  const docs = Deno.readTextFileSync(join(FIXTURES, "syllable_names.txt")).split("\n");
  for (const engine of ["fast", "value"] as const) {
    const run = Run.start(docs, { ...DEFAULT_WEB_CONFIG, steps: 30, engine });
    while (!run.done) run.trainStep();
    const model = createGpt(run.engine.config, { params: run.engine.parameters() });
    for (const [temperature, prefix] of [[0.5, ""], [1.5, ""], [0.9, "ba"]] as const) {
      for (const drawn of drawSamples(run, { count: 10, temperature, prefix })) {
        const rng = new Random();
        rng.setState(drawn.state);
        const trace = sampleTrace(model, run.tokenizer, { rng, temperature, prefix });
        assert.equal(trace.text, drawn.text);
        assert.equal(prefix + trace.steps.map((s) => s.drawn.char).join(""), drawn.text);
      }
    }
  }
});

Deno.test("attentionMaps() keeps every head's weights over BOS and the text", () => {
  const run = Run.start(["emma", "olivia", "ava"], { ...DEFAULT_WEB_CONFIG, nLayer: 2, steps: 3 });
  const model = createGpt(run.engine.config, { params: run.engine.parameters() });
  const { tokens, weights } = attentionMaps(model, run.tokenizer, "emma");
  assert.deepEqual(tokens, [null, "e", "m", "m", "a"]);
  assert.equal(weights.length, 2);
  for (const layer of weights) {
    assert.equal(layer.length, 4);
    for (const head of layer) {
      assert.deepEqual(head.map((row) => row.length), [1, 2, 3, 4, 5]);
      for (const row of head) assert.ok(Math.abs(row.reduce((a, b) => a + b) - 1) < 1e-12);
    }
  }
  // A text longer than the context is cut to it.
  assert.equal(attentionMaps(model, run.tokenizer, "ava".repeat(10)).tokens.length, 16);
});
