import assert from "node:assert/strict";
import { sourceOf } from "@lib/source.ts";

Deno.test("sourceOf() returns a whole class from lib/, as displayable Markdown", () => {
  const src = sourceOf("value.ts", "Value");
  assert.ok(src.code.startsWith("export class Value {"));
  assert.ok(src.code.includes("backward(): void {"));
  assert.ok(src.code.endsWith("\n}"));
  const bundle = src.mimeBundle();
  const viaSymbol =
    (src as unknown as Record<symbol, () => unknown>)[Symbol.for("Jupyter.display")];
  assert.deepEqual(viaSymbol!.call(src), bundle);
  assert.ok(bundle["text/markdown"]!.startsWith("`lib/value.ts`\n\n```ts\nexport class Value {"));
  assert.ok(src.code.includes("/** `this + other`. d/da (a + b) = 1, d/db (a + b) = 1. */"));
  assert.ok(!src.code.includes("@param"), "multi-line JSDoc is left out");
});

Deno.test("sourceOf() names what it could not find", () => {
  assert.throws(() => sourceOf("model.ts", "nope"), RangeError, "no exported nope in lib/model.ts");
});
