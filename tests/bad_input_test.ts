// Bad input from a user: every case ends in a one-line "error: Cannot ..." naming the problem
// and exit code 2, never a stack trace; the inputs that are fine (CRLF, a byte order mark,
// long lines, a one-character vocabulary) just work.

import assert from "node:assert/strict";
import { inTempDir } from "./_temp.ts";
import { runCli } from "./_cli.ts";
import { join } from "node:path";
import { DEFAULT_DATA_PATH, parseDocs } from "@lib/io/data.ts";
import { loadCheckpoint } from "@lib/io/checkpoint.ts";
import { Random } from "@lib/random.ts";
import { Tokenizer } from "@lib/tokenizer.ts";

const train = (args: string[]) => runCli(["--engine", "fast", ...args]);

async function file(
  dir: string,
  name: string,
  content: string | Uint8Array,
): Promise<string> {
  const path = join(dir, name);
  if (typeof content === "string") await Deno.writeTextFile(path, content);
  else await Deno.writeFile(path, content);
  return path;
}

function assertUserError(r: { code: number; err: string }, message: RegExp) {
  assert.equal(r.code, 2, r.err);
  assert.match(r.err, /error: Cannot /);
  assert.match(r.err, message);
  assert.doesNotMatch(r.err, /\n\s+at /, "stack trace");
}

Deno.test(
  "bad data files: directory, empty, blank, invalid UTF-8, binary",
  inTempDir(async (dir) => {
    const cases: [string, RegExp][] = [
      [dir, /it is a folder, not a regular file/],
      [await file(dir, "empty.txt", ""), /no documents \(it is empty or only blank lines\)/],
      [await file(dir, "blank.txt", "\n  \r\n\t\n"), /no documents/],
      [
        await file(dir, "latin1.txt", new Uint8Array([0x61, 0x0a, 0xe9, 0x0a])),
        /invalid UTF-8 near byte 2/,
      ],
      [
        await file(dir, "binary.bin", new Uint8Array([0x7f, 0x45, 0x4c, 0x46, 0, 1])),
        /looks binary/,
      ],
    ];
    for (const [path, message] of cases) assertUserError(await train(["--data", path]), message);
  }),
);

Deno.test(
  "fine data: CRLF with a byte order mark, lines longer than the context, one character",
  inTempDir(async (dir) => {
    const crlf = await train([
      "--data",
      await file(dir, "crlf.txt", "\uFEFFana\r\nbo\r\n"),
      "--steps",
      "3",
    ]);
    assert.equal(crlf.code, 0, crlf.err);
    assert.match(crlf.out, /^num docs: 2\nvocab size: 5\n/); // a, b, n, o and BOS: no BOM, no \r
    const long = await train([
      "--data",
      await file(dir, "long.txt", "abcdefghijklmnopqrstuvwxyz".repeat(3) + "\nab\n"),
      "--block-size",
      "4",
      "--steps",
      "4",
    ]);
    assert.equal(long.code, 0, long.err); // cut to the context, as the reference does
    const one = await train([
      "--data",
      await file(dir, "one.txt", "aaa\na\n"),
      "--steps",
      "5",
      "--samples",
      "3",
    ]);
    assert.equal(one.code, 0, one.err);
    assert.match(one.out, /vocab size: 2\n/);
    assert.match(one.out, /sample {2}3: a*\n$/);
  }),
);

Deno.test(
  "bad numbers: a diverging loss stops training and names the step",
  inTempDir(async (dir) => {
    const r = await train([
      "--data",
      await file(dir, "names.txt", "emma\nolivia\nava\n"),
      "--lr",
      "1e6",
      "--steps",
      "50",
    ]);
    assertUserError(
      r,
      /Cannot train: the loss became Infinity at step \d+ \(it diverged\); lower --lr/,
    );
    assert.doesNotMatch(r.out, /sample/);
  }),
);

