// Parity with microgpt.py: the reference's exact stdout, every loss within 1e-12 relative and
// the same samples, on each of the golden runs in ../shared/golden (copied to tests/fixtures).

import assert from "node:assert/strict";
import { main } from "@lib/cli/main.ts";
import { parseFlags, parseSampleFlags, type TrainOptions } from "@lib/cli/flags.ts";
import { fixture, haveNames, NAMES_PATH } from "./_names.ts";
import { runQuiet } from "./_cli.ts";

interface Golden {
  config: Record<string, number | string>;
  num_docs: number;
  vocab_size: number;
  num_params: number;
  losses: string[];
  samples: string[];
}

const decoder = new TextDecoder();

// The settings of the other golden runs (../shared/README.md).
const TWO_LAYERS: Partial<TrainOptions> = {
  data: NAMES_PATH,
  seed: 1,
  steps: 100,
  nLayer: 2,
  temperature: 0.9,
  samples: 5,
};
const UNICODE: Partial<TrainOptions> = {
  data: new URL("./fixtures/unicode_names.txt", import.meta.url).pathname,
  seed: 11,
  steps: 60,
  blockSize: 12,
  temperature: 0.6,
  samples: 5,
};
const ROOT = new URL("../", import.meta.url);

function assertLossesClose(got: number[], golden: string[]) {
  assert.equal(got.length, golden.length);
  got.forEach((loss, i) => {
    const want = Number(golden[i]);
    const rel = Math.abs(loss - want) / want;
    assert.ok(rel <= 1e-12, `step ${i + 1}: ${loss} vs ${want} (relative ${rel})`);
  });
}

Deno.test({
  name: "deno task train prints microgpt.py's stdout byte for byte and writes --json (seed 42)",
  ignore: !haveNames(),
  fn: async () => {
    const golden = fixture<Golden>("microgpt_py_seed42.json");
    const jsonPath = await Deno.makeTempFile({ suffix: ".json" });
    const { code, stdout } = await new Deno.Command(Deno.execPath(), {
      args: ["task", "-q", "train", "--json", jsonPath],
      cwd: ROOT,
      stdout: "piped",
      stderr: "inherit",
    }).output();
    assert.equal(code, 0);
    const want = await Deno.readFile(
      new URL("./fixtures/microgpt_py_seed42_stdout.txt", import.meta.url),
    );
    assert.equal(decoder.decode(stdout), decoder.decode(want));
    const result = JSON.parse(await Deno.readTextFile(jsonPath));
    await Deno.remove(jsonPath);
    assert.deepEqual(
      [result.num_docs, result.vocab_size, result.num_params],
      [golden.num_docs, golden.vocab_size, golden.num_params],
    );
    assertLossesClose(result.losses, golden.losses);
    assert.deepEqual(result.samples, golden.samples);
    assert.deepEqual(result.samples.slice(0, 3), ["kamon", "ann", "karai"]);
  },
});

Deno.test({
  name: "run() matches microgpt.py with 2 layers (seed 1, 100 steps, temperature 0.9)",
  ignore: !haveNames(),
  fn: async () => {
    const golden = fixture<Golden>("microgpt_py_seed1_2layers.json");
    const { result } = await runQuiet(TWO_LAYERS);
    assert.equal(result.num_params, golden.num_params);
    assertLossesClose(result.losses, golden.losses);
    assert.deepEqual(result.samples, golden.samples);
  },
});

Deno.test("run() matches microgpt.py on a Unicode dataset (seed 11, block size 12)", async () => {
  const golden = fixture<Golden>("microgpt_py_seed11_unicode.json");
  const { out, result } = await runQuiet(UNICODE);
  assert.deepEqual(
    [result.num_docs, result.vocab_size, result.num_params],
    [golden.num_docs, golden.vocab_size, golden.num_params],
  );
  assertLossesClose(result.losses, golden.losses);
  assert.deepEqual(result.samples, golden.samples);
  assert.match(
    out,
    /^num docs: 182\nvocab size: 53\nnum params: 4960\nstep {4}1 \/ {3}60 \| loss /,
  );
  assert.ok(out.endsWith(`sample  5: ${golden.samples[4]}\n`));
});

Deno.test("parseFlags() reads every flag, in both --flag value and --flag=value forms", () => {
  const options = parseFlags([
    "--data=x.txt",
    "--seed",
    "-3",
    "--steps=7",
    "--n-layer",
    "2",
    "--n-embd",
    "32",
    "--n-head",
    "8",
    "--block-size",
    "8",
    "--lr",
    "1e-3",
    "--temperature",
    "0.9",
    "--samples",
    "3",
    "--json",
    "out.json",
    "--engine",
    "fast",
    "--top-k=5",
  ]);
  assert.deepEqual(options, {
    data: "x.txt",
    seed: -3,
    steps: 7,
    nLayer: 2,
    nEmbd: 32,
    nHead: 8,
    blockSize: 8,
    lr: 1e-3,
    temperature: 0.9,
    samples: 3,
    json: "out.json",
    engine: "fast",
    topK: 5,
    help: false,
  });
});

