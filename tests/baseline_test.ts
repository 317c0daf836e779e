import assert from "node:assert/strict";
import { baseline, formatLadder, parseBaselineFlags } from "@lib/cli/baseline.ts";
import { UserError } from "@lib/io/errors.ts";

const SCRIPT = new URL("../lib/cli/baseline.ts", import.meta.url).pathname;
const FIXTURE = new URL("./fixtures/syllable_names.txt", import.meta.url).pathname;

Deno.test("parseBaselineFlags() reads the flags and refuses bad values with a UserError", () => {
  assert.deepEqual(parseBaselineFlags([]), {
    seed: 42,
    valSplit: 0.1,
    steps: 1000,
    big: false,
    help: false,
  });
  const o = parseBaselineFlags(["--data", "x.txt", "--seed=7", "--k", "0.5", "--steps", "20"]);
  assert.deepEqual([o.data, o.seed, o.k, o.steps], ["x.txt", 7, 0.5, 20]);
  assert.throws(() => parseBaselineFlags(["--val-split", "0"]), UserError, "--val-split must be");
  assert.throws(() => parseBaselineFlags(["--k", "-1"]), UserError, "--k must be a number above 0");
  assert.throws(() => parseBaselineFlags(["--seed"]), UserError, "--seed needs a value");
  assert.throws(() => parseBaselineFlags(["--bigg"]), UserError, 'unknown flag "--bigg"');
});

Deno.test("baseline() scores every rung on the same held-out names, the GPT last", async () => {
  const notices: string[] = [];
  const options = {
    ...parseBaselineFlags(["--steps", "30", "--val-split", "0.25"]),
    data: FIXTURE,
  };
  const { rows, train, val, positions } = await baseline(options, { err: (t) => notices.push(t) });
  assert.deepEqual(rows.map((r) => r.model), [
    "uniform",
    "unigram",
    "bigram",
    "trigram",
    "4-gram",
    "microgpt 1x16, 30 steps",
  ]);
  assert.equal(train + val, 90);
  assert.equal(val, 22);
  assert.ok(positions > val);
  assert.ok(rows[1]!.loss < rows[0]!.loss && rows[2]!.loss < rows[1]!.loss);
  assert.equal(formatLadder(rows).length, rows.length + 1);
  assert.deepEqual(notices, ["training microgpt 1x16 for 30 steps\n"]);
});

Deno.test("deno task baseline reports a user's mistake in one line and exits 2", async () => {
  for (
    const [args, message] of [
      [
        ["--steps", "many"],
        'error: Cannot parse flags: --steps must be a positive integer, not "many"',
      ],
      [["--data", "/nonexistent/names.txt"], "error: Cannot read dataset"],
    ] as const
  ) {
    const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-read", SCRIPT, ...args],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const lines = new TextDecoder().decode(stderr).trimEnd().split("\n");
    assert.equal(code, 2);
    assert.equal(stdout.length, 0);
    assert.equal(lines.length, 1, lines.join("\n"));
    assert.ok(lines[0]!.startsWith(message), lines[0]!);
  }
});