Deno.test(
  "bad flags all exit 2 with the reason",
  inTempDir(async (dir) => {
    const data = await file(dir, "ok.txt", "ana\nbo\n");
    const cases: [string[], RegExp][] = [
      [["--steps", "2.5"], /--steps \("2.5"\) must be an integer/],
      [["--steps", "0"], /must be a positive integer/],
      [["--n-layer", "-1"], /must be a positive integer/],
      [["--n-embd", "10"], /divisible by --n-head/],
      [["--temperature", "0"], /must be a number above 0/],
      [["--temperature", "-1"], /must be a number above 0/],
      [["--samples", "0"], /must be a positive integer/],
      [["--frobnicate"], /unknown flag "--frobnicate"/],
    ];
    for (const [args, message] of cases) {
      assertUserError(await train(["--data", data, ...args]), message);
    }
  }),
);

// Random text with the characters that break naive code: astral-plane emoji, combining marks,
// CJK, every kind of whitespace Python strips (and some it keeps), line separators.
const ALPHABET = [
  ..."abcxyzé李ñ",
  "\u0301",
  "😀",
  "🦕",
  "𝔘",
  " ",
  "\t",
  "\u00a0",
  "\u3000",
  "\u200b",
  "\x1c",
  "\x85",
  "\ufeff",
];
const PY_SPACE = new Set([
  ..."\t\n\v\f\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000",
]);
const pyStrip = (s: string) => {
  const cps = [...s];
  let a = 0;
  let b = cps.length;
  while (a < b && PY_SPACE.has(cps[a]!)) a++;
  while (b > a && PY_SPACE.has(cps[b - 1]!)) b--;
  return cps.slice(a, b).join("");
};

Deno.test("property: parseDocs() splits and strips random text as Python does", () => {
  const rng = new Random(2024);
  for (let trial = 0; trial < 300; trial++) {
    const lines = Array.from(
      { length: 1 + rng.getrandbits(4) },
      () =>
        Array.from(
          { length: rng.getrandbits(4) },
          () => ALPHABET[Math.floor(rng.random() * ALPHABET.length)]!,
        ).join(""),
    );
    const newlines = ["\n", "\r\n", "\r"];
    const text = lines.map((l) => l + newlines[rng.getrandbits(2) % 3]).join("");
    const want = lines.map(pyStrip).filter((l) => l.length > 0);
    // A leading BOM on the file is dropped; a BOM anywhere else is data, as in Python.
    if (want.length > 0 && lines[0]!.startsWith("\ufeff") && pyStrip(lines[0]!) === want[0]) {
      want[0] = pyStrip(want[0]!.slice(1));
      if (want[0] === "") want.shift();
    }
    assert.deepEqual(parseDocs(text), want, JSON.stringify(text));
  }
});

Deno.test("property: Tokenizer round-trips random text, one id per code point", () => {
  const rng = new Random(7);
  for (let trial = 0; trial < 300; trial++) {
    const docs = Array.from(
      { length: 1 + rng.getrandbits(3) },
      () =>
        Array.from(
          { length: 1 + rng.getrandbits(4) },
          () => ALPHABET[Math.floor(rng.random() * ALPHABET.length)]!,
        ).join(""),
    );
    const tokenizer = Tokenizer.fromDocs(docs);
    const cps = tokenizer.uchars.map((c) => c.codePointAt(0)!);
    assert.deepEqual(cps, [...cps].sort((a, b) => a - b));
    for (const doc of docs) {
      const ids = tokenizer.encode(doc);
      assert.equal(ids.length, [...doc].length);
      assert.ok(ids.every((id) => id >= 0 && id < tokenizer.BOS));
      assert.equal(tokenizer.decode(ids), doc);
    }
  }
});

