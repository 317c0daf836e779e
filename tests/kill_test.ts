// Nothing shared, nothing left behind: two runs writing one file, and SIGINT, SIGTERM and
// SIGKILL at any moment, through the CLI and through the task launcher. Each output is whole
// (old or new), no temporary or lock file survives an interrupt, and the launcher's training
// process never outlives it.

import assert from "node:assert/strict";
import { join } from "node:path";
import { loadCheckpoint } from "@lib/io/checkpoint.ts";
import { inTempDir } from "./_temp.ts";

const ROOT = join(import.meta.dirname!, "..");
const CLI = join(ROOT, "lib", "cli", "main.ts");
const LAUNCHER = join(ROOT, "lib", "cli", "launcher.ts");
const DATA = join(ROOT, "tests", "fixtures", "syllable_names.txt");
const decoder = new TextDecoder();

// The CLI in its own process, stdout and stderr collected.
function start(args: string[], options: { launcher?: boolean } = {}): Deno.ChildProcess {
  const task = JSON.parse(Deno.readTextFileSync(join(ROOT, "deno.json"))).tasks.train as string;
  const flags = options.launcher
    ? task.split(" ").filter((a) => a.startsWith("--allow-"))
    : ["--allow-read", "--allow-write"];
  return new Deno.Command(Deno.execPath(), {
    args: ["run", ...flags, options.launcher ? LAUNCHER : CLI, ...args],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

async function finish(child: Deno.ChildProcess) {
  const { code, signal, stdout, stderr } = await child.output();
  return { code, signal, out: decoder.decode(stdout), err: decoder.decode(stderr) };
}

// Waits until `found()` (polled every 2 ms, for up to 30 s).
async function until<T>(found: () => T | undefined | Promise<T | undefined>): Promise<T> {
  for (let i = 0; i < 15_000; i++) {
    const value = await found();
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 2));
  }
  throw new Error("Cannot wait: it never happened");
}

const exists = (path: string) => Deno.lstat(path).then(() => true, () => false);
const names = (dir: string) => [...Deno.readDirSync(dir)].map((e) => e.name).sort();
const leftovers = (dir: string) => names(dir).filter((n) => /\.tmp$|\.lock$/.test(n));

// The process id a run wrote into its lock file.
async function lockHolder(path: string): Promise<number> {
  return await until(async () => {
    const text = await Deno.readTextFile(`${path}.lock`).catch(() => "");
    return /^\d+\n$/.test(text) ? Number(text.trim()) : undefined;
  });
}

const LONG_RUN = ["--data", DATA, "--engine", "fast", "--steps", "1000000", "--stop-at", "999999"];

// Finding 2: two runs saving to one path shared its temporary file.
Deno.test(
  "a second run saving the same path while the first runs is refused in one line; " +
    "the first's checkpoints stay whole",
  inTempDir(async (dir) => {
    const ck = join(dir, "ck.json");
    const first = start([...LONG_RUN, "--save", ck, "--save-every", "1", "--seed", "1"]);
    const pid = await lockHolder(ck);
    await until(async () => (await exists(ck)) || undefined);
    const second = await finish(
      start([...LONG_RUN, "--save", ck, "--save-every", "1", "--seed", "2"]),
    );
    assert.equal(second.code, 2, second.err);
    assert.equal(
      second.err,
      `\nerror: Cannot write --save file ${ck}: another run (process ${pid}) is writing it; ` +
        "wait for it to finish or give --save another path\n",
    );
    // Every read of the checkpoint while the first run rewrites it finds a whole one.
    for (let i = 0; i < 30; i++) assert.ok((await loadCheckpoint(ck)).step >= 1);
    // Its --json, too, is claimed.
    const json = join(dir, "run.json");
    const third = start([...LONG_RUN, "--json", json]);
    await lockHolder(json);
    const fourth = await finish(start(["--data", DATA, "--engine", "fast", "--json", json]));
    assert.equal(fourth.code, 2, fourth.err);
    assert.match(fourth.err, /Cannot write --json file .*run\.json: another run \(process \d+\)/);
    for (const child of [first, third]) {
      child.kill("SIGINT");
      assert.equal((await finish(child)).code, 130);
    }
    assert.deepEqual(names(dir), ["ck.json"]); // no temporary or lock file left
    assert.ok((await loadCheckpoint(ck)).step >= 1);
  }),
);

// Finding 2: a lock left by a killed run is taken over.
Deno.test(
  "a lock file left by a run killed with SIGKILL does not block the next run",
  inTempDir(async (dir) => {
    const ck = join(dir, "ck.json");
    const child = start([...LONG_RUN, "--save", ck, "--save-every", "50"]);
    await lockHolder(ck);
    child.kill("SIGKILL");
    await finish(child);
    assert.ok(await exists(`${ck}.lock`), "SIGKILL leaves the lock file");
    const next = await finish(
      start(["--data", DATA, "--engine", "fast", "--steps", "5", "--save", ck]),
    );
    assert.equal(next.code, 0, next.err);
    assert.equal((await loadCheckpoint(ck)).step, 5);
    assert.deepEqual(leftovers(dir), []);
  }),
);

// Finding 9: SIGINT during a 176 MB save left sig.json.tmp.
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  Deno.test(
    `${signal} during a large save removes the temporary file; the old checkpoint stays whole`,
    inTempDir(async (dir) => {
      const ck = join(dir, "big.json");
      // About 3.2 million parameters: a checkpoint of ~76 MB, written in pieces.
      const big = ["--data", DATA, "--engine", "fast", "--n-embd", "512", "--n-head", "4"];
      const saved = await finish(start([...big, "--steps", "3", "--stop-at", "1", "--save", ck]));
      assert.equal(saved.code, 0, saved.err);
      const before = await Deno.readFile(ck);
      let landed = 0;
      for (let attempt = 0; attempt < 10 && landed < 2; attempt++) {
        await Deno.writeFile(ck, before); // step 1 again
        const child = start([
          ...["--data", DATA, "--engine", "fast", "--load", ck, "--stop-at", "2", "--save", ck],
        ]);
        let exited = false;
        child.status.then(() => (exited = true));
        // Once its temporary file has data (not the empty pre-flight probe), it is saving.
        const saving = await until(async () => {
          if (exited) return false; // it finished first: try again
          const tmp = names(dir).find((n) => n.endsWith(".tmp"));
          const size = tmp ? await Deno.lstat(join(dir, tmp)).then((i) => i.size, () => 0) : 0;
          return size > 0 || undefined;
        });
        if (saving) child.kill(signal);
        const r = await finish(child);
        assert.deepEqual(leftovers(dir), [], `${signal}, attempt ${attempt}`);
        if (!saving) continue;
        assert.equal(r.code, signal === "SIGINT" ? 130 : 143, r.err);
        const after = await Deno.readFile(ck);
        if (after.length === before.length && after.every((b, i) => b === before[i])) landed++;
        else assert.equal((await loadCheckpoint(ck)).step, 2); // renamed just before: the new one
      }
      assert.ok(landed >= 1, "no signal landed during the save");
      assert.equal((await loadCheckpoint(ck)).step >= 1, true);
    }),
  );
}

