// Checkpoints: from the command line (--save, --load, --stop-at, --save-every, `deno task
// sample`), from code (checkpointOf, saveCheckpoint, loadCheckpoint, restoreCheckpoint), across
// engines and across versions of this code, and under interruption (SIGINT, SIGKILL).

import assert from "node:assert/strict";
import { inTempDir } from "./_temp.ts";
import { runCli, runQuiet } from "./_cli.ts";
import { join } from "node:path";
import { runSample } from "@lib/cli/main.ts";
import { parseFlags, parseSampleFlags } from "@lib/cli/flags.ts";
import { Adam } from "@lib/adam.ts";
import { createEngine, type Engine, type EngineName } from "@lib/engine.ts";
import { parseDocs } from "@lib/io/data.ts";
import {
  checkpointOf,
  docsSha256,
  loadCheckpoint,
  restoreCheckpoint,
  saveCheckpoint,
} from "@lib/io/checkpoint.ts";
import { DEFAULT_CONFIG } from "@lib/model.ts";
import { Random } from "@lib/random.ts";
import { Tokenizer } from "@lib/tokenizer.ts";
import { docTokens } from "@lib/train.ts";

const UNICODE = new URL("./fixtures/unicode_names.txt", import.meta.url).pathname;
const CLI = new URL("../lib/cli/main.ts", import.meta.url).pathname;

const cli = runCli;

// Starts a training process on the Unicode names that saves to `ck`, and waits for its first
// checkpoint.
async function startSaving(ck: string, args: string[]): Promise<Deno.ChildProcess> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-read", "--allow-write", CLI, "--data", UNICODE, "--save", ck, ...args],
    stdout: "null",
    stderr: "null",
  }).spawn();
  for (let i = 0; i < 1000 && !(await Deno.stat(ck).catch(() => null)); i++) {
    await new Promise((r) => setTimeout(r, 10));
  }
  return child;
}

const base = { data: UNICODE, seed: 11, steps: 60, blockSize: 12, samples: 5 };

for (const engine of ["value", "fast"] as const) {
  Deno.test(
    `--stop-at then --load gives the same bits as one run (${engine} engine)`,
    inTempDir(async (dir) => {
      const ck = join(dir, "ck.json");
      const whole = await runQuiet({ ...base, engine });
      const first = await runQuiet({ ...base, engine, stopAt: 25, save: ck });
      assert.deepEqual(first.result.steps, Array.from({ length: 25 }, (_, i) => i + 1));
      assert.deepEqual(first.result.samples, []);
      assert.match(first.err, /stopped after step 25 of 60; resume with --load/);
      const saved = await loadCheckpoint(ck);
      assert.equal(saved.step, 25);
      const rest = await runQuiet({ engine, load: ck, samples: 5 });
      assert.deepEqual(rest.result.steps, Array.from({ length: 35 }, (_, i) => i + 26));
      assert.deepEqual([...first.result.losses, ...rest.result.losses], whole.result.losses);
      assert.deepEqual(rest.result.samples, whole.result.samples);
      assert.ok(rest.out.includes("step   26 /   60 |") && !rest.out.includes("step   25 /"));
    }),
  );
}

Deno.test(
  "a checkpoint saved by one engine resumes in the other",
  inTempDir(async (dir) => {
    const ck = join(dir, "ck.json");
    const whole = await runQuiet({ ...base, engine: "fast" });
    await runQuiet({ ...base, engine: "fast", stopAt: 30, save: ck });
    const rest = await runQuiet({ engine: "value", load: ck, samples: 5 });
    rest.result.losses.forEach((loss, i) => {
      const want = whole.result.losses[30 + i]!;
      assert.ok(Math.abs(loss - want) <= 1e-12 * want);
    });
    assert.deepEqual(rest.result.samples, whole.result.samples);
  }),
);

