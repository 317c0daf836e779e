// microgpt-ts: the whole public API in one import (Deno std's convention: mod.ts only
// re-exports). Notebook cells import the files they need directly, e.g. "@lib/value.ts".
// Not here: the CLI (cli.ts, flags.ts, permissions.ts), file plumbing (files.ts) and the
// notebook's source viewer (source.ts).

export * from "./random.ts";
export * from "./value.ts";
export * from "./tokenizer.ts";
export * from "./model.ts";
export * from "./adam.ts";
export * from "./train.ts";
export * from "./sample.ts";
export * from "./fast.ts";
export * from "./engine.ts";
export * from "./eval.ts";
export * from "./data.ts";
export * from "./checkpoint.ts";
export { UserError } from "./errors.ts";
export type { FileSystem } from "./files.ts";
export * from "./figures.ts";
export * from "./png.ts";
export * from "./plot.ts";