// Finding 10: SIGTERM to the launcher orphaned its child.
for (const signal of ["SIGTERM", "SIGINT"] as const) {
  Deno.test(
    `the task launcher passes ${signal} on to its training process and exits with its status`,
    inTempDir(async (dir) => {
      const ck = join(dir, "ck.json");
      const launcher = start([...LONG_RUN, "--save", ck, "--save-every", "100"], {
        launcher: true,
      });
      const child = await lockHolder(ck); // the training process holds the lock
      assert.notEqual(child, launcher.pid, "a second process");
      launcher.kill(signal);
      const r = await finish(launcher);
      assert.equal(r.code, signal === "SIGINT" ? 130 : 143, r.err);
      assert.equal(r.signal, null, "the launcher ended itself, with the child's status");
      // The training process is gone (not left training and writing), and left nothing behind.
      const alive = async () => {
        const stat = await Deno.readTextFile(`/proc/${child}/stat`).catch(() => "");
        return stat !== "" && !/^\d+ \(.*\) Z/.test(stat);
      };
      await until(async () => (await alive()) ? undefined : true);
      assert.deepEqual(leftovers(dir), []);
    }),
  );
}

// Finding 8: a run killed by the system was reported as exit 130 without a word.
Deno.test(
  "the task launcher reports a training process killed by the system in one line, exit 137",
  inTempDir(async (dir) => {
    const ck = join(dir, "ck.json");
    const launcher = start([...LONG_RUN, "--save", ck, "--save-every", "100"], {
      launcher: true,
    });
    const child = await lockHolder(ck);
    Deno.kill(child, "SIGKILL"); // as the kernel's out-of-memory killer does
    const r = await finish(launcher);
    assert.equal(r.code, 137);
    assert.equal(
      r.err.trim().split("\n").at(-1),
      "error: the training process was killed (SIGKILL), likely out of memory",
    );
  }),
);
