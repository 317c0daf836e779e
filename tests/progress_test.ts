// The progress line: redirected, the reference's bytes; on a terminal, also the running mean
// loss, the speed and the time left (a fake clock and a fake terminal, never a real one).

import assert from "node:assert/strict";
import { formatDuration, MEAN_WINDOW, progress, stepLine } from "@lib/cli/progress.ts";
import { main, run } from "@lib/cli/main.ts";
import { parseFlags } from "@lib/cli/flags.ts";
import { Random } from "@lib/random.ts";

const UNICODE = new URL("./fixtures/unicode_names.txt", import.meta.url).pathname;
const SHORT = ["--data", UNICODE, "--seed", "11", "--steps", "40", "--block-size", "12"];

Deno.test("progress() off a terminal gives the reference's line, byte for byte", () => {
  const p = progress({ numSteps: 1000, first: 0, last: 1000 }, { terminal: false });
  assert.equal(p.line(1, 3.3660250299787914), "step    1 / 1000 | loss 3.3660\r");
  assert.equal(p.line(1000, 2.6497), "step 1000 / 1000 | loss 2.6497\r");
  assert.equal(stepLine(7, 12345, 0.5), "step    7 / 12345 | loss 0.5000\r");
});

Deno.test("progress() on a terminal adds the mean of the last 100 losses (generated)", () => {
  const rng = new Random(3);
  const losses = Array.from({ length: 350 }, () => 1 + 3 * rng.random());
  const p = progress({ numSteps: 350, first: 0, last: 350 }, { terminal: true, now: () => 0 });
  losses.forEach((loss, i) => {
    const line = p.line(i + 1, loss);
    const recent = losses.slice(Math.max(0, i + 1 - MEAN_WINDOW), i + 1);
    const mean = recent.reduce((a, b) => a + b, 0) / recent.length;
    assert.ok(line.startsWith(stepLine(i + 1, 350, loss).slice(0, -1) + " | mean "), line);
    assert.equal(line.match(/mean (\d+\.\d{4})/)![1], mean.toFixed(4));
    assert.ok(line.endsWith("\r"));
  });
});

Deno.test("progress() on a terminal shows steps per second and the time left", () => {
  let ms = 0;
  const clock = { terminal: true, now: () => ms };
  // A resumed run: steps 501 to 2000 of 2000, 4 ms each.
  const p = progress({ numSteps: 2000, first: 500, last: 2000 }, clock);
  ms = 4;
  assert.match(p.line(501, 2), /\| 250 steps\/s \| 6 s left\r$/);
  ms = 400;
  assert.match(p.line(600, 2), /\| 250 steps\/s \| 6 s left\r$/);
  ms = 6000;
  assert.match(p.line(2000, 2), /\| 250 steps\/s \| 0 s left\r$/);
  // A slow run, 10 s a step: a decimal rate, hours left; a shorter line covers a longer one.
  const slow = progress({ numSteps: 3000, first: 0, last: 3000 }, clock);
  const start = ms;
  const at = (step: number, loss: number) => {
    ms = start + 10_000 * step;
    return slow.line(step, loss);
  };
  const first = at(1, 12.5);
  assert.match(first, /\| 0\.1 steps\/s \| 8 h 20 min left\r$/);
  assert.match(at(2999, 2.5), /\| 0\.1 steps\/s \| 10 s left {8}\r$/);
  const last = at(3000, 2.5);
  assert.match(last, /\| 0 s left {9}\r$/);
  assert.equal(last.length, first.length);
});

Deno.test("formatDuration() says seconds, minutes, then hours and minutes", () => {
  const cases: [number, string][] = [
    [0, "0 s"],
    [0.4, "0 s"],
    [29.6, "30 s"],
    [89, "89 s"],
    [90, "2 min"],
    [449, "7 min"],
    [3569, "59 min"],
    [3600, "1 h 0 min"],
    [86_399, "24 h 0 min"],
    [Infinity, "-"],
    [NaN, "-"],
  ];
  for (const [seconds, text] of cases) assert.equal(formatDuration(seconds), text, `${seconds}`);
});

// run()'s output through a fake terminal and a fake pipe.
async function runOn(terminal: boolean | undefined): Promise<{ out: string; err: string }> {
  let out = "";
  let err = "";
  const io = { out: (t: string) => (out += t), err: (t: string) => (err += t), terminal };
  await run(parseFlags(SHORT), io);
  return { out, err };
}

Deno.test("run() on a terminal shows more on each progress line, and nothing else changes", async () => {
  const piped = await runOn(false);
  assert.equal(piped.err, ""); // a short run: no notice of its duration
  assert.equal((await runOn(undefined)).out, piped.out);
  const tty = await runOn(true);
  assert.equal(tty.err, piped.err);
  const lines = tty.out.split("\r");
  assert.equal(
    lines.filter((l) => / \| mean \d\.\d{4} \| [\d.]+ steps\/s \| .* left/.test(l)).length,
    40,
  );
  // Without the additions (and the padding), the terminal's bytes are the pipe's.
  assert.equal(tty.out.replace(/ \| mean [^\r]*\r/g, "\r"), piped.out);
});

Deno.test("main() asks stdout whether it is a terminal: yes adds to the line, no keeps the reference's", async () => {
  const decoder = new TextDecoder();
  const { writeSync, isTerminal } = Deno.stdout;
  const capture = async (tty: boolean) => {
    const out: string[] = [];
    Deno.stdout.writeSync = (p: Uint8Array) => (out.push(decoder.decode(p)), p.length);
    Deno.stdout.isTerminal = () => tty;
    try {
      assert.equal(await main(SHORT), 0);
    } finally {
      Object.assign(Deno.stdout, { writeSync, isTerminal });
    }
    return out.join("");
  };
  const piped = await capture(false);
  assert.doesNotMatch(piped, /steps\/s/);
  assert.match(
    piped,
    /^num docs: 182\nvocab size: 53\nnum params: 4960\nstep {4}1 \/ {3}40 \| loss \d\.\d{4}\rstep/,
  );
  const tty = await capture(true);
  assert.match(
    tty,
    /step {3}40 \/ {3}40 \| loss \d\.\d{4} \| mean \d\.\d{4} \| [\d.]+ steps\/s \| 0 s left/,
  );
  assert.equal(tty.replace(/ \| mean [^\r]*\r/g, "\r"), piped);
});
