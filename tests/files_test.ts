// Nothing lost: atomic writes under every operating-system failure (injected through the
// FileSystem seam, and a real full disk), and outputs refused before any work when they would
// overwrite an input or cannot be written.

import assert from "node:assert/strict";
import { join } from "node:path";
import { saveCheckpoint } from "@lib/io/checkpoint.ts";
import { UserError } from "@lib/io/errors.ts";
import {
  checkOutputs,
  DENO_FS,
  type FileSystem,
  readFileChecked,
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
          outputs: [{ flag: "--save", path: ck }, { flag: "--json", path: `${ck}.tmp` }],
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
    await assert.rejects(
      // deno-lint-ignore no-explicit-any
      () => saveCheckpoint(path, {} as any, { fs }),
      /Cannot write checkpoint .*ck\.json: the disk is full/,
    );
    assert.deepEqual([...Deno.readDirSync(dir)], []);
  }),
);
