// Issue 19, finding 3: a model of 12.6 million parameters (--n-embd 1024) could not be saved,
// its JSON longer than V8's longest string. Version 2 streams it to the disk from its arrays
// and reads it back into new ones, in pieces: no text, no second copy.

import assert from "node:assert/strict";
import { join } from "node:path";
import { inTempDir } from "./_temp.ts";
import { type Checkpoint, loadCheckpoint, saveCheckpoint } from "@lib/io/checkpoint.ts";
import { countParams, DEFAULT_CONFIG } from "@lib/model.ts";
import { Random } from "@lib/random.ts";

Deno.test(
  "a checkpoint of 12.6 million parameters, past what JSON can hold, saves and loads whole",
  inTempDir(async (dir) => {
    const config = { ...DEFAULT_CONFIG, vocabSize: 27, nEmbd: 1024 };
    const n = countParams(config);
    assert.equal(n, 12_654_592);
    // Numbers that differ everywhere, made again to check what is loaded (not kept: one copy
    // of 300 MB at a time).
    const param = (i: number) => Math.sin(i) / 7;
    const moment = (i: number) => Math.cos(i) ** 2 / 3;
    const path = join(dir, "big.safetensors");
    {
      const [params, m, v] = [new Float64Array(n), new Float64Array(n), new Float64Array(n)];
      for (let i = 0; i < n; i++) [params[i], m[i], v[i]] = [param(i), -moment(i), moment(i)];
      const checkpoint: Checkpoint = {
        format: "microgpt-ts-checkpoint",
        version: 2,
        config,
        uchars: [..."abcdefghijklmnopqrstuvwxyz"],
        train: {
          steps: 2,
          learningRate: 0.01,
          seed: 1,
          data: { path: null, numDocs: 1, sha256: "0".repeat(64) },
        },
        step: 1,
        params,
        adam: { m, v, t: 1 },
        rng: new Random(1).getState(),
      };
      await saveCheckpoint(path, checkpoint);
    }
    // The JSON of version 1 would need ~20 characters a number; V8's strings stop at 2^29 - 24.
    assert.ok(3 * n * 20 > 2 ** 29);
    const size = (await Deno.stat(path)).size;
    assert.ok(size > 3 * n * 8 && size < 3 * n * 8 + 20_000, `${size} bytes`);
    const loaded = await loadCheckpoint(path);
    assert.equal(loaded.step, 1);
    for (let i = 0; i < n; i++) {
      if (
        loaded.params[i] !== param(i) || loaded.adam.m[i] !== -moment(i) ||
        loaded.adam.v[i] !== moment(i)
      ) {
        assert.fail(`number ${i} differs`);
      }
    }
  }),
);
