// Number formatting: Python's `:.Nf`, ties to even, which the reference's loss lines use.

import assert from "node:assert/strict";
import { formatFixed } from "@lib/io/format.ts";
import { Random } from "@lib/random.ts";

Deno.test("formatFixed() rounds like Python's format, ties to even", () => {
  assert.equal(formatFixed(3.3659669475848504, 4), "3.3660");
  assert.equal(formatFixed(0.03125, 4), "0.0312"); // exact tie: Python keeps the even digit
  assert.equal(formatFixed(0.09375, 4), "0.0938");
  assert.equal(formatFixed(-0.03125, 4), "-0.0312");
  assert.equal(formatFixed(2.5, 0), "2");
  assert.equal(formatFixed(1.00005, 4), (1.00005).toFixed(4)); // not an exact tie in binary
});

const havePython = (() => {
  try {
    return new Deno.Command("python3", { args: ["-c", ""] }).outputSync().success;
  } catch {
    return false;
  }
})();

Deno.test({
  name: "formatFixed() agrees with CPython on generated numbers, exact ties among them",
  ignore: !havePython,
  fn: async () => {
    // Exact ties (odd multiples of 2^-(digits + 1)), their neighbours, and ordinary numbers.
    const random = new Random(12345);
    const rng = () => random.random();
    const cases: [number, number][] = [];
    for (let i = 0; i < 300; i++) {
      const digits = Math.floor(rng() * 6);
      const tie = (2 * Math.floor(rng() * 5000) + 1) * 2 ** -(digits + 1);
      const sign = rng() < 0.3 ? -1 : 1;
      cases.push([sign * tie, digits], [sign * (tie + 1e-12), digits]);
      cases.push([sign * rng() * 10 ** Math.floor(rng() * 4), digits]);
    }
    const script = "import json,sys\nfor x, d in json.load(sys.stdin): print(f'{x:.{d}f}')";
    const child = new Deno.Command("python3", {
      args: ["-c", script],
      stdin: "piped",
      stdout: "piped",
    }).spawn();
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(JSON.stringify(cases)));
    await writer.close();
    const want = new TextDecoder().decode((await child.output()).stdout).trimEnd().split("\n");
    assert.deepEqual(cases.map(([x, d]) => formatFixed(x, d)), want);
  },
});
