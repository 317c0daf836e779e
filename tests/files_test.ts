// Nothing lost: atomic writes under every operating-system failure (injected through the
// FileSystem seam, and a real full disk), and outputs refused before any work when they would
// overwrite an input or cannot be written.

import assert from "node:assert/strict";
import { join } from "node:path";
import { checkpointOf, saveCheckpoint } from "@lib/io/checkpoint.ts";
import { Adam } from "@lib/adam.ts";
import { createEngine } from "@lib/engine.ts";
import { DEFAULT_CONFIG } from "@lib/model.ts";
import { Random } from "@lib/random.ts";
import { Tokenizer } from "@lib/tokenizer.ts";
import { UserError } from "@lib/io/errors.ts";
import {
  checkOutputs,
  DENO_FS,
  type FileSystem,
  lockOutput,
  readFileChecked,
  tempPathOf,
  writeFileAtomic,
} from "@lib/io/files.ts";
import { inTempDir } from "./_temp.ts";
import { runCli } from "./_cli.ts";

const decoder = new TextDecoder();

// An error as Deno raises it for an errno.
function osError(code: string, text: string): Error {
  return Object.assign(new Error(`${text} (os error)`), { code });
}

const FAULTS: [string, string, RegExp][] = [
  ["ENOSPC", "No space left on device", /the disk is full/],
  ["EACCES", "Permission denied", /permission denied/],
  ["EROFS", "Read-only file system", /the file system is read-only/],
  ["EISDIR", "Is a directory", /it is a folder, not a file/],
  ["ENOTDIR", "Not a directory", /a part of the path is a file, not a folder/],
  ["EIO", "Input/output error", /an input\/output error/],
  ["EMFILE", "Too many open files", /too many open files/],
];

// The real file system, with one operation failing.
function failing(op: keyof FileSystem, error: Error, options: { partial?: boolean } = {}) {
  return {
    ...DENO_FS,
    [op]: async (path: string, data: Uint8Array) => {
      // a write that fails half way leaves a partial temporary file, as a full disk does
      if (options.partial) await Deno.writeFile(path, data.subarray(0, data.length >> 1));
      throw error;
    },
  } as FileSystem;
}

Deno.test(
  "writeFileAtomic() turns each OS failure into one plain line and leaves the old file whole",
  inTempDir(async (dir) => {
    const path = join(dir, "ck.json");
    for (const [code, text, reason] of FAULTS) {
      for (const op of ["writeFileSynced", "rename"] as const) {
        await Deno.writeTextFile(path, "old\n");
        const fs = failing(op, osError(code, text), { partial: op === "writeFileSynced" });
        await assert.rejects(
          () => writeFileAtomic(path, "new contents\n", { what: "checkpoint", fs }),
          (e: Error) => {
            assert.ok(e instanceof UserError, `${code} ${op}: ${e}`);
            assert.match(e.message, new RegExp(`^Cannot write checkpoint ${path}: `));
            assert.match(e.message, reason);
            return true;
          },
        );
        assert.equal(await Deno.readTextFile(path), "old\n", `${code} ${op}`);
        assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["ck.json"], code);
      }
    }
  }),
);

Deno.test(
  "writeFileAtomic() keeps a bug a bug, and still removes its temporary file",
  inTempDir(async (dir) => {
    const path = join(dir, "out.json");
    const fs = failing("writeFileSynced", new TypeError("data.subarray is not a function"), {
      partial: true,
    });
    await assert.rejects(() => writeFileAtomic(path, "x", { what: "--json file", fs }), TypeError);
    assert.deepEqual([...Deno.readDirSync(dir)], []);
  }),
);

Deno.test("readFileChecked() turns OS failures into one plain line", async () => {
  for (const [code, text, reason] of FAULTS) {
    const fs = { ...DENO_FS, readFile: () => Promise.reject(osError(code, text)) };
    await assert.rejects(
      () => readFileChecked("/data/names.txt", { what: "dataset", fs }),
      (e: Error) =>
        e instanceof UserError && reason.test(e.message) &&
        e.message.startsWith("Cannot read dataset /data/names.txt: "),
    );
  }
});

