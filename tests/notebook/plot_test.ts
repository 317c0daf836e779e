import assert from "node:assert/strict";
import { barChart, lineChart } from "@lib/notebook/figures.ts";
import { missingForPng } from "@lib/notebook/png.ts";
import { mimeBundle } from "@lib/notebook/plot.ts";
import { join } from "node:path";
import { evalOutput } from "./_eval.ts";

const missing = missingForPng();
const haveChromium = missing === null;
if (missing && Deno.env.get("CI")) {
  throw new Error(`PNG rendering must work in CI: install ${missing}`);
}
if (missing) console.warn(`skipping the PNG tests: install ${missing}`);

Deno.test("mimeBundle() offers plotly JSON, PNG and text, never HTML", async () => {
  const bundle = await mimeBundle(lineChart([{ name: "loss", y: [3, 2, 1] }], { title: "Loss" }));
  assert.deepEqual(Object.keys(bundle).sort(), [
    "application/vnd.plotly.v1+json",
    ...(haveChromium ? ["image/png"] : []),
    "text/plain",
  ]);
  assert.equal(bundle["text/plain"], "<plot: Loss>");
});

Deno.test("mimeBundle() omits the PNG without Chromium", async () => {
  Deno.env.set("CHROMIUM", "/nonexistent/chromium");
  try {
    const bundle = await mimeBundle(barChart(["a"], [1]));
    assert.equal(bundle["image/png"], undefined);
  } finally {
    Deno.env.delete("CHROMIUM");
  }
});

Deno.test("show() outside Jupyter prints the figure's text fallback", async () => {
  const plot = join(import.meta.dirname!, "..", "..", "lib", "notebook", "plot.ts");
  const code = `import { show } from "${plot}"; await show({ data: [], ` +
    `layout: { width: 1, height: 1, title: { text: "Loss" } } });`;
  assert.equal(await evalOutput(code, { CHROMIUM: "/nonexistent/chromium" }), "<plot: Loss>\n");
});

Deno.test("showText() outside Jupyter prints the text", async () => {
  const plot = join(import.meta.dirname!, "..", "..", "lib", "notebook", "plot.ts");
  const code =
    `import { showText } from "${plot}"; await showText("sample  1: kamon\\nsample  2: ann");`;
  assert.equal(await evalOutput(code), "sample  1: kamon\nsample  2: ann\n");
});