Deno.test(
  "outputs that would clobber an input, or cannot be written, are refused before step 1",
  inTempDir(async (dir) => {
    const data = await file(dir, "my.txt", "emma\nolivia\nava\n");
    await Deno.symlink(data, join(dir, "link.txt"));
    const ck = join(dir, "ck.json");
    const made = await train(["--data", data, "--steps", "4", "--stop-at", "2", "--save", ck]);
    assert.equal(made.code, 0, made.err);
    await file(dir, "a-file", "x");
    const snapshot = async () =>
      Object.fromEntries(
        await Promise.all(
          [...Deno.readDirSync(dir)].map(async (
            e,
          ) => [e.name, await Deno.readFile(join(dir, e.name))]),
        ),
      );
    const before = await snapshot();
    const cases: [string[], RegExp][] = [
      [
        ["--data", data, "--json", data],
        /Cannot write --json .*my\.txt: it is the same file as --data/,
      ],
      [
        ["--data", data, "--save", data],
        /Cannot write --save .*my\.txt: it is the same file as --data/,
      ],
      [["--data", join(dir, "link.txt"), "--json", data], /same file as --data .*link\.txt/],
      [
        ["--data", data, "--save", ck, "--json", ck],
        /Cannot write --json .*: it is the same file as --save/,
      ],
      [
        ["--load", ck, "--json", ck],
        /Cannot write --json .*ck\.json: it is the same file as --load/,
      ],
      [
        ["--data", data, "--json", join(dir, "nodir", "x.json")],
        /Cannot write --json file .*x\.json: folder .*nodir\/ does not exist/,
      ],
      [
        ["--data", data, "--save", join(dir, "a-file", "ck.json")],
        /Cannot write --save file .*: .*a-file\/ is a file, not a folder/,
      ],
      [["--data", data, "--json", dir], /Cannot write --json file .*: it is a folder, not a file/],
      // the default dataset, read or downloaded: not an output either
      [
        ["--json", DEFAULT_DATA_PATH],
        /Cannot write --json .*names\.txt: it is the same file as the dataset/,
      ],
    ];
    for (const [args, message] of cases) {
      const r = await train(args);
      assertUserError(r, message);
      assert.equal(r.err.trim().split("\n").length, 1, r.err);
      assert.doesNotMatch(r.out, /step/, "refused before training");
      assert.deepEqual(await snapshot(), before, args.join(" "));
    }
    // Resuming in place stays allowed: the checkpoint moves forward, atomically.
    const resumed = await train(["--load", ck, "--data", data, "--save", ck]);
    assert.equal(resumed.code, 0, resumed.err);
    assert.equal((await loadCheckpoint(ck)).step, 4);
  }),
);

Deno.test(
  "integers: any --seed Python takes, and sizes too large to run say the limit",
  inTempDir(async (dir) => {
    const data = await file(dir, "ok.txt", "ana\nbo\n");
    for (const seed of ["99999999999999999999999", "-18446744073709551617"]) {
      const r = await train(["--data", data, "--seed", seed, "--steps", "2", "--samples", "1"]);
      assert.equal(r.code, 0, r.err);
    }
    const cases: [string[], RegExp][] = [
      [
        ["--steps", "99999999999999999999"],
        /--steps \("99999999999999999999"\) must be at most 1,000,000,000/,
      ],
      [["--n-embd", "100000", "--n-head", "1"], /--n-embd \("100000"\) must be at most 8,192/],
      [
        ["--n-embd", "4096", "--n-head", "1", "--block-size", "4096"],
        /Cannot build model: it needs about \d+\.\d GiB/,
      ],
      [["--seed", "1e3"], /--seed \("1e3"\) must be an integer/],
    ];
    for (const [args, message] of cases) {
      const r = await train(["--data", data, ...args]);
      assertUserError(r, message);
      assert.doesNotMatch(r.out, /step/);
    }
  }),
);