Deno.test(
  "checkOutputs() refuses an output that is an input or another output, however it is named",
  inTempDir(async (dir) => {
    const data = join(dir, "names.txt");
    await Deno.writeTextFile(data, "ana\n");
    await Deno.symlink(data, join(dir, "link.txt"));
    await Deno.link(data, join(dir, "hard.txt"));
    Deno.mkdirSync(join(dir, "sub"));
    const input = [{ flag: "--data", path: data }];
    const clashes: [string, string][] = [
      ["--json", data],
      ["--json", join(dir, "link.txt")], // a symlink to it
      ["--json", join(dir, "hard.txt")], // a hard link to it
      ["--json", join(dir, "sub", "..", "names.txt")], // another spelling
      ["--save", `${data.slice(0, -4)}.txt`],
    ];
    for (const [flag, path] of clashes) {
      await assert.rejects(
        () => checkOutputs({ inputs: input, outputs: [{ flag, path }] }),
        (e: Error) =>
          e instanceof UserError &&
          e.message.startsWith(`Cannot write ${flag} ${path}: it is the same file as --data`),
        path,
      );
    }
    // Two outputs on one file, and an output on another's temporary file.
    const ck = join(dir, "ck.json");
    await assert.rejects(
      () =>
        checkOutputs({
          inputs: [],
          outputs: [{ flag: "--save", path: ck }, { flag: "--json", path: ck }],
        }),
      /Cannot write --json .*ck\.json: it is the same file as --save .*, which this run must write/,
    );
    await assert.rejects(
      () =>
        checkOutputs({
          inputs: [],
          outputs: [{ flag: "--save", path: ck }, { flag: "--json", path: tempPathOf(ck) }],
        }),
      /same file as --save's temporary file/,
    );
    // Saving over the checkpoint being resumed is the one allowed overlap.
    await Deno.writeTextFile(ck, "{}");
    await checkOutputs(
      { inputs: [{ flag: "--load", path: ck }], outputs: [{ flag: "--save", path: ck }] },
      { allowed: [["--save", "--load"]] },
    );
    await assert.rejects(
      () =>
        checkOutputs(
          { inputs: [{ flag: "--load", path: ck }], outputs: [{ flag: "--json", path: ck }] },
          { allowed: [["--save", "--load"]] },
        ),
      /same file as --load/,
    );
    assert.equal(await Deno.readTextFile(data), "ana\n");
  }),
);

Deno.test(
  "checkOutputs() refuses outputs that cannot be written, saying why",
  inTempDir(async (dir) => {
    const file = join(dir, "a-file.txt");
    await Deno.writeTextFile(file, "x");
    Deno.mkdirSync(join(dir, "folder"));
    const cases: [string, RegExp][] = [
      [
        join(dir, "nodir", "x.json"),
        /Cannot write --json file .*x\.json: folder .*nodir\/ does not exist/,
      ],
      [join(file, "x.json"), /a-file\.txt\/ is a file, not a folder/],
      [join(dir, "folder"), /it is a folder, not a file/],
    ];
    for (const [path, message] of cases) {
      await assert.rejects(
        () => checkOutputs({ inputs: [], outputs: [{ flag: "--json", path }] }),
        message,
      );
    }
    // A writable place passes and leaves nothing behind.
    await checkOutputs({ inputs: [], outputs: [{ flag: "--json", path: join(dir, "ok.json") }] });
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name).sort(), [
      "a-file.txt",
      "folder",
    ]);
  }),
);

// Mounts a tiny tmpfs for a real full disk: root only (CI runs as root). Elsewhere the test is
// skipped with a message; under CI a failure to mount fails the test.
async function mountTiny(dir: string, size: string): Promise<boolean> {
  const { success, stderr } = await new Deno.Command("mount", {
    args: ["-t", "tmpfs", "-o", `size=${size}`, "tmpfs", dir],
    stderr: "piped",
  }).output().catch((e) => ({ success: false, stderr: new TextEncoder().encode(String(e)) }));
  if (success) return true;
  const why = decoder.decode(stderr).trim();
  if (Deno.env.get("CI")) throw new Error(`Cannot mount a tmpfs for the full-disk test: ${why}`);
  console.warn(`skipping the real full-disk test: cannot mount a tmpfs (${why}); run as root`);
  return false;
}

