// The fast engine: the same GPT as lib/model.ts with flat arrays, a hand-written backward pass
// and Adam, in WebAssembly. Train and sample with it through the Engine interface
// (lib/engine.ts) or directly.

export * from "./gpt.ts";
