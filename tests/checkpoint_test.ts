// Checkpoints: from the command line (--save, --load, --stop-at, --save-every, `deno task
// sample`), from code (checkpointOf, saveCheckpoint, loadCheckpoint, restoreCheckpoint), across
// engines and across versions of this code (1, JSON; 2, safetensors), under interruption
// (SIGINT, SIGKILL), and hand-edited into every kind of wrong value, in both versions.

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
import { UserError } from "@lib/io/errors.ts";
import { DEFAULT_CONFIG } from "@lib/model.ts";
import { Random } from "@lib/random.ts";
import { Tokenizer } from "@lib/tokenizer.ts";
import { docTokens } from "@lib/train.ts";
import { DEEP, type RawCheckpoint, rawOf, v1Text, v2Bytes } from "./_checkpoint_files.ts";

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
      const rest = await runQuiet({ engine, load: ck, data: UNICODE, samples: 5 });
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
    const rest = await runQuiet({ engine: "value", load: ck, data: UNICODE, samples: 5 });
    rest.result.losses.forEach((loss, i) => {
      const want = whole.result.losses[30 + i]!;
      assert.ok(Math.abs(loss - want) <= 1e-12 * want);
    });
    assert.deepEqual(rest.result.samples, whole.result.samples);
  }),
);

