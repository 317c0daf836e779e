// Bad input from a user: every case ends in a one-line "error: Cannot ..." naming the problem
// and exit code 2, never a stack trace; the inputs that are fine (CRLF, a byte order mark,
// long lines, a one-character vocabulary) just work.

import assert from "node:assert/strict";
import { inTempDir } from "./_temp.ts";
import { runCli } from "./_cli.ts";
import { join } from "node:path";
import { DEFAULT_DATA_PATH, parseDocs } from "@lib/io/data.ts";
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
      [dir, /it is a folder, not a file/],
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
    const resumed = await train(["--load", ck, "--save", ck]);
    assert.equal(resumed.code, 0, resumed.err);
    assert.equal(JSON.parse(await Deno.readTextFile(ck)).step, 4);
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
