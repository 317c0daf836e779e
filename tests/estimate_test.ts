// The run-time estimate: its count of steps per document length, its figures against what was
// measured here, and the notice the CLI prints from it (on stderr, only for a long run).

import assert from "node:assert/strict";
import { estimateSeconds, FAST_STEP, SLOW_RUN_SECONDS, VALUE_STEP } from "@lib/cli/estimate.ts";
import { graphValues } from "@lib/cli/limits.ts";
import { DEFAULT_CONFIG } from "@lib/model.ts";
import { Random } from "@lib/random.ts";
import { haveNames, NAMES_PATH } from "./_names.ts";

const CLI = new URL("../lib/cli/main.ts", import.meta.url).pathname;
const config = (nLayer: number, nEmbd: number) => ({
  ...DEFAULT_CONFIG,
  vocabSize: 27,
  nLayer,
  nEmbd,
});

Deno.test("estimateSeconds() adds up each step's document, as the run takes them (generated)", () => {
  const rng = new Random(8);
  const c = config(1, 16);
  const int = (max: number) => Math.floor(rng.random() * (max + 1)); // 0..max
  for (let trial = 0; trial < 200; trial++) {
    const docs = Array.from(
      { length: 1 + int(9) },
      () => "x".repeat(int(20)),
    );
    const from = int(40);
    const to = from + 1 + int(60);
    let value = 0;
    for (let step = from; step < to; step++) {
      const n = Math.min(docs[step % docs.length]!.length + 1, c.blockSize);
      value += VALUE_STEP.ms * (graphValues(c, n) / VALUE_STEP.values) ** VALUE_STEP.power;
    }
    const got = estimateSeconds(c, { docs, from, to });
    assert.ok(
      Math.abs(got.value - value / 1000) <= 1e-12 * value,
      `${from}..${to} of ${docs.length}`,
    );
    assert.ok(got.fast > (to - from) * FAST_STEP.ms / 1000);
  }
});

Deno.test({
  name: "estimateSeconds() gives the times measured here, within a factor of two",
  ignore: !haveNames(),
  fn: async () => {
    const docs = (await Deno.readTextFile(NAMES_PATH)).split("\n").filter(Boolean);
    // [nLayer, nEmbd, measured ms per step: Value engine, fast engine]
    const measured: [number, number, number, number][] = [
      [1, 16, 2.5, 0.047],
      [1, 32, 11, 0.095],
      [2, 32, 30, 0.18],
      [4, 64, 264, 1.5],
    ];
    for (const [nLayer, nEmbd, valueMs, fastMs] of measured) {
      // 1,000 steps: seconds in all, as many as milliseconds a step
      const { value, fast } = estimateSeconds(config(nLayer, nEmbd), { docs, from: 0, to: 1000 });
      const what = `${nLayer}x${nEmbd}: ${value} s, ${fast} s`;
      assert.ok(value / valueMs > 0.5 && value / valueMs < 2, what);
      assert.ok(fast / fastMs > 0.5 && fast / fastMs < 2, what);
    }
    // The default run is well under the notice's threshold; the 2x32 run "What next" suggested
    // (3,000 steps) is over it.
    assert.ok(
      estimateSeconds(config(1, 16), { docs, from: 0, to: 1000 }).value < SLOW_RUN_SECONDS / 5,
    );
    assert.ok(estimateSeconds(config(2, 32), { docs, from: 0, to: 3000 }).value > SLOW_RUN_SECONDS);
  },
});

Deno.test({
  name: "main() says before a long Value-engine run how long it will take, on stderr only",
  ignore: !haveNames(),
  fn: async () => {
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-read", CLI, "--n-layer", "2", "--n-embd", "32", "--steps", "3000"],
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    let err = "";
    const decoder = new TextDecoder();
    for await (const chunk of child.stderr) {
      err += decoder.decode(chunk);
      if (err.includes("\n")) break;
    }
    child.kill();
    const out = decoder.decode((await child.output()).stdout);
    assert.match(
      err,
      /^note: this run will take about \d+ (s|min) on the Value engine; --engine fast trains the same model in about \d+ s\n/,
    );
    assert.doesNotMatch(out, /note/);
    assert.match(out, /^num docs: 32033\nvocab size: 27\nnum params: 26816\n/);
  },
});
