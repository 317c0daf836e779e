import assert from "node:assert/strict";
import { join } from "node:path";
import { sourceOf } from "@lib/notebook/source.ts";
import { evalOutput } from "./_eval.ts";

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
  assert.ok(src.code.includes("// d/da (a + b) = 1, d/db (a + b) = 1"));
  assert.ok(!src.code.includes("@param"), "multi-line JSDoc is left out");
});

Deno.test("sourceOf() names what it could not find", () => {
  assert.throws(() => sourceOf("model.ts", "nope"), RangeError, "no exported nope in lib/model.ts");
});

Deno.test("sourceOf() with omit shows the rest of a class, marks the gaps and says what is missing", () => {
  const src = sourceOf("adam.ts", "Adam", { omit: ["constructor", "m", "v", "restore"] });
  for (const line of ["t = 0;", "get lr(): number {", "step(params", "p.data -= lrT"]) {
    assert.ok(src.code.includes(line), line);
  }
  for (const gone of ["constructor(", "m: Float64Array", "restore(", "throw"]) {
    assert.ok(!src.code.includes(gone), gone);
  }
  assert.equal(src.code.split("\n").filter((l) => l === "  // ...").length, 2);
  assert.doesNotMatch(src.code, /\n\s*\n\s*\n/, "no runs of blank lines");
  assert.equal(src.note, "left out: `m`, `v`, `constructor`, `restore`, argument checks");
  assert.ok(src.mimeBundle()["text/markdown"]!.startsWith(`\`lib/adam.ts\` (${src.note})\n`));
});

Deno.test("sourceOf() with members shows one method inside its class", () => {
  const src = sourceOf("adam.ts", "Adam", { members: ["step"] });
  assert.deepEqual(src.code.split("\n").filter((l) => !l.startsWith("    ")), [
    "export class Adam {",
    "  // ...",
    "",
    "  step(params: readonly Param[]): void {",
    "  }",
    "",
    "  // ...",
    "}",
  ]);
  assert.equal(src.note, "only `step`; left out: argument checks");
});

Deno.test("sourceOf() with range shows the lines between two markers, dedented", () => {
  const src = sourceOf("adam.ts", "Adam", {
    range: { from: "m[i] = beta1", to: "p.data -=" },
  });
  const lines = src.code.split("\n");
  assert.ok(lines[0]!.startsWith("m[i] = beta1 * m[i]! + (1 - beta1) * p.grad;"));
  assert.ok(lines.at(-1)!.startsWith("p.data -= lrT * mHat"));
  assert.equal(lines.length, 5);
  assert.throws(
    () => sourceOf("adam.ts", "Adam", { range: { from: "const correction1", to: "nowhere" } }),
    RangeError,
    `no lines from "const correction1" to "nowhere" in Adam (lib/adam.ts)`,
  );
});

Deno.test("sourceOf() leaves out argument checks unless asked to keep them", () => {
  const lean = sourceOf("model.ts", "gpt");
  assert.ok(!lean.code.includes("throw"));
  assert.ok(lean.code.includes("const posId = cache.keys[0]!.length;\n  const headDim"));
  assert.equal(lean.note, "left out: argument checks");
  const full = sourceOf("model.ts", "gpt", { checks: true });
  assert.equal((full.code.match(/throw new RangeError/g) ?? []).length, 2);
  assert.equal(full.note, "");
  assert.equal(sourceOf("model.ts", "rmsnorm").note, "", "nothing to leave out, nothing said");
});

Deno.test("sourceOf() names a member the class does not have", () => {
  assert.throws(
    () => sourceOf("adam.ts", "Adam", { omit: ["restor"] }),
    RangeError,
    "Adam in lib/adam.ts has no member restor",
  );
});

// Every exported class in lib/, split member by member: the pieces, put together, are the
// whole class (so no member's excerpt runs into the next or loses a line).
Deno.test("sourceOf() with members: the members of every lib/ class add up to the class", () => {
  const libDir = join(import.meta.dirname!, "..", "..", "lib");
  let classes = 0;
  for (const entry of Deno.readDirSync(libDir)) {
    if (!entry.isFile || !entry.name.endsWith(".ts")) continue;
    const text = Deno.readTextFileSync(join(libDir, entry.name));
    for (const [, cls] of text.matchAll(/^export class (\w+)/gm)) {
      classes++;
      const body = (code: string) =>
        code.split("\n").slice(1, -1).filter((l) => l.trim() !== "" && l !== "  // ...");
      const whole = body(sourceOf(entry.name, cls!, { checks: true }).code);
      const names = whole.map((l) =>
        l.match(/^ {2}(?:(?:static|readonly|private|get|set|async)\s+)*(#?[A-Za-z_$][\w$]*)/)
      ).filter((m) => m && !["return", "if", "for", "const", "let"].includes(m[1]!))
        .map((m) => m![1]!);
      const pieces = [...new Set(names)].flatMap((m) =>
        body(sourceOf(entry.name, cls!, { members: [m], checks: true }).code)
      );
      assert.deepEqual(pieces, whole, `${cls} in lib/${entry.name}`);
    }
  }
  assert.ok(classes >= 3, `${classes} classes`);
});

Deno.test("showSource() outside Jupyter prints the source as text", async () => {
  const source = join(import.meta.dirname!, "..", "..", "lib", "notebook", "source.ts");
  const code = `import { showSource } from "${source}"; await showSource("model.ts", "rmsnorm");`;
  assert.equal(
    await evalOutput(code),
    `${sourceOf("model.ts", "rmsnorm").mimeBundle()["text/plain"]}\n`,
  );
});
