import { FastGpt } from "/work/main/lib/fast.ts";
import { Adam } from "/work/main/lib/adam.ts";
import { Random } from "/work/main/lib/random.ts";
import { Tokenizer } from "/work/main/lib/tokenizer.ts";
import { docTokens } from "/work/main/lib/train.ts";
import { parseDocs } from "/work/main/lib/data.ts";
import { DEFAULT_CONFIG } from "/work/main/lib/model.ts";
const docs = parseDocs(Deno.readTextFileSync("/work/main/data/names.txt"));
const rng = new Random(42); rng.shuffle(docs);
const tok = Tokenizer.fromDocs(docs);
const m = FastGpt.create({ ...DEFAULT_CONFIG, vocabSize: tok.vocabSize }, { rng });
const N = 5000;
const adam = new Adam(m.numParams, { numSteps: N });
const toks = docs.slice(0, N).map((d) => docTokens(tok, d));
let tf = 0, tb = 0, ta = 0;
for (let i = 0; i < N; i++) {
  const t0 = performance.now(); m.forward(toks[i]!); const t1 = performance.now(); m.backward(); const t2 = performance.now(); adam.stepArrays(m.params, m.grads); const t3 = performance.now();
  if (i >= 1000) { tf += t1 - t0; tb += t2 - t1; ta += t3 - t2; }
}
const k = (N - 1000) / 1000;
console.log(`per step µs: forward ${(tf / k).toFixed(1)} backward ${(tb / k).toFixed(1)} adam ${(ta / k).toFixed(1)}`);