// A run that must end on its own, or the test fails (a hang would otherwise stall the suite).
async function trainWithin(args: string[], ms: number) {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Cannot finish: still running after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([train(args), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function mkfifo(path: string): Promise<string> {
  const { success } = await new Deno.Command("mkfifo", { args: [path] }).output();
  assert.ok(success, "mkfifo");
  return path;
}

// Finding 6: /dev/zero reached 6 GB in 27 s; a FIFO hung; a 600 MB text had "no documents".
Deno.test(
  "inputs that are not regular files of a sane size are refused at once, saying what they are",
  inTempDir(async (dir) => {
    const fifo = await mkfifo(join(dir, "pipe"));
    const ok = await file(dir, "ok.txt", "ana\nbo\n");
    const huge = join(dir, "huge.txt"); // 600 MB, sparse: no disk, no memory
    await Deno.writeFile(huge, new Uint8Array());
    await Deno.truncate(huge, 600 * 2 ** 20);
    const cases: [string[], RegExp][] = [
      [["--data", "/dev/zero"], /dataset \/dev\/zero: it is a character device, not a regular/],
      [["--data", fifo], /dataset .*pipe: it is a named pipe \(FIFO\), not a regular file/],
      [["--data", huge], /dataset .*huge\.txt: it is too large \(600 MiB; the limit is 512 MiB\)/],
      [["--data", ok, "--load", "/dev/zero"], /checkpoint \/dev\/zero.*character device/],
      [["--data", ok, "--load", fifo], /checkpoint .*pipe.*named pipe \(FIFO\)/],
      [["sample", "--checkpoint", "/dev/zero"], /checkpoint \/dev\/zero.*character device/],
      [["sample", "--checkpoint", fifo], /checkpoint .*pipe.*named pipe/],
      [["eval", "--checkpoint", fifo], /checkpoint .*pipe.*named pipe/],
      [["--data", ok, "--json", fifo], /--json file .*pipe: it is a named pipe \(FIFO\), not a/],
    ];
    for (const [args, message] of cases) {
      const r = await (args[0] === "sample" || args[0] === "eval"
        ? runCli(args)
        : trainWithin(args, 20_000));
      assertUserError(r, message);
      assert.equal(r.err.trim().split("\n").length, 1, r.err);
    }
  }),
);

// Finding 7: extreme numbers ended in a NaN and a stack trace (exit 70).
Deno.test(
  "a learning rate or temperature past what the arithmetic holds is refused, with the bound",
  inTempDir(async (dir) => {
    const data = await file(dir, "ok.txt", "ana\nbo\nemma\n");
    const run = (args: string[]) => train(["--data", data, ...args]);
    // The bounds for this model (E 16, one layer, 4 steps) from lib/cli/limits.ts.
    const { maxLearningRate, minTemperature, ADAM_MAX_STEP } = await import("@lib/cli/limits.ts");
    const config = { vocabSize: 1, nLayer: 1, nEmbd: 16, blockSize: 16, nHead: 4, initStd: 0.08 };
    const maxLr = maxLearningRate(config, { steps: 4, from: 0, weight: 1 });
    const tooHigh = await run(["--steps", "4", "--lr", "1e110"]);
    assertUserError(tooHigh, /--lr \(1e\+110\) must be at most \d\.\d\de\+74: Adam moves/);
    // At the bound it trains (and stops before sampling); just past it is refused.
    const at = await run(["--steps", "4", "--stop-at", "1", "--lr", String(maxLr)]);
    assert.equal(at.code, 0, at.err);
    assertUserError(await run(["--steps", "4", "--lr", String(maxLr * (1 + 1e-12))]), /--lr/);
    // Temperature: the largest logit over it must stay finite.
    const trained = 1 + 0.01 * (4 * 5 / 8) * ADAM_MAX_STEP;
    const minT = minTemperature(config, trained);
    assert.ok(minT > 1e-310 && minT < 1e-290, String(minT));
    assertUserError(
      await run(["--steps", "4", "--temperature", "1e-310"]),
      /--temperature \(1e-310\) must be at least \d\.\d\de-\d+: the logits are divided by it/,
    );
    const justAbove = await run(["--steps", "4", "--samples", "2", "--temperature", `${minT}`]);
    assert.equal(justAbove.code, 0, justAbove.err);
    assertUserError(
      await run(["--steps", "4", "--temperature", String(minT * (1 - 1e-9))]),
      /--temperature/,
    );
    for (const lr of ["0", "-1", "-0"]) {
      assertUserError(await run(["--lr", lr]), /--lr .* must be a number above 0/);
    }
    // Sampling from a checkpoint: the bound of its own weights.
    const ck = join(dir, "ck.json");
    assert.equal((await run(["--steps", "4", "--save", ck])).code, 0);
    const sampled = await runCli(["sample", "--checkpoint", ck, "--temperature", "1e-310"]);
    assertUserError(sampled, /--temperature \(1e-310\) must be at least \d\.\d\de-3\d\d/);
  }),
);

// Finding 8: --n-embd 512 ran 70 s, then V8 ran out of memory.
Deno.test(
  "a Value-engine model whose graph cannot fit is refused before step 1, in one line",
  inTempDir(async (dir) => {
    const data = await file(dir, "ok.txt", "ana\nbo\nemma\n");
    const started = performance.now();
    const r = await runCli(["--data", data, "--n-embd", "512", "--steps", "1"]);
    assertUserError(
      r,
      /Cannot build model: the Value engine's graph for a step of 5 positions needs about \d+\.\d GiB \(3,1\d\d,\d\d\d parameters, context 16\), more than the 3\.0 GiB it may use; add --engine fast/,
    );
    assert.doesNotMatch(r.out, /step/);
    assert.ok(performance.now() - started < 10_000, "refused before any work");
    // The fast engine holds it.
    const fast = await train(["--data", data, "--n-embd", "512", "--steps", "1"]);
    assert.equal(fast.code, 0, fast.err);
  }),
);

// Finding 5: a checkpoint's data path chose which file was read.
Deno.test(
  "resuming reads --data or the default dataset, never the checkpoint's path; a mismatch " +
    "names the file it was trained on",
  inTempDir(async (dir) => {
    const mine = await file(dir, "mine.txt", "ana\nbo\nemma\n");
    const other = await file(dir, "other.txt", "zed\nyoyo\n");
    const ck = join(dir, "ck.json");
    const saved = await train(["--data", mine, "--steps", "6", "--stop-at", "3", "--save", ck]);
    assert.equal(saved.code, 0, saved.err);
    const wrong = await train(["--load", ck, "--data", other]);
    assertUserError(
      wrong,
      new RegExp(
        `^\\nerror: Cannot resume from .*ck\\.json: it was trained on ${mine} \\(3 documents\\), ` +
          `not ${other} \\(2 documents\\); pass that file with --data PATH\\n$`,
      ),
    );
    const evalWrong = await runCli(["eval", "--checkpoint", ck, "--data", other]);
    assertUserError(evalWrong, /it was trained on .*mine\.txt \(3 documents\)/);
    const right = await train(["--load", ck, "--data", mine]);
    assert.equal(right.code, 0, right.err);
  }),
);

// Finding 11: small mistakes that blamed the wrong thing.
Deno.test(
  "resuming a finished checkpoint, and splitting one document, say what is wrong",
  inTempDir(async (dir) => {
    const data = await file(dir, "ok.txt", "ana\nbo\n");
    const ck = join(dir, "ck.json");
    assert.equal((await train(["--data", data, "--steps", "3", "--save", ck])).code, 0);
    const finished = await train(["--data", data, "--load", ck]);
    assertUserError(
      finished,
      /Cannot resume from .*ck\.json: the checkpoint already finished its 3 steps; sample/,
    );
    assert.doesNotMatch(finished.err, /--stop-at/);
    const one = await file(dir, "one.txt", "ana\n");
    const split = await train(["--data", one, "--val-split", "0.5"]);
    assertUserError(
      split,
      /Cannot split documents: --val-split 0\.5 needs at least 2 documents, and the dataset has 1/,
    );
    assert.doesNotMatch(split.err, /at least 1\.0000/);
  }),
);

// Finding 1: a symlink at out/ck.json.tmp made --save overwrite its target; a hard link, --json.
Deno.test(
  "links planted where the old temporary files went are never written through",
  inTempDir(async (dir) => {
    const data = await file(dir, "ok.txt", "ana\nbo\n");
    const victim = await file(dir, "victim.txt", "precious\n");
    const ck = join(dir, "ck.json");
    const json = join(dir, "run.json");
    await Deno.symlink(victim, `${ck}.tmp`);
    await Deno.link(victim, `${json}.tmp`);
    const r = await train(["--data", data, "--steps", "5", "--save", ck, "--json", json]);
    assert.equal(r.code, 0, r.err);
    assert.equal(await Deno.readTextFile(victim), "precious\n");
    assert.ok((await Deno.lstat(ck)).isFile && (await Deno.lstat(json)).isFile);
    assert.equal((await loadCheckpoint(ck)).step, 5);
    assert.equal(JSON.parse(await Deno.readTextFile(json)).steps.length, 5);
  }),
);