Deno.test("parseSampleFlags() reads --trace and --top-k; both are off by default", () => {
  const flags = ["--checkpoint", "ck.json"];
  assert.deepEqual(parseSampleFlags([...flags, "--trace", "--top-k", "3"]), {
    checkpoint: "ck.json",
    samples: 20,
    temperature: 0.5,
    prefix: "",
    trace: true,
    topK: 3,
    help: false,
  });
  const defaults = parseSampleFlags(flags);
  assert.equal(defaults.trace, false);
  assert.equal(defaults.topK, undefined);
  assert.equal(parseFlags([]).topK, undefined);
  assert.throws(() => parseSampleFlags([...flags, "--trace=yes"]), /--trace takes no value/);
  assert.throws(() => parseSampleFlags([...flags, "--top-k", "-1"]), /must be a positive integer/);
});

Deno.test("parseFlags() rejects bad flags and values, saying which and why", () => {
  const cases: [string[], string][] = [
    [["--bogus"], 'unknown flag "--bogus"'],
    [["--steps"], "--steps needs a value"],
    [["--steps", "1.5"], '--steps ("1.5") must be an integer'],
    [["--steps", "0"], "must be a positive integer"],
    [["--n-embd", "-16"], "must be a positive integer"],
    [["--n-embd", "10"], "--n-embd (10) must be divisible by --n-head (4)"],
    [["--temperature", "0"], "must be a number above 0"],
    [["--lr", "abc"], "must be a finite number"],
    [["--samples", "-1"], "must be a positive integer"],
    [["--samples", "0"], "must be a positive integer"],
    [["--stop-at", "5", "--steps", "3"], "--stop-at (5) must be at most --steps (3)"],
    [["--save-every", "5"], "--save-every needs --save PATH"],
    [["--load", "ck.json", "--n-embd", "32"], "--load takes --n-embd from the checkpoint"],
    [["--help=yes"], "--help takes no value"],
    [["--engine", "gpu"], '--engine ("gpu") must be "value" or "fast"'],
  ];
  for (const [args, message] of cases) {
    assert.throws(
      () => parseFlags(args),
      (e: Error) => e.message.includes(message),
      args.join(" "),
    );
  }
});

Deno.test("main() exits 2 with a one-line error for bad flags and a missing data file", async () => {
  const cli = new URL("../lib/cli/main.ts", import.meta.url).pathname;
  for (const args of [["--steps", "x"], ["--data", "/nonexistent/names.txt", "--steps", "1"]]) {
    const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-read", "--allow-write", cli, ...args],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const err = decoder.decode(stderr);
    assert.equal(code, 2, err);
    assert.match(err, /error: Cannot /);
    assert.doesNotMatch(err, /\n\s+at /); // no stack trace
    if (args[0] === "--data") assert.match(err, /nonexistent\/names.txt: no such file/);
    assert.ok(!decoder.decode(stdout).includes("step"));
  }
});

Deno.test("main() prints usage for --help, covering every flag", async () => {
  const out: string[] = [];
  const write = Deno.stdout.writeSync;
  Deno.stdout.writeSync = (p: Uint8Array) => (out.push(decoder.decode(p)), p.length);
  try {
    assert.equal(await main(["--help"]), 0);
  } finally {
    Deno.stdout.writeSync = write;
  }
  const text = out.join("");
  for (const flag of ["--data", "--seed", "--steps", "--n-layer", "--n-embd", "--engine"]) {
    assert.ok(text.includes(flag), flag);
  }
  for (const flag of ["--n-head", "--block-size", "--lr", "--temperature", "--top-k", "--json"]) {
    assert.ok(text.includes(flag), flag);
  }
  assert.ok(text.includes("--samples"));
});

Deno.test({
  name: "run() with --engine fast matches every golden run too",
  ignore: !haveNames(),
  fn: async () => {
    const cases: [string, Partial<TrainOptions>][] = [
      ["microgpt_py_seed42.json", { data: NAMES_PATH }],
      ["microgpt_py_seed1_2layers.json", TWO_LAYERS],
      ["microgpt_py_seed11_unicode.json", UNICODE],
    ];
    const want = await Deno.readTextFile(
      new URL("./fixtures/microgpt_py_seed42_stdout.txt", import.meta.url),
    );
    for (const [file, options] of cases) {
      const golden = fixture<Golden>(file);
      const { out, result } = await runQuiet({ ...options, engine: "fast" });
      assert.equal(result.num_params, golden.num_params);
      assertLossesClose(result.losses, golden.losses);
      assert.deepEqual(result.samples, golden.samples);
      if (file === "microgpt_py_seed42.json") assert.equal(out, want);
    }
  },
});
