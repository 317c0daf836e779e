import assert from "node:assert/strict";
import { join } from "node:path";
import { barChart, lineChart } from "@lib/figures.ts";
import { missingForPng, PngRenderer, renderPng } from "@lib/png.ts";
import { decodePng, inkStats } from "./_png.ts";
import { inTempDir } from "./_temp.ts";

const missing = missingForPng();
const haveChromium = missing === null;
if (missing && Deno.env.get("CI")) {
  throw new Error(`PNG rendering must work in CI: install ${missing}`);
}
if (missing) console.warn(`skipping the PNG tests: install ${missing}`);

Deno.test({
  name: "renderPng() draws the figure with plotly.js in headless Chromium",
  ignore: !haveChromium,
  fn: async () => {
    const png = await renderPng(barChart(["a", "b", "c"], [1, 3, 2], { width: 400, height: 300 }));
    assert.ok(png);
    const pixels = await decodePng(png);
    assert.deepEqual([pixels.width, pixels.height], [400, 300]);
    const { inkFraction, colors } = inkStats(pixels);
    assert.ok(inkFraction > 0.05 && colors > 10, `${inkFraction} ${colors}`);
  },
});

Deno.test({
  name: "PngRenderer draws figure after figure with one Chromium, then closes it",
  ignore: !haveChromium,
  fn: async () => {
    const renderer = await PngRenderer.launch();
    try {
      for (const [w, h] of [[400, 300], [500, 320], [640, 360]] as const) {
        const png = await renderer.render(
          lineChart([{ name: "a", y: [1, w, 2] }], { width: w, height: h }),
        );
        const pixels = await decodePng(png);
        assert.deepEqual([pixels.width, pixels.height], [w, h]);
        assert.ok(inkStats(pixels).inkFraction > 0.01);
      }
      assert.equal(renderer.connected, true);
    } finally {
      await renderer.close();
    }
    assert.equal(renderer.connected, false);
    await assert.rejects(renderer.render(barChart(["a"], [1])));
  },
});

Deno.test({
  name: "PngRenderer.launch() removes the profiles of renderers whose process is gone",
  ignore: !haveChromium,
  fn: inTempDir(async (tmp) => {
    // A profile left by a kernel that was shut down (no such pid), and one
    // whose process is alive (this one's parent).
    const stale = join(tmp, "microgpt-chromium-999999999-abc");
    const live = join(tmp, `microgpt-chromium-${Deno.ppid}-abc`);
    for (const dir of [stale, live]) await Deno.mkdir(join(dir, "Default"), { recursive: true });
    const before = Deno.env.get("TMPDIR");
    Deno.env.set("TMPDIR", tmp);
    try {
      const renderer = await PngRenderer.launch();
      await renderer.close();
    } finally {
      if (before === undefined) Deno.env.delete("TMPDIR");
      else Deno.env.set("TMPDIR", before);
    }
    const left = [...Deno.readDirSync(tmp)].map((e) => e.name);
    assert.deepEqual(left, [`microgpt-chromium-${Deno.ppid}-abc`]);
  }),
});

Deno.test("renderPng() returns null without Chromium", async () => {
  Deno.env.set("CHROMIUM", "/nonexistent/chromium");
  try {
    assert.equal(await renderPng(barChart(["a"], [1])), null);
  } finally {
    Deno.env.delete("CHROMIUM");
  }
});
