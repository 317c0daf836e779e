// User errors and bugs: a mistake gets one line and exit 2, a bug its stack trace and exit 70.

import assert from "node:assert/strict";
import { join } from "node:path";
import { lossError } from "@lib/cli/main.ts";
import { UserError } from "@lib/io/errors.ts";
import { inTempDir } from "./_temp.ts";
import { runCli } from "./_cli.ts";

const LIB = new URL("../lib/", import.meta.url).href;

// Runs main() in a child process after `patch` (TypeScript) has broken the fast engine.
async function runPatched(dir: string, patch: string, args: string[]) {
  const script = join(dir, "patched.ts");
  await Deno.writeTextFile(
    script,
    `import { FastGpt } from "${LIB}fast/gpt.ts";
import { main } from "${LIB}cli/main.ts";
${patch}
Deno.exit(await main(Deno.args));
`,
  );
  const data = join(dir, "names.txt");
  await Deno.writeTextFile(data, "emma\nolivia\nava\nisabella\nsophia\n");
  return await runCli(["--data", data, "--engine", "fast", ...args], { script });
}

Deno.test(
  "main() reports an unexpected exception as a bug: stack trace, exit 70",
  inTempDir(async (dir) => {
    const r = await runPatched(
      dir,
      `FastGpt.prototype.trainStep = function () { throw new TypeError("x is undefined"); };`,
      ["--steps", "5"],
    );
    assert.equal(r.code, 70, r.err);
    assert.match(r.err, /TypeError: x is undefined\n\s+at /); // the stack trace is kept
    assert.match(r.err, /This is a bug in microgpt-ts/);
    assert.doesNotMatch(r.err, /^error: Cannot/m);
  }),
);

Deno.test(
  "main() calls a NaN loss while the loss was falling a bug, not a learning rate to lower",
  inTempDir(async (dir) => {
    const r = await runPatched(
      dir,
      `const step = FastGpt.prototype.trainStep;
let n = 0;
FastGpt.prototype.trainStep = function (tokens, adam) {
  const loss = step.call(this, tokens, adam);
  return ++n === 3 ? NaN : loss;
};`,
      ["--steps", "5"],
    );
    assert.equal(r.code, 70, r.err);
    assert.match(r.err, /the loss became NaN at step 3 while it was still falling/);
    assert.doesNotMatch(r.err, /lower --lr/);
  }),
);

Deno.test("lossError() tells a diverging run from a broken computation", () => {
  // Overflow to Infinity: a probability rounded to 0, the signature of too high a rate.
  const inf = lossError(Infinity, 2, [3.3], 10);
  assert.ok(inf instanceof UserError);
  assert.match(inf.message, /became Infinity at step 2 \(it diverged\); lower --lr \(now 10\)/);
  // NaN after the loss rose above where it started: diverged too.
  assert.ok(lossError(NaN, 5, [3.3, 40, 80, 200], 1) instanceof UserError);
  // NaN in the first step, or while falling: a bug.
  for (const losses of [[], [3.3], [3.3, 3.1, 2.9]]) {
    const e = lossError(NaN, losses.length + 1, losses, 0.01);
    assert.ok(!(e instanceof UserError), JSON.stringify(losses));
    assert.match(e.message, /while it was still falling/);
  }
});
