// A checkpoint is a standard safetensors file: Python with numpy alone (no safetensors
// package) reads it and, with a numpy forward pass (tests/_checkpoint_numpy.py), reproduces
// the model's logits to 1e-12. Skipped where python3 or numpy is missing, unless CI is set.

import assert from "node:assert/strict";
import { join } from "node:path";
import { inTempDir } from "./_temp.ts";
import { Adam } from "@lib/adam.ts";
import { createEngine } from "@lib/engine.ts";
import { checkpointOf, docsSha256, saveCheckpoint } from "@lib/io/checkpoint.ts";
import { parseDocs } from "@lib/io/data.ts";
import { createGpt, createKvCache, DEFAULT_CONFIG, gpt } from "@lib/model.ts";
import { Random } from "@lib/random.ts";
import { Tokenizer } from "@lib/tokenizer.ts";
import { docTokens } from "@lib/train.ts";

const SCRIPT = new URL("./_checkpoint_numpy.py", import.meta.url).pathname;
const UNICODE = new URL("./fixtures/unicode_names.txt", import.meta.url).pathname;
// Debian's python3 (with python3-numpy) where there is one.
const PYTHON = (() => {
  try {
    return Deno.statSync("/usr/bin/python3").isFile ? "/usr/bin/python3" : "python3";
  } catch {
    return "python3";
  }
})();

// Whether python3 with numpy can run; if not, CI fails and elsewhere the test is skipped.
async function numpyMissing(): Promise<string | undefined> {
  try {
    const { success, stderr } = await new Deno.Command(PYTHON, {
      args: ["-c", "import numpy"],
      stdout: "null",
      stderr: "piped",
    }).output();
    return success ? undefined : new TextDecoder().decode(stderr).trim().split("\n").at(-1);
  } catch (err) {
    return String(err);
  }
}

Deno.test(
  "a saved checkpoint loads in numpy alone and its forward pass gives the model's logits to 1e-12",
  inTempDir(async (dir) => {
    const why = await numpyMissing();
    if (why !== undefined) {
      if (Deno.env.get("CI")) throw new Error(`Cannot run ${PYTHON} with numpy: ${why}`);
      console.warn(`skipping the numpy test: ${PYTHON} with numpy is missing (${why})`);
      return;
    }
    // Two layers, two heads, Unicode characters, trained a few steps with the fast engine.
    const docs = parseDocs(await Deno.readTextFile(UNICODE));
    const rng = new Random(7);
    const tokenizer = Tokenizer.fromDocs(docs);
    const config = { ...DEFAULT_CONFIG, vocabSize: tokenizer.vocabSize, nLayer: 2, nHead: 2 };
    const engine = createEngine("fast", config, { rng });
    const adam = new Adam(engine.numParams, { numSteps: 20 });
    for (const doc of docs.slice(0, 5)) engine.trainStep(docTokens(tokenizer, doc), adam);
    const path = join(dir, "ck.safetensors");
    const data = { path: null, numDocs: docs.length, sha256: await docsSha256(docs) };
    await saveCheckpoint(
      path,
      checkpointOf({ engine, adam, tokenizer, rng, train: { seed: 7, data } }),
    );

    const prefix = [...docs.find((d) => [...d].some((c) => c.codePointAt(0)! > 127))!].slice(0, 8)
      .join("");
    const { success, stdout, stderr } = await new Deno.Command(PYTHON, {
      args: [SCRIPT, path, prefix],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.ok(success, new TextDecoder().decode(stderr));
    const numpy: { tokens: number[]; logits: number[][] } = JSON.parse(
      new TextDecoder().decode(stdout),
    );

    // The lesson's model on the same parameters and tokens.
    const tokens = [tokenizer.BOS, ...tokenizer.encode(prefix)];
    assert.deepEqual(numpy.tokens, tokens);
    const model = createGpt(config, { params: engine.parameters() });
    const cache = createKvCache(config);
    tokens.forEach((token, position) => {
      const logits = gpt(model, token, cache).map((v) => v.data);
      const got = numpy.logits[position]!;
      assert.equal(got.length, config.vocabSize);
      logits.forEach((want, i) => {
        const diff = Math.abs(got[i]! - want);
        assert.ok(diff <= 1e-12, `position ${position}, token ${i}: ${got[i]} vs ${want}`);
      });
    });
  }),
);