Deno.test(
  "a real full disk: --save fails with one line, the earlier checkpoint whole, no temp file; " +
    "a read-only one is refused up front",
  inTempDir(async (dir) => {
    const disk = join(dir, "disk");
    Deno.mkdirSync(disk);
    if (!await mountTiny(disk, "64k")) return;
    try {
      const data = join(dir, "names.txt");
      await Deno.writeTextFile(data, "emma\nolivia\nava\n");
      const ck = join(disk, "ck.json");
      const train = (args: string[]) => runCli(["--data", data, "--engine", "fast", ...args]);
      // A small checkpoint fits (about 20 KB) ...
      const small = await train(["--n-embd", "4", "--n-head", "1", "--steps", "3", "--save", ck]);
      assert.equal(small.code, 0, small.err);
      const before = await Deno.readFile(ck);
      // ... a larger one (about 250 KB) does not.
      const big = await train(["--steps", "3", "--save", ck]);
      const err = big.err;
      assert.equal(big.code, 2, err);
      assert.match(err, new RegExp(`^\\nerror: Cannot write checkpoint ${ck}: the disk is full`));
      assert.doesNotMatch(err, /\n\s+at /);
      assert.deepEqual(await Deno.readFile(ck), before);
      assert.deepEqual([...Deno.readDirSync(disk)].map((e) => e.name), ["ck.json"]);
      // Read-only: refused before step 1, not after training.
      const remount = await new Deno.Command("mount", { args: ["-o", "remount,ro", disk] })
        .output();
      assert.ok(remount.success);
      const ro = await train(["--steps", "3", "--json", join(disk, "run.json")]);
      assert.equal(ro.code, 2, ro.err);
      assert.match(ro.err, /Cannot write --json file .*run\.json: the file system is read-only/);
      assert.doesNotMatch(ro.out, /step/);
    } finally {
      await new Deno.Command("umount", { args: [disk] }).output();
    }
  }),
);

Deno.test(
  "saveCheckpoint() goes through the same atomic write",
  inTempDir(async (dir) => {
    const path = join(dir, "ck.json");
    const fs = failing("writeFileSynced", osError("ENOSPC", "No space left on device"), {
      partial: true,
    });
    const tokenizer = Tokenizer.fromDocs(["ab"]);
    const engine = createEngine("fast", { ...DEFAULT_CONFIG, vocabSize: 3 }, {
      rng: new Random(0),
    });
    const adam = new Adam(engine.numParams, { numSteps: 1 });
    const data = { path: null, numDocs: 1, sha256: "0".repeat(64) };
    const checkpoint = checkpointOf({
      engine,
      adam,
      tokenizer,
      rng: new Random(0),
      train: { seed: 0, data },
    });
    await assert.rejects(
      () => saveCheckpoint(path, checkpoint, { fs }),
      /Cannot write checkpoint .*ck\.json: the disk is full/,
    );
    assert.deepEqual([...Deno.readDirSync(dir)], []);
  }),
);

// Finding 1: `ln -s ../victim/victim.txt out/ck.json.tmp` made --save overwrite victim.txt.
Deno.test(
  "writeFileAtomic() never writes through a file planted at its temporary path, nor removes it",
  inTempDir(async (dir) => {
    const victim = join(dir, "victim.txt");
    await Deno.writeTextFile(victim, "precious\n");
    const path = join(dir, "ck.json");
    // The old fixed name no longer matters at all.
    await Deno.symlink(victim, `${path}.tmp`);
    await writeFileAtomic(path, "new\n", { what: "checkpoint" });
    assert.equal(await Deno.readTextFile(path), "new\n");
    assert.ok((await Deno.lstat(path)).isFile, "a regular file, not a symlink");
    // A symlink and a hard link at this process's temporary name are refused, left alone.
    for (const plant of [Deno.symlink, Deno.link]) {
      await plant(victim, tempPathOf(path));
      await assert.rejects(
        () => writeFileAtomic(path, "evil\n", { what: "--json file" }),
        /^UserError: Cannot write --json file .*ck\.json: the file already exists/,
      );
      assert.equal(await Deno.readTextFile(victim), "precious\n");
      assert.equal(await Deno.readTextFile(path), "new\n");
      assert.ok(await Deno.lstat(tempPathOf(path)), "not ours to remove");
      await Deno.remove(tempPathOf(path));
    }
    // And the pre-flight check refuses it before any work, rather than accepting it.
    await Deno.symlink(victim, tempPathOf(path));
    await assert.rejects(
      () => checkOutputs({ inputs: [], outputs: [{ flag: "--save", path }] }),
      /Cannot write --save file .*ck\.json: its temporary file .* already exists and is not this run's/,
    );
    assert.equal(await Deno.readTextFile(victim), "precious\n");
  }),
);

// Finding 9: a ck.json.tmp/ folder passed the pre-flight check and was deleted after training.
Deno.test(
  "checkOutputs() and writeFileAtomic() leave a ck.json.tmp/ folder alone",
  inTempDir(async (dir) => {
    const path = join(dir, "ck.json");
    await Deno.mkdir(`${path}.tmp`);
    await Deno.writeTextFile(join(`${path}.tmp`, "keep.txt"), "mine\n");
    await checkOutputs({ inputs: [], outputs: [{ flag: "--save", path }] });
    await writeFileAtomic(path, "{}\n", { what: "checkpoint" });
    assert.equal(await Deno.readTextFile(join(`${path}.tmp`, "keep.txt")), "mine\n");
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name).sort(), [
      "ck.json",
      "ck.json.tmp",
    ]);
  }),
);