Deno.test(
  "--load with the other engine than the one that trained says so on stderr, stdout unchanged",
  inTempDir(async (dir) => {
    const ck = join(dir, "ck.json");
    await runQuiet({ ...base, engine: "fast", stopAt: 30, save: ck });
    assert.equal((await loadCheckpoint(ck)).train.engine, "fast");
    const other = await runQuiet({ load: ck, data: UNICODE, samples: 5 }); // --engine value
    assert.match(other.err, /was trained with --engine fast; resuming with the value engine/);
    const same = await runQuiet({ engine: "fast", load: ck, data: UNICODE, samples: 5 });
    assert.doesNotMatch(same.err, /was trained with/);
    assert.equal(same.out, other.out);
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

// Hand edits of a good checkpoint (finding 7 of issue 19 and more), each with the one-line
// error it must give, in both versions. `params[7]` is `wte[0][7]` in version 2 (nEmbd 16).
const EDITS: [string, (raw: RawCheckpoint) => void, RegExp][] = [
  [
    "rng.index 9999",
    (r) => (r.rng.index = 9999),
    /rng\.index \(9999\) must be an integer in 0\.\.624$/,
  ],
  [
    'rng.mt[3] "x"',
    (r) => (r.rng.mt[3] = "x"),
    /rng\.mt\[3\] \("x"\) must be an integer in 0\.\.4294967295$/,
  ],
  ["rng.mt short", (r) => (r.rng.mt = [1, 2]), /rng\.mt \(a list\) must be a list of 624 words$/],
  [
    'gaussNext "NaN"',
    (r) => (r.rng.gaussNext = "NaN"),
    /rng\.gaussNext \("NaN"\) must be a finite number or null$/,
  ],
  [
    "uchars reversed",
    (r) => r.uchars.reverse(),
    /uchars\[1\] \(".*"\) comes before uchars\[0\] \(".*"\); the characters must be sorted by code point$/,
  ],
  [
    "uchars duplicated",
    (r) => (r.uchars[1] = r.uchars[0]),
    /uchars\[1\] \(".*"\) repeats uchars\[0\]$/,
  ],
  ['uchars "ab"', (r) => (r.uchars = "ab"), /uchars \("ab"\) must be a list of characters$/],
  ['uchars ""', (r) => (r.uchars = ""), /uchars \(""\) must be a list of characters$/],
  [
    'uchars[0] "ab"',
    (r) => (r.uchars[0] = "ab"),
    /uchars\[0\] \("ab"\) must be a single character$/,
  ],
  ['uchars[0] ""', (r) => (r.uchars[0] = ""), /uchars\[0\] \(""\) must be a single character$/],
  [
    "uchars short",
    (r) => r.uchars.pop(),
    /uchars has \d+ characters; config\.vocabSize \(\d+\) needs \d+/,
  ],
  [
    "adam.v[7] = -1",
    (r) => (r.adam.v[7] = -1),
    /adam\.v\[7\] \(-1\) must be >= 0: it is an average of squares \(corrupted\)$/,
  ],
  [
    "params[7] = 1e308",
    (r) => (r.params[7] = 1e308),
    /(params\[7\]|wte\[0\]\[7\]) \(1e\+308\) is beyond ±1000000, far from any trained weight \(corrupted\)$/,
  ],
  [
    "params[7] = NaN",
    (r) => (r.params[7] = NaN),
    /(params\[7\]|wte\[0\]\[7\]) \((null|NaN)\) is not a finite number \(corrupted\)$/,
  ],
  [
    "adam.m[0] = Infinity",
    (r) => (r.adam.m[0] = Infinity),
    /adam\.m\[0\] \((null|Infinity)\) is not a finite number/,
  ],
  [
    "deeply nested valSplit",
    (r) => (r.train.valSplit = DEEP),
    /nests deeper than 64 levels \(corrupted\)$/,
  ],
  [
    'valSplit "0.1"',
    (r) => (r.train.valSplit = "0.1"),
    /train\.valSplit \("0\.1"\) must be a number from 0 up to \(not including\) 1$/,
  ],
  [
    'engine "gpu"',
    (r) => (r.train.engine = "gpu"),
    /train\.engine \("gpu"\) must be "value" or "fast"$/,
  ],
  [
    "valSplit [0.1]",
    (r) => (r.train.valSplit = [0.1]),
    /train\.valSplit \(a list\) must be a number from 0 up to/,
  ],
  [
    "valSplit 1",
    (r) => (r.train.valSplit = 1),
    /train\.valSplit \(1\) must be a number from 0 up to/,
  ],
  [
    "learningRate 0",
    (r) => (r.train.learningRate = 0),
    /train\.learningRate \(0\) must be a finite number > 0$/,
  ],
  [
    "learningRate -1",
    (r) => (r.train.learningRate = -1),
    /train\.learningRate \(-1\) must be a finite number > 0$/,
  ],
  [
    'learningRate "1"',
    (r) => (r.train.learningRate = "1"),
    /train\.learningRate \("1"\) must be a finite number > 0$/,
  ],
  ["steps 2.5", (r) => (r.train.steps = 2.5), /train\.steps \(2\.5\) must be a positive integer$/],
  [
    "step past the schedule",
    (r) => (r.step = r.adam.t = 61),
    /step \(61\) must be an integer in 0\.\.60$/,
  ],
  ["step negative", (r) => (r.step = r.adam.t = -1), /step \(-1\) must be an integer in 0\.\.60$/],
  ["adam.t", (r) => (r.adam.t = r.step + 1), /adam\.t \(11\) must equal step \(10\)$/],
  [
    "seed 1.5",
    (r) => (r.train.seed = 1.5),
    /train\.seed \(1\.5\) must be a safe integer, or an integer as decimal text$/,
  ],
  [
    "seed past 2^53 as a number",
    (r) => (r.train.seed = 2 ** 60),
    /train\.seed \(1152921504606847000\) must be a safe integer/,
  ],
  [
    'data.path ""',
    (r) => (r.train.data.path = ""),
    /train\.data\.path \(""\) must be null or a file's path$/,
  ],
  [
    "data.path with NUL",
    (r) => (r.train.data.path = "a\0b"),
    /train\.data\.path \("a\\u0000b"\) must be null or a file's path$/,
  ],
  [
    "data.sha256",
    (r) => (r.train.data.sha256 = 7),
    /train\.data\.sha256 \(7\) must be 64 lowercase hex digits$/,
  ],
  [
    "config.nHead 5",
    (r) => (r.config.nHead = 5),
    /config\.nEmbd \(16\) must be divisible by config\.nHead \(5\)$/,
  ],
  [
    "config.nEmbd nested",
    (r) => (r.config.nEmbd = [[16]]),
    /config\.nEmbd \(a list\) must be a positive integer$/,
  ],
  [
    "config.nLayer 1e9", // no loop over a billion layers: the count is checked first
    (r) => (r.config.nLayer = 1e9),
    /params has \d+ numbers, the model needs 30720000\d{5} \(wrong shape\)$|config describes 30720000\d{5} parameters, more than the \d+ numbers the file holds$/,
  ],
  [
    "config.nEmbd 1e9",
    (r) => (r.config.nEmbd = 1e9),
    /config describes too large a model \(\d{20} parameters\)$/,
  ],
  ["config missing", (r) => delete r.config, /config \(missing\) must be an object$/],
  [
    "format",
    (r) => (r.format = "pytorch"),
    /format is "pytorch", expected "microgpt-ts-checkpoint"$/,
  ],
  [
    "a 20 MB format",
    (r) => (r.format = "x".repeat(20e6)),
    /format is "x{40}\.\.\." \(20000000 characters\), expected/,
  ],
];

for (const version of [1, 2] as const) {
  Deno.test(
    `loadCheckpoint() refuses each hand-edited field of a version-${version} checkpoint with one line naming it`,
    inTempDir(async (dir) => {
      const good = join(dir, "good");
      await runQuiet({ ...base, engine: "fast", stopAt: 10, save: good });
      const saved = await loadCheckpoint(good);
      assert.equal(saved.config.nEmbd, 16); // params[7] is wte[0][7]
      for (const [name, edit, message] of EDITS) {
        const raw = rawOf(saved);
        edit(raw);
        const path = join(dir, `${name}.ck`);
        if (version === 1) await Deno.writeTextFile(path, v1Text(raw));
        else await Deno.writeFile(path, v2Bytes(raw, saved.config));
        const err = await loadCheckpoint(path).then(() => undefined, (e) => e);
        assert.ok(err instanceof UserError, `${name}: ${err?.stack ?? "loaded"}`);
        assert.match(err.message, /^Cannot load checkpoint .*\.ck: /, name);
        assert.match(err.message, message, name);
        assert.ok(!err.message.includes("\n") && err.message.length <= 400, name);
      }
      // Unedited, both load to the same checkpoint.
      const path = join(dir, "same.ck");
      if (version === 1) await Deno.writeTextFile(path, v1Text(rawOf(saved)));
      else await Deno.writeFile(path, v2Bytes(rawOf(saved), saved.config));
      assert.deepEqual(await loadCheckpoint(path), saved);
    }),
  );
}

Deno.test(
  "loadCheckpoint() refuses a version-2 file whose tensors do not fit its config or its length",
  inTempDir(async (dir) => {
    const good = join(dir, "good");
    await runQuiet({ ...base, engine: "fast", stopAt: 10, save: good });
    const saved = await loadCheckpoint(good);
    const bytes = await Deno.readFile(good);
    const raw = rawOf(saved);
    const cases: [string, Uint8Array, RegExp][] = [
      [
        "truncated",
        bytes.subarray(0, bytes.length - 8),
        /the tensors end at byte \d+ of the data, but the file has \d+ bytes of data/,
      ],
      [
        "header cut",
        bytes.subarray(0, 100),
        /its header length \(\d+ bytes\) is more than the file holds \(truncated/,
      ],
      ["empty", new Uint8Array(0), /it is not a checkpoint \(neither safetensors nor JSON\)/],
      [
        "huge header length",
        (() => {
          const b = bytes.slice();
          new DataView(b.buffer).setBigUint64(0, 2n ** 62n, true);
          return b;
        })(),
        /its header length \(4611686018427387904 bytes\) is more than the limit, 100000000/,
      ],
      [
        "missing tensor",
        v2Bytes(raw, saved.config, {
          tensors: (ts) => ts.filter((t) => t.name !== "layer0.mlp_fc2"),
        }),
        /tensor layer0\.mlp_fc2 is missing/,
      ],
      [
        "extra tensor",
        v2Bytes(raw, saved.config, {
          tensors: (ts) => [...ts, { name: "extra", shape: [1], data: new Float64Array(1) }],
        }),
        /tensor "extra" is not part of a checkpoint/,
      ],
      [
        "transposed",
        v2Bytes(raw, saved.config, {
          tensors: (ts) =>
            ts.map((t) => t.name === "wte" ? { ...t, shape: [...t.shape].reverse() } : t),
        }),
        /tensor wte has shape \[16, \d+\], the config needs \[\d+, 16\]/,
      ],
      [
        "config grown",
        v2Bytes({ ...raw, config: { ...raw.config, nLayer: 2 } }, saved.config),
        /tensor layer1\.attn_wq is missing/,
      ],
    ];
    for (const [name, file, message] of cases) {
      const path = join(dir, `${name}.ck`);
      await Deno.writeFile(path, file);
      await assert.rejects(() => loadCheckpoint(path), UserError, name);
      await assert.rejects(() => loadCheckpoint(path), message);
    }
    await assert.rejects(() => loadCheckpoint(dir), /it is a folder, not a regular file/);
    await assert.rejects(() => loadCheckpoint("/dev/zero"), /a character device, not a regular/);
  }),
);

Deno.test(
  "bad checkpoints through the command line: exit 2, one line, no stack trace, nothing overwritten",
  inTempDir(async (dir) => {
    const good = join(dir, "good.ck");
    await runQuiet({ ...base, engine: "fast", stopAt: 10, save: good });
    const saved = await loadCheckpoint(good);
    for (
      const [name, edit, message] of EDITS.filter(([n]) => /index|nested|1e308|reversed/.test(n))
    ) {
      const raw = rawOf(saved);
      edit(raw);
      for (
        const [version, file] of [[1, new TextEncoder().encode(v1Text(raw))], [
          2,
          v2Bytes(raw, saved.config),
        ]] as const
      ) {
        const path = join(dir, `v${version}.ck`);
        await Deno.writeFile(path, file);
        const r = await cli(["--load", path, "--save", path]);
        assert.equal(r.code, 2, `${name} v${version}: ${r.err}`);
        assert.match(r.err, /error: Cannot load checkpoint .*\.ck: /);
        assert.match(r.err.trim(), message);
        assert.equal(r.err.trim().split("\n").length, 1, r.err);
        assert.deepEqual(await Deno.readFile(path), file, `${name} was overwritten`);
      }
    }
    const missing = await cli(["--load", join(dir, "nope.json")]);
    assert.equal(missing.code, 2);
    assert.match(missing.err, /nope.json: no such file/);
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
  "deno task sample --trace prints the same names, each with a table of its draws",
  inTempDir(async (dir) => {
    const ck = join(dir, "ck.json");
    await runQuiet({ ...base, engine: "fast", save: ck });
    const collect = async (args: string[]) => {
      let out = "";
      const io = { out: (t: string) => (out += t), err: () => {} };
      const names = await runSample(parseSampleFlags(["--checkpoint", ck, ...args]), io);
      return { names, out };
    };
    for (const args of [[], ["--prefix", "ma", "--top-k", "3", "--temperature", "1.3"]]) {
      const plain = await collect(["--samples", "6", ...args]);
      const traced = await collect(["--samples", "6", "--trace", ...args]);
      assert.deepEqual(traced.names, plain.names); // the same draws
      const tables = traced.out.split("\n\n");
      assert.equal(tables.length, 6);
      tables.forEach((table, i) => {
        const [title, header, ...rows] = table.trimEnd().split("\n");
        assert.equal(title, `sample ${String(i + 1).padStart(2)}: ${plain.names[i]}`);
        assert.match(header!, /^ {2}pos {2}so far +drawn +likeliest$/);
        // Each row: the position, the text so far, the drawn token and its probability, then
        // the candidates; read down the "drawn" column, the rows spell the name.
        const prefix = args.includes("ma") ? "ma" : "";
        let text = prefix;
        rows.forEach((row, r) => {
          const cells = row.trim().split(/ +/);
          assert.equal(Number(cells[0]), prefix.length + r + 1, row);
          const [char, prob] = text === "" ? cells.slice(1) : cells.slice(2, 4);
          if (text !== "") assert.equal(cells[1], text, row);
          assert.match(prob!, /^\d+\.\d%$/);
          if (char === "(end)") assert.equal(r, rows.length - 1, "the end is the last row");
          else text += char;
          // with --top-k 3, at most 3 candidates (the filtered ones have probability 0)
          if (args.includes("--top-k")) assert.ok((row.match(/%/g) ?? []).length <= 4, row);
        });
        assert.equal(text, plain.names[i]);
      });
    }
  }),
);

Deno.test(
  "--top-k is checked: an integer from 1 to the vocabulary's size, one line and exit 2",
  inTempDir(async (dir) => {
    const ck = join(dir, "ck.json");
    const whole = await runQuiet({ ...base, engine: "fast", save: ck });
    const vocab = whole.result.vocab_size; // 53
    for (
      const [args, message] of [
        [["--top-k", "0"], /--top-k \("0"\) must be a positive integer/],
        [["--top-k", "2.5"], /--top-k \("2.5"\) must be an integer/],
        [["--top-k"], /--top-k needs a value/],
        [
          ["--top-k", String(vocab + 1)],
          /--top-k \(54\) must be at most the vocabulary's 53 tokens/,
        ],
      ] as const
    ) {
      for (const command of [["sample", "--checkpoint", ck], ["--data", UNICODE, "--steps", "2"]]) {
        const r = await cli([...command, ...args]);
        assert.equal(r.code, 2, r.err);
        assert.match(r.err, message);
        assert.equal(r.err.trim().split("\n").length, 1, r.err);
        assert.ok(!r.out.includes("step"), "refused before training");
      }
    }
    // --top-k with the whole vocabulary changes nothing; --top-k 1 always takes the likeliest.
    const all = await runSample(parseSampleFlags(["--checkpoint", ck, "--samples", "5"]), io());
    const k = parseSampleFlags(["--checkpoint", ck, "--samples", "5", "--top-k", String(vocab)]);
    assert.deepEqual(await runSample(k, io()), all);
    const greedy = await runQuiet({ ...base, engine: "fast", topK: 1 });
    assert.equal(new Set(greedy.result.samples).size, 1);
    assert.deepEqual(
      (await runQuiet({ ...base, topK: vocab })).result.samples,
      whole.result.samples,
    );
  }),
);

const io = () => ({ out: () => {}, err: () => {} });

Deno.test(
  "crash consistency: SIGKILL at 20 random moments of a --save-every 1 run loses nothing",
  inTempDir(async (dir) => {
    const ck = join(dir, "ck.json");
    const options = { ...base, engine: "fast" as const, steps: 400 };
    const whole = await runQuiet(options);
    const rng = new Random(2024);
    let resumed = 0;
    for (let kill = 0; kill < 20; kill++) {
      await Deno.remove(ck).catch(() => {});
      const child = await startSaving(ck, [
        ...["--seed", "11", "--block-size", "12", "--steps", "400", "--engine", "fast"],
        ...["--save-every", "1"],
      ]);
      // Kill at a random moment of the rest of the run.
      await new Promise((r) => setTimeout(r, rng.random() * 500));
      try {
        child.kill("SIGKILL");
      } catch {
        // it finished first
      }
      await child.status;
      const saved = await loadCheckpoint(ck); // whatever is there loads
      if (saved.step === 400) continue; // the run finished first
      resumed++;
      const rest = await runQuiet({ engine: "fast", load: ck, data: UNICODE, samples: 5 });
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
    const rest = await runQuiet({ engine: "fast", load: ck, data: UNICODE, samples: 5 });
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
  "a version-1 checkpoint from before checkpointOf() loads, resumes to the same bits, and holds what a version-2 save holds",
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
    // The same run saved by this code (version 2): the same checkpoint, but for the path and
    // the engine it records.
    const ck = join(dir, "ck.safetensors");
    await runQuiet({ ...V1_RUN, engine: "value", stopAt: 12, save: ck });
    const now = await loadCheckpoint(ck);
    const then = await loadCheckpoint(V1);
    assert.equal(then.train.data.path, "tests/fixtures/syllable_names.txt");
    now.train.data.path = then.train.data.path;
    assert.equal(now.train.engine, "value");
    delete now.train.engine;
    assert.deepEqual(now, then);
    assert.deepEqual((await Deno.readFile(ck)).subarray(8, 9), new TextEncoder().encode("{"));
  }),
);

// The version-1 fixture saved by this code (version 2, safetensors): pins the layout a save
// writes (tensor names and order, metadata, padding) byte for byte.
const V2 = new URL("./fixtures/checkpoint_v2.safetensors", import.meta.url).pathname;

Deno.test(
  "the version-2 fixture holds the version-1 fixture's checkpoint, and a save writes it byte for byte",
  inTempDir(async (dir) => {
    const v1 = await loadCheckpoint(V1);
    assert.deepEqual(await loadCheckpoint(V2), v1);
    const path = join(dir, "ck");
    await saveCheckpoint(path, v1);
    assert.deepEqual(await Deno.readFile(path), await Deno.readFile(V2));
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
