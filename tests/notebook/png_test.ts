import assert from "node:assert/strict";
import { join } from "node:path";
import { barChart, lineChart } from "@lib/notebook/figures.ts";
import { missingForPng, PngRenderer, renderPng } from "@lib/notebook/png.ts";
import { decodePng, inkStats } from "./_png.ts";
import { inTempDir } from "../_temp.ts";

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
    // A profile left by a process that has exited (a kernel that was shut down), and one whose
    // process is still running.
    const exited = new Deno.Command("true").spawn();
    await exited.status;
    const running = new Deno.Command("sleep", { args: ["60"] }).spawn();
    try {
      const stale = `microgpt-chromium-${exited.pid}-abc`;
      const live = `microgpt-chromium-${running.pid}-abc`;
      for (const dir of [stale, live]) {
        await Deno.mkdir(join(tmp, dir, "Default"), { recursive: true });
      }
      const names = () => [...Deno.readDirSync(tmp)].map((e) => e.name).sort();
      const renderer = await PngRenderer.launch({ tempDir: tmp });
      // While open: the running process's profile and the renderer's own.
      assert.deepEqual(names().filter((n) => !n.includes(`-${Deno.pid}-`)), [live]);
      assert.equal(names().length, 2);
      await renderer.close();
      assert.deepEqual(names(), [live]);
    } finally {
      running.kill();
      await running.status;
    }
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