Deno.test("tempPathOf() names a hidden file in the same folder, different in each process", async () => {
  assert.equal(tempPathOf("/o/ck.json", "ab12"), "/o/.ck.json.ab12.tmp");
  assert.match(tempPathOf("ck.json"), /^\.ck\.json\.[0-9a-f]{16}\.tmp$/);
  const other = await new Deno.Command(Deno.execPath(), {
    args: [
      "eval",
      `import { tempPathOf } from "${new URL("../lib/io/files.ts", import.meta.url)}";` +
      `console.log(tempPathOf("ck.json"))`,
    ],
    stdout: "piped",
  }).output();
  assert.notEqual(decoder.decode(other.stdout).trim(), tempPathOf("ck.json"));
});

Deno.test(
  "writeFileAtomic() writes pieces from an async iterable, in order",
  inTempDir(async (dir) => {
    const path = join(dir, "a.bin");
    async function* pieces() {
      for (let i = 0; i < 5; i++) yield new Uint8Array([i, i]);
    }
    await writeFileAtomic(path, pieces(), { what: "file" });
    assert.deepEqual(await Deno.readFile(path), new Uint8Array([0, 0, 1, 1, 2, 2, 3, 3, 4, 4]));
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["a.bin"]);
  }),
);

// Finding 2: a second writer of the same output is refused while the first holds it.
Deno.test(
  "lockOutput() refuses a second holder, in this process or another, and takes over a stale lock",
  inTempDir(async (dir) => {
    const path = join(dir, "ck.json");
    const lock = await lockOutput(path, { flag: "--save" });
    assert.equal(await Deno.readTextFile(`${path}.lock`), `${Deno.pid}\n`);
    await assert.rejects(
      () => lockOutput(path, { flag: "--save" }),
      new RegExp(
        `^UserError: Cannot write --save file .*ck\\.json: another run \\(process ${Deno.pid}\\) ` +
          "is writing it; wait for it to finish or give --save another path$",
      ),
    );
    const other = await new Deno.Command(Deno.execPath(), {
      args: [
        "eval",
        `import { lockOutput } from "${new URL("../lib/io/files.ts", import.meta.url)}";` +
        `await lockOutput(${JSON.stringify(path)}, { flag: "--json" });`,
      ],
      stderr: "piped",
    }).output();
    assert.equal(other.code, 1);
    assert.match(decoder.decode(other.stderr), /another run \(process \d+\) is writing it/);
    lock.release();
    assert.deepEqual([...Deno.readDirSync(dir)], []);
    // A lock file left by a killed run (its process gone, so no one holds the lock).
    await Deno.writeTextFile(`${path}.lock`, "999999999\n");
    const taken = await lockOutput(path, { flag: "--save" });
    assert.equal(await Deno.readTextFile(`${path}.lock`), `${Deno.pid}\n`);
    taken.release();
    // A symlink planted as the lock file is refused, its target untouched.
    const victim = join(dir, "victim.txt");
    await Deno.writeTextFile(victim, "precious\n");
    await Deno.symlink(victim, `${path}.lock`);
    await assert.rejects(() => lockOutput(path, { flag: "--save" }), /is not a lock file/);
    assert.equal(await Deno.readTextFile(victim), "precious\n");
  }),
);

// Finding 6: devices and FIFOs were read forever.
Deno.test(
  "readFileChecked() refuses devices, FIFOs, folders and files too large, before reading",
  inTempDir(async (dir) => {
    const fifo = join(dir, "pipe");
    assert.ok((await new Deno.Command("mkfifo", { args: [fifo] }).output()).success);
    const big = join(dir, "big.txt");
    await Deno.writeFile(big, new Uint8Array(100));
    const cases: [string, RegExp, number?][] = [
      ["/dev/zero", /\/dev\/zero: it is a character device, not a regular file$/],
      [fifo, /pipe: it is a named pipe \(FIFO\), not a regular file$/],
      [dir, /: it is a folder, not a regular file$/],
      [big, /big\.txt: it is too large \(0\.000 MiB; the limit is 0\.000 MiB\)$/, 10],
    ];
    for (const [path, message, maxBytes] of cases) {
      await assert.rejects(
        () => readFileChecked(path, { what: "dataset", maxBytes }),
        (e: Error) => e instanceof UserError && message.test(e.message),
        path,
      );
    }
    assert.equal((await readFileChecked(big, { what: "dataset", maxBytes: 100 })).length, 100);
  }),
);