Deno.test(
  "--save-every keeps a loadable checkpoint, and --save at the end has the last step",
  inTempDir(async (dir) => {
    const ck = join(dir, "ck.json");
    await runQuiet({ ...base, engine: "fast", save: ck, saveEvery: 20, stopAt: 50 });
    assert.equal((await loadCheckpoint(ck)).step, 50);
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["ck.json"]); // no temp file
  }),
);

Deno.test(
  "Ctrl-C during training leaves the last checkpoint intact",
  inTempDir(async (dir) => {
    const ck = join(dir, "ck.json");
    const child = await startSaving(ck, ["--steps", "100000", "--save-every", "5"]);
    // A few checkpoints later, interrupt mid-run.
    await new Promise((r) => setTimeout(r, 700));
    child.kill("SIGINT");
    const status = await child.status;
    assert.notEqual(status.code, 0);
    const saved = await loadCheckpoint(ck);
    assert.ok(saved.step >= 5 && saved.step % 5 === 0, `step ${saved.step}`);
  }),
);

Deno.test(
  "bad checkpoints get a clear error naming the problem, and nothing is overwritten",
  inTempDir(async (dir) => {
    const good = join(dir, "good.json");
    await runQuiet({ ...base, engine: "fast", stopAt: 10, save: good });
    const goodText = await Deno.readTextFile(good);
    const json = JSON.parse(goodText);
    const variants: [string, string, RegExp][] = [
      [
        "truncated",
        goodText.slice(0, goodText.length / 2),
        /not valid JSON \(truncated or corrupted\)/,
      ],
      ["version", JSON.stringify({ ...json, version: 99 }), /version 99 is not supported/],
      ["format", JSON.stringify({ ...json, format: "pytorch" }), /format is "pytorch"/],
      [
        "shape",
        JSON.stringify({ ...json, params: json.params.slice(1) }),
        /params has \d+ numbers, the model needs \d+ \(wrong shape\)/,
      ],
      [
        "corrupted",
        JSON.stringify({
          ...json,
          params: json.params.map((x: number, i: number) => (i === 7 ? "x" : x)),
        }),
        /params\[7\] is not a finite number \(corrupted\)/,
      ],
      [
        "config",
        JSON.stringify({ ...json, config: { ...json.config, nHead: 5 } }),
        /bad config \(.*divisible by nHead/,
      ],
      [
        "adam-step",
        JSON.stringify({ ...json, adam: { ...json.adam, t: json.step + 1 } }),
        /adam\.t must equal step \(10\)/,
      ],
      [
        "uchars",
        JSON.stringify({ ...json, uchars: json.uchars.slice(1) }),
        /uchars must list vocabSize - 1 \(\d+\) characters/,
      ],
      [
        "uchars-type",
        JSON.stringify({ ...json, uchars: json.uchars.map((c: string, i: number) => i ? c : 7) }),
        /uchars must list vocabSize - 1/,
      ],
      [
        "step-past-schedule",
        JSON.stringify({ ...json, step: 61, adam: { ...json.adam, t: 61 } }),
        /step \(61\) must be 0 to 60/,
      ],
      [
        "step-negative",
        JSON.stringify({ ...json, step: -1, adam: { ...json.adam, t: -1 } }),
        /step \(-1\) must be 0 to 60/,
      ],
      [
        "seed",
        JSON.stringify({ ...json, train: { ...json.train, seed: 1.5 } }),
        /train \(steps, learningRate, seed, data\) is missing or malformed/,
      ],
      [
        "seed-unsafe-number", // past 2^53 a seed must be stored as text
        JSON.stringify({ ...json, train: { ...json.train, seed: 2 ** 60 } }),
        /train \(steps, learningRate, seed, data\) is missing or malformed/,
      ],
      ["rng", JSON.stringify({ ...json, rng: { mt: [1, 2] } }), /rng state is missing/],
    ];
    for (const [name, text, message] of variants) {
      const path = join(dir, `${name}.json`);
      await Deno.writeTextFile(path, text);
      const r = await cli(["--load", path, "--save", path]);
      assert.equal(r.code, 2, `${name}: ${r.err}`);
      assert.match(r.err, message);
      assert.match(r.err, /error: Cannot load checkpoint .*\.json: /);
      assert.doesNotMatch(r.err, /\n\s+at /);
      assert.equal(await Deno.readTextFile(path), text, `${name} was overwritten`);
    }
    const missing = await cli(["--load", join(dir, "nope.json")]);
    assert.equal(missing.code, 2);
    assert.match(missing.err, /nope.json: no such file/);
    // Resuming on other data is refused too.
    const other = join(dir, "other.txt");
    await Deno.writeTextFile(other, "ana\nbob\n");
    const wrongData = await cli(["--load", good, "--data", other]);
    assert.equal(wrongData.code, 2);
    assert.match(wrongData.err, /not the one the checkpoint was trained on/);
  }),
);

Deno.test(
  "deno task sample generates from a checkpoint: the run's names, a seed, a prefix",
  inTempDir(async (dir) => {
    const ck = join(dir, "ck.json");
    const whole = await runQuiet({ ...base, engine: "fast", save: ck });
    const io = { out: () => {}, err: () => {} };
    // Without --seed it continues the saved generator: the run's own samples.
    assert.deepEqual(
      await runSample(parseSampleFlags(["--checkpoint", ck, "--samples", "5"]), io),
      whole.result.samples,
    );
    const seeded = parseSampleFlags(["--checkpoint", ck, "--seed", "3", "--temperature", "0.8"]);
    const a = await runSample(seeded, io);
    assert.deepEqual(await runSample(seeded, io), a);
    assert.equal(a.length, 20);
    const prefixed = await runSample(
      parseSampleFlags(["--checkpoint", ck, "--prefix", "ma", "--samples", "4"]),
      io,
    );
    assert.ok(prefixed.every((n) => n.startsWith("ma")), prefixed.join());
    const bad = await cli(["sample", "--checkpoint", ck, "--prefix", "zq#"]);
    assert.equal(bad.code, 2);
    assert.match(bad.err, /character "#" \(U\+0023\) at index 2 is not in the vocabulary/);
    const none = await cli(["sample"]);
    assert.equal(none.code, 2);
    assert.match(none.err, /--checkpoint PATH is required/);
  }),
);

Deno.test(
  "crash consistency: SIGKILL at 20 random moments of a --save-every 1 run loses nothing",
  inTempDir(async (dir) => {
    const ck = join(dir, "ck.json");
    const options = { ...base, engine: "fast" as const, steps: 80 };
    const whole = await runQuiet(options);
    const rng = new Random(2024);
    let resumed = 0;
    for (let kill = 0; kill < 20; kill++) {
      await Deno.remove(ck).catch(() => {});
      const child = await startSaving(ck, [
        ...["--seed", "11", "--block-size", "12", "--steps", "80", "--engine", "fast"],
        ...["--save-every", "1"],
      ]);
      // Kill at a random moment of the rest of the run.
      await new Promise((r) => setTimeout(r, rng.random() * 250));
      child.kill("SIGKILL");
      await child.status;
      const saved = await loadCheckpoint(ck); // whatever is there loads
      if (saved.step === 80) continue; // the run finished first
      resumed++;
      const rest = await runQuiet({ engine: "fast", load: ck, samples: 5 });
      assert.deepEqual(rest.result.losses, whole.result.losses.slice(saved.step), `kill ${kill}`);
      assert.deepEqual(rest.result.samples, whole.result.samples);
    }
    assert.ok(resumed >= 10, `only ${resumed} of 20 kills landed mid-run`);
  }),
);

Deno.test(
  "a seed beyond 2^64 survives a checkpoint (as decimal text) and resumes to the same bits",
  inTempDir(async (dir) => {
    const ck = join(dir, "ck.json");
    const seed = parseFlags(["--seed", "-18446744073709551617"]).seed;
    assert.equal(seed, -18446744073709551617n);
    const options = { ...base, engine: "fast" as const, seed, steps: 20 };
    const whole = await runQuiet(options);
    assert.notDeepEqual(
      whole.result.losses,
      (await runQuiet({ ...options, seed: 1 })).result.losses,
    );
    await runQuiet({ ...options, stopAt: 8, save: ck });
    assert.equal((await loadCheckpoint(ck)).train.seed, "-18446744073709551617");
    const rest = await runQuiet({ engine: "fast", load: ck, samples: 5 });
    assert.deepEqual(rest.result.losses, whole.result.losses.slice(8));
    assert.deepEqual(rest.result.samples, whole.result.samples);
  }),
);

// A checkpoint written by the code before checkpointOf() existed (version 1, Value engine,
// step 12 of 30): --data tests/fixtures/syllable_names.txt --seed 3 --steps 30 --stop-at 12
// --n-embd 4 --n-head 1 --block-size 4 --val-split 0.2 --save.
const V1 = new URL("./fixtures/checkpoint_v1.json", import.meta.url).pathname;
const SYLLABLES = new URL("./fixtures/syllable_names.txt", import.meta.url).pathname;
const V1_RUN = {
  data: SYLLABLES,
  seed: 3,
  steps: 30,
  nEmbd: 4,
  nHead: 1,
  blockSize: 4,
  valSplit: 0.2,
  samples: 5,
};

Deno.test(
  "a version-1 checkpoint from before checkpointOf() loads, resumes to the same bits, and is what a save writes now",
  inTempDir(async (dir) => {
    const whole = await runQuiet({ ...V1_RUN, engine: "value" });
    for (const engine of ["value", "fast"] as const) {
      const rest = await runQuiet({ engine, load: V1, data: SYLLABLES, samples: 5 });
      assert.equal(rest.result.steps[0], 13);
      rest.result.losses.forEach((loss, i) => {
        const want = whole.result.losses[12 + i]!;
        if (engine === "value") assert.equal(loss, want, `step ${13 + i}`);
        else assert.ok(Math.abs(loss - want) <= 1e-12 * want, `step ${13 + i}`);
      });
      assert.deepEqual(rest.result.samples, whole.result.samples);
    }
    // The same run saved by this code: the same file, but for the path it was given.
    const ck = join(dir, "ck.json");
    await runQuiet({ ...V1_RUN, engine: "value", stopAt: 12, save: ck });
    const now = JSON.parse(await Deno.readTextFile(ck));
    const then = JSON.parse(await Deno.readTextFile(V1));
    assert.equal(then.train.data.path, "tests/fixtures/syllable_names.txt");
    now.train.data.path = then.train.data.path;
    assert.equal(JSON.stringify(now), JSON.stringify(then));
  }),
);

Deno.test("restoreCheckpoint() then checkpointOf() gives back the checkpoint, with either engine", async () => {
  const saved = await loadCheckpoint(V1);
  for (const engine of ["value", "fast"] as const) {
    const restored = restoreCheckpoint(saved, { engine });
    const { seed, data, valSplit } = saved.train;
    assert.deepEqual(
      checkpointOf({ ...restored, train: { seed: Number(seed), data, valSplit } }),
      saved,
    );
  }
});

// A run written from code: `steps` steps over `docs`, one document a step, with a checkpoint
// saved after step `stopAt` and training carried on by `resumeWith` from the file alone.
async function runFromCode(
  dir: string,
  options: { saveWith: EngineName; resumeWith?: EngineName; stopAt?: number },
): Promise<{ losses: number[]; samples: string[] }> {
  const docs = parseDocs(await Deno.readTextFile(SYLLABLES));
  const steps = 10;
  let rng = new Random(5);
  rng.shuffle(docs);
  let tokenizer = Tokenizer.fromDocs(docs);
  const config = { ...DEFAULT_CONFIG, vocabSize: tokenizer.vocabSize, nEmbd: 8, nHead: 2 };
  let engine: Engine = createEngine(options.saveWith, config, { rng });
  let adam = new Adam(engine.numParams, { numSteps: steps });
  const losses: number[] = [];
  for (let step = 0; step < steps; step++) {
    if (step === options.stopAt) {
      const path = join(dir, "ck.json");
      const data = { path: SYLLABLES, numDocs: docs.length, sha256: await docsSha256(docs) };
      await saveCheckpoint(
        path,
        checkpointOf({ engine, adam, tokenizer, rng, train: { seed: 5, data } }),
      );
      ({ engine, adam, tokenizer, rng } = restoreCheckpoint(await loadCheckpoint(path), {
        engine: options.resumeWith!,
      }));
    }
    losses.push(engine.trainStep(docTokens(tokenizer, docs[step % docs.length]!), adam));
  }
  const samples = Array.from(
    { length: 5 },
    () => engine.sample(tokenizer, { rng, temperature: 0.5 }),
  );
  return { losses, samples };
}

for (
  const [saveWith, resumeWith] of [["value", "value"], ["fast", "fast"], ["fast", "value"], [
    "value",
    "fast",
  ]] as const
) {
  Deno.test(
    `a run saved from code (${saveWith} engine) resumes from the file (${resumeWith} engine) as if it had not stopped`,
    inTempDir(async (dir) => {
      const whole = await runFromCode(dir, { saveWith });
      const resumed = await runFromCode(dir, { saveWith, resumeWith, stopAt: 4 });
      if (saveWith === resumeWith) {
        assert.deepEqual(resumed.losses, whole.losses);
      } else {
        // the backward passes sum some gradients in another order: ~1e-16 apart
        resumed.losses.forEach((loss, i) => {
          assert.ok(Math.abs(loss - whole.losses[i]!) <= 1e-12 * loss, `step ${i + 1}`);
        });
      }
      assert.deepEqual(resumed.samples, whole.samples);
    }),
  );
}

Deno.test("checkpointOf() refuses a run whose parts do not fit together", () => {
  const tokenizer = Tokenizer.fromDocs(["ab", "ba"]);
  const config = { ...DEFAULT_CONFIG, vocabSize: 3 };
  const engine = createEngine("fast", config, { rng: new Random(0) });
  const rng = new Random(0);
  const train = { seed: 0, data: { path: null, numDocs: 2, sha256: "" } };
  const adam = new Adam(engine.numParams, { numSteps: 5 });
  const cases: [Parameters<typeof checkpointOf>[0], string][] = [
    [
      { engine, adam: new Adam(7, { numSteps: 5 }), tokenizer, rng, train },
      "Adam has moments for 7 parameters, the model has 3424",
    ],
    [
      { engine, adam, tokenizer: Tokenizer.fromDocs(["abc"]), rng, train },
      "the tokenizer has 4 tokens, the model 3",
    ],
    [
      {
        engine,
        adam: new Adam(engine.numParams, { numSteps: 5, beta1: 0.9 }),
        tokenizer,
        rng,
        train,
      },
      "Adam's beta1 (0.9) is not the default 0.85",
    ],
    [
      { engine, adam, tokenizer, rng, train: { ...train, seed: 0.5 } },
      "seed (0.5) must be a safe integer or a bigint",
    ],
  ];
  for (const [state, message] of cases) {
    assert.throws(() => checkpointOf(state), RangeError, `Cannot make checkpoint: ${message}`);
  }
  // A seed past 2^53 is kept as decimal text, as the command line keeps it.
  const big = checkpointOf({
    engine,
    adam,
    tokenizer,
    rng,
    train: { ...train, seed: -(2n ** 70n) },
  });
  assert.equal(big.train.seed, "-1180591620717411303424");
});
