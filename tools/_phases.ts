// Run by `deno task bench` in a fresh process: where the time of a default fast-engine run goes,
// phase by phase, cold as a user's run is. Prints one JSON object of milliseconds.

const t0 = performance.now();
const { loadDataset } = await import("../lib/io/data.ts");
const { Random } = await import("../lib/random.ts");
const { Tokenizer } = await import("../lib/tokenizer.ts");
const { FastGpt } = await import("../lib/fast/gpt.ts");
const { Adam } = await import("../lib/adam.ts");
const { DEFAULT_CONFIG } = await import("../lib/model.ts");
const { docTokens } = await import("../lib/train.ts");
await import("../lib/cli/launcher.ts"); // the launcher
await import("../lib/cli/main.ts"); // the rest of what the CLI loads
const t1 = performance.now();
const { docs } = await loadDataset();
const t2 = performance.now();
const rng = new Random(42);
rng.shuffle(docs);
const t3 = performance.now();
const tokenizer = Tokenizer.fromDocs(docs);
const t4 = performance.now();
const model = FastGpt.create({ ...DEFAULT_CONFIG, vocabSize: tokenizer.vocabSize }, { rng });
const adam = new Adam(model.numParams, { numSteps: 1000 });
const t5 = performance.now();
for (let step = 0; step < 100; step++) model.trainStep(docTokens(tokenizer, docs[step]!), adam);
const t6 = performance.now();
for (let step = 100; step < 1000; step++) model.trainStep(docTokens(tokenizer, docs[step]!), adam);
const t7 = performance.now();
for (let i = 0; i < 20; i++) model.sample(tokenizer, { rng, temperature: 0.5 });
const t8 = performance.now();
console.log(JSON.stringify({
  imports: t1 - t0,
  readParse: t2 - t1,
  shuffle: t3 - t2,
  tokenizer: t4 - t3,
  init: t5 - t4,
  steps1to100: t6 - t5,
  steps101to1000: t7 - t6,
  sampling: t8 - t7,
}));
