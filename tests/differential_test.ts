// The two engines against each other on generated configurations (tests/_differential.ts),
// and the configurations that once broke the fast engine, through the real CLI.

import assert from "node:assert/strict";
import { run } from "@lib/cli/main.ts";
import { DEFAULT_OPTIONS, type TrainOptions } from "@lib/cli/flags.ts";
import {
  type Case,
  compareEngines,
  describeCase,
  generateCase,
  MAX_VOCAB,
} from "./_differential.ts";
import { haveNames, NAMES_PATH } from "./_names.ts";

const SEED = 2026;
const RUNS = 300;

Deno.test(`FastGpt agrees with the Value engine on ${RUNS} generated configurations`, () => {
  const cases: Case[] = [];
  const failures: string[] = [];
  for (let index = 0; index < RUNS; index++) {
    const c = generateCase(SEED, index);
    cases.push(c);
    const problem = compareEngines(c);
    if (problem !== undefined) {
      failures.push(
        `case ${index}: ${describeCase(c)}: ${problem} ` +
          `(replay: deno task fuzz --seed ${SEED} --case ${index})`,
      );
    }
  }
  assert.deepEqual(failures, []);
  // The generator reaches the shapes the issue names, so a pass means something.
  const count = (f: (c: Case) => boolean) => cases.filter(f).length;
  assert.ok(count((c) => c.config.vocabSize > 4 * c.config.nEmbd * c.config.blockSize) >= 10);
  assert.ok(count((c) => c.config.vocabSize > 1000) >= 5);
  assert.ok(count((c) => c.config.vocabSize <= 4) >= 3);
  assert.ok(count((c) => c.config.nLayer === 3) >= 30);
  assert.ok(count((c) => c.config.blockSize === 1) >= 3);
  assert.ok(count((c) => c.config.nHead === c.config.nEmbd && c.config.nEmbd > 1) >= 5);
  assert.ok(count((c) => c.docs.some((d) => [...d].length >= c.config.blockSize)) >= 100);
  assert.ok(count((c) => c.docs.some((d) => [...d].length < c.config.blockSize - 1)) >= 100);
  assert.ok(count((c) => c.prefix.length > 0) >= 50);
  assert.ok(count((c) => c.lr < 0.003) >= 30 && count((c) => c.lr > 0.03) >= 30);
  assert.ok(cases.every((c) => c.config.vocabSize <= MAX_VOCAB));
});

Deno.test("the generator gives the same case for the same seed and index", () => {
  assert.deepEqual(generateCase(7, 3), generateCase(7, 3));
  assert.notDeepEqual(generateCase(7, 3), generateCase(7, 4));
});

// Both engines through run(), as `deno task train` runs them: the same losses and names.
async function bothEngines(options: Partial<TrainOptions>) {
  const io = { out: () => {}, err: () => {} };
  const value = await run({ ...DEFAULT_OPTIONS, ...options, engine: "value" }, io);
  const fast = await run({ ...DEFAULT_OPTIONS, ...options, engine: "fast" }, io);
  assert.ok(fast.losses.every(Number.isFinite));
  fast.losses.forEach((loss, i) => {
    const want = value.losses[i]!;
    assert.ok(Math.abs(loss - want) <= 1e-12 * want, `step ${i + 1}: ${loss} vs ${want}`);
  });
  assert.deepEqual(fast.samples, value.samples);
}

Deno.test(
  "regression: a vocabulary larger than 4 x nEmbd x blockSize trains in the fast engine (Unicode)",
  async () => {
    const data = new URL("./fixtures/unicode_names.txt", import.meta.url).pathname;
    await bothEngines({ data, nEmbd: 4, nHead: 1, blockSize: 2, steps: 200 });
  },
);

Deno.test({
  name: "regression: --n-embd 2 --n-head 2 --block-size 1 trains in the fast engine (names.txt)",
  ignore: !haveNames(),
  fn: () => bothEngines({ data: NAMES_PATH, nEmbd: 2, nHead: 2, blockSize: 1 }),
});
