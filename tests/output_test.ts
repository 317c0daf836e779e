// The CLI's output writer: held text comes out whole and in order, stderr stays in order with
// stdout, and a failed write is not retried; the CLI stops quietly when the reader of stdout
// goes away, and says in one line when stdout's disk is full.

import assert from "node:assert/strict";
import { join } from "node:path";
import { type SyncFile, textWriter } from "@lib/cli/output.ts";
import { Random } from "@lib/random.ts";
import { inTempDir } from "./_temp.ts";

const decoder = new TextDecoder();

// A file that records each write and accepts at most `chunk` bytes per call.
function fakeFile(chunk = Infinity): SyncFile & { writes: string[]; bytes: number[] } {
  const writes: string[] = [];
  const bytes: number[] = [];
  return {
    writes,
    bytes,
    writeSync(data: Uint8Array) {
      const n = Math.min(data.length, chunk);
      bytes.push(...data.subarray(0, n));
      writes.push(decoder.decode(data.subarray(0, n)));
      return n;
    },
  };
}

Deno.test("textWriter() writes every byte once, in order, however it holds them (generated)", () => {
  const rng = new Random(3);
  const pieces = ["step 1 / 9\r", "é", "名前", "😀", "\n", "x", ""];
  for (let trial = 0; trial < 40; trial++) {
    const file = fakeFile(1 + Math.floor(rng.random() * 7)); // partial writes
    const holdMs = trial % 2 === 0 ? 0 : 1e9;
    const out = textWriter(file, { holdMs });
    let expected = "";
    for (let i = 0; i < 30; i++) {
      const text = pieces[Math.floor(rng.random() * pieces.length)]!;
      expected += text;
      out(text);
      if (rng.random() < 0.1) out.flush();
    }
    out.flush();
    assert.equal(decoder.decode(new Uint8Array(file.bytes)), expected, `trial ${trial}`);
  }
});

Deno.test("textWriter() holds text for holdMs, then writes all of it in one call", async () => {
  const file = fakeFile();
  const out = textWriter(file, { holdMs: 200 });
  out("a");
  out("b");
  out("c");
  assert.deepEqual(file.writes, ["a"], "the first write goes out, the next wait");
  await new Promise((resolve) => setTimeout(resolve, 250));
  out("d");
  assert.deepEqual(file.writes, ["a", "bcd"]);
  out.flush();
  out.flush();
  assert.deepEqual(file.writes, ["a", "bcd"], "nothing held, nothing written");
});

Deno.test("textWriter() calls `before` ahead of each write, and drops text whose write failed", () => {
  const events: string[] = [];
  const out = textWriter(fakeFile(), { holdMs: 1e9 });
  const err = textWriter(
    { writeSync: (b) => (events.push(`err ${decoder.decode(b)}`), b.length) },
    {
      before: () => events.push("before"),
    },
  );
  out("held");
  err("e1");
  err("e2");
  assert.deepEqual(events, ["before", "err e1", "before", "err e2"]);

  let calls = 0;
  const broken = textWriter({
    writeSync() {
      calls++;
      throw new Deno.errors.BrokenPipe("closed");
    },
  }, { holdMs: 1e9 });
  assert.throws(() => broken("x"), Deno.errors.BrokenPipe);
  broken.flush();
  assert.equal(calls, 1, "the failed text is not written again");
});

const CLI = new URL("../lib/cli/main.ts", import.meta.url).pathname;

// A dataset of four names in `dir`: its path.
async function fourNames(dir: string): Promise<string> {
  const data = join(dir, "names.txt");
  await Deno.writeTextFile(data, "ann\nbob\ncy\ndee\n");
  return data;
}

Deno.test(
  "the CLI's stdout and stderr stay in order on one pipe (stopping at --stop-at)",
  inTempDir(async (dir) => {
    const data = await fourNames(dir);
    const { code, stdout } = await new Deno.Command("sh", {
      args: [
        "-c",
        `"${Deno.execPath()}" run --allow-read "${CLI}" --data "${data}" --steps 400 ` +
        "--stop-at 300 --engine fast 2>&1",
      ],
      stdout: "piped",
    }).output();
    assert.equal(code, 0);
    const text = decoder.decode(stdout);
    const lines = text.split(/[\r\n]/).filter((line) => line !== "");
    assert.match(lines.at(-2)!, /^step {2}300 \/ {2}400 \| loss \d\.\d{4}$/);
    assert.equal(lines.at(-1), "stopped after step 300 of 400");
    assert.equal(lines.filter((line) => line.startsWith("step ")).length, 300);
  }),
);

Deno.test(
  "the CLI stops quietly, exit code 141, when the reader of stdout goes away (| head)",
  inTempDir(async (dir) => {
    const data = await fourNames(dir);
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-read", CLI, "--data", data, "--steps", "20000", "--engine", "fast"],
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const reader = child.stdout.getReader();
    const first = await reader.read(); // "num docs: 4", written at once
    assert.match(decoder.decode(first.value), /^num docs: 4/);
    await reader.cancel(); // closes the pipe, as head does after its lines
    const [status, err] = await Promise.all([child.status, new Response(child.stderr).text()]);
    assert.equal(err, "");
    assert.equal(status.code, 141);
  }),
);

Deno.test({
  name: "the CLI says in one line that stdout's disk is full (> /dev/full), exit code 2",
  ignore: Deno.build.os !== "linux", // /dev/full is Linux's
  fn: inTempDir(async (dir) => {
    const data = await fourNames(dir);
    const { code, stderr } = await new Deno.Command("sh", {
      args: [
        "-c",
        `"${Deno.execPath()}" run --allow-read "${CLI}" --data "${data}" --steps 5 > /dev/full`,
      ],
      stderr: "piped",
    }).output();
    assert.equal(code, 2);
    assert.equal(
      decoder.decode(stderr),
      "\nerror: Cannot write standard output: the disk is full; free some space and run again\n",
    );
  }),
});
