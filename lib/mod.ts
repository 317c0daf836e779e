// microgpt-ts: the lesson (random, value, tokenizer, model, adam, train, sample), both engines
// behind one interface, held-out evaluation, the count-model baselines (ngram), and I/O
// (dataset, checkpoints). Only re-exports.
// Notebook display lives under "./notebook"; the command line is not published.

export * from "./random.ts";
export * from "./value.ts";
export * from "./tokenizer.ts";
export * from "./model.ts";
export * from "./adam.ts";
export * from "./train.ts";
export * from "./sample.ts";
export * from "./engine.ts";
export * from "./eval.ts";
export * from "./fast/mod.ts";
export * from "./io/mod.ts";
export * from "./ngram.ts";
