// The launcher's V8 flags: a Value-engine run whose step's graph outgrows the task's young
// generation gets a larger one in its own process; the default run keeps the task's flags (and
// runs in the launcher's process). Permissions are tested in tests/permissions_test.ts.

import assert from "node:assert/strict";
import { V8_SEMI_SPACE_MIB, v8FlagsFor } from "@lib/cli/launcher.ts";
import { graphValues, MEASURED_BYTES_PER_VALUE, semiSpaceMiB } from "@lib/cli/limits.ts";
import { DEFAULT_CONFIG } from "@lib/model.ts";

const TASK = "--expose-gc,--max-semi-space-size=24,--minor-ms"; // deno.json's train task
const semi = (mib: number) => [`--v8-flags=--max-semi-space-size=${mib}`];

Deno.test("v8FlagsFor() raises the young generation to hold a Value-engine step's graph", () => {
  const cases: [string[], string[]][] = [
    [[], []], // the default run: ~14 MiB a step
    [["--steps", "3000", "--seed", "1", "--lr", "0.003"], []],
    [["--n-embd", "32"], semi(64)], // ~50 MiB
    [["--n-layer", "2", "--n-embd", "32", "--steps", "3000"], semi(128)], // ~96 MiB
    [["--n-layer=4", "--n-embd=64", "--n-head=4"], semi(1024)], // ~717 MiB
    [["--n-embd", "16", "--block-size", "64"], semi(128)],
    // the fast engine has no graph; a resumed run's shape is in its checkpoint
    [["--n-layer", "2", "--n-embd", "32", "--engine", "fast"], []],
    [["--load", "ck.json"], []],
    // other commands, and bad flags (which the CLI reports)
    [["sample", "--checkpoint", "ck.json"], []],
    [["eval", "--checkpoint", "ck.json"], []],
    [["--n-embd", "32", "--bogus"], []],
  ];
  for (const [args, want] of cases) assert.deepEqual(v8FlagsFor(args, TASK), want, args.join(" "));
});

Deno.test("v8FlagsFor() reads the task's semi-space, the last one given, or V8's default", () => {
  const args = ["--n-embd", "32"]; // needs 64 MiB
  assert.deepEqual(v8FlagsFor(args, "--max-semi-space-size=64"), []);
  assert.deepEqual(v8FlagsFor(args, "--max_semi_space_size=128,--expose-gc"), []);
  assert.deepEqual(
    v8FlagsFor(args, "--max-semi-space-size=128,--max-semi-space-size=32"),
    semi(64),
  );
  assert.deepEqual(v8FlagsFor(args, "--expose-gc"), semi(64));
  assert.deepEqual(v8FlagsFor(args, undefined), semi(64));
  // Unknown flags: V8's default, which the default run's graph fits too.
  assert.deepEqual(v8FlagsFor([], undefined), []);
  const config = { ...DEFAULT_CONFIG, vocabSize: 27 };
  assert.ok(graphValues(config, 16) * MEASURED_BYTES_PER_VALUE < V8_SEMI_SPACE_MIB * 2 ** 20);
});

Deno.test("semiSpaceMiB() is the power of two at or above the largest step's graph", () => {
  const shapes: [number, number, number][] = [[1, 16, 16], [1, 32, 16], [3, 48, 24], [8, 128, 8]];
  for (const [nLayer, nEmbd, blockSize] of shapes) {
    const config = { ...DEFAULT_CONFIG, vocabSize: 27, nLayer, nEmbd, nHead: 4, blockSize };
    const graph = graphValues(config, blockSize) * MEASURED_BYTES_PER_VALUE / 2 ** 20;
    const mib = semiSpaceMiB(config, blockSize);
    assert.ok(Number.isInteger(Math.log2(mib)), `${mib}`);
    assert.ok(mib >= graph && mib / 2 < graph, `${nLayer}x${nEmbd}: ${graph} MiB -> ${mib}`);
  }
});
