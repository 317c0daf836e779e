// The notebook: it runs top to bottom through the real Jupyter client and Deno's kernel, the
// committed copy is what a fresh run produces, its plots carry PNGs, and rendered as GitHub
// renders it (static HTML, no scripts) the plots are pictures. Needs Jupyter, Deno's kernel,
// nbclient and Chromium: without them these tests are skipped, except in CI, where they fail.

import assert from "node:assert/strict";
import { join } from "node:path";
import { chromiumFlags, findChromium } from "@lib/notebook/png.ts";
import { decodePng, inkStats } from "./_png.ts";
import { fixture } from "../_names.ts";
import { missingOrFail, NOTEBOOK, type Notebook, ROOT, text } from "./_notebook.ts";

const missing = missingOrFail("the notebook tests");
const RUNNER = join(ROOT, "tools", "run_notebook.py");
const decoder = new TextDecoder();

const readNotebook = (path: string): Notebook => JSON.parse(Deno.readTextFileSync(path));
const committed = readNotebook(NOTEBOOK);

// One fresh execution, shared by the tests that need it.
let fresh: Promise<Notebook> | undefined;
function execute(): Promise<Notebook> {
  fresh ??= (async () => {
    const dir = await Deno.makeTempDir();
    try {
      const out = join(dir, "executed.ipynb");
      const { success, stderr } = await new Deno.Command("python3", {
        args: [RUNNER, NOTEBOOK, out],
        env: { NO_COLOR: "1" },
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.ok(success, `run_notebook.py failed:\n${decoder.decode(stderr)}`);
      return readNotebook(out);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  })();
  return fresh;
}

// The parts of the outputs that must be reproducible: text, Markdown and plotly JSON.
function comparable(nb: Notebook) {
  return nb.cells.filter((c) => c.cell_type === "code").map((c) => ({
    id: c.id,
    outputs: (c.outputs ?? []).map((o) => ({
      type: o.output_type,
      stream: o.output_type === "stream" ? `${o.name}:${text(o.text)}` : undefined,
      plain: text(o.data?.["text/plain"] as string | string[] | undefined),
      markdown: text(o.data?.["text/markdown"] as string | string[] | undefined),
      plotly: o.data?.["application/vnd.plotly.v1+json"],
    })),
  }));
}

function sampledNames(nb: Notebook): string[] {
  const cell = nb.cells.find((c) => c.id === "sample-names")!;
  const out = (cell.outputs ?? [])
    .map((o) => text(o.text ?? o.data?.["text/plain"] as string | string[] | undefined))
    .join("");
  return [...out.matchAll(/^sample +\d+: (.*)$/gm)].map((m) => m[1]!);
}

Deno.test({
  name: "notebook executes top to bottom in Deno's kernel and samples the reference's 20 names",
  ignore: missing !== null,
  fn: async () => {
    const nb = await execute();
    const errors = nb.cells.flatMap((c) =>
      (c.outputs ?? []).filter((o) => o.output_type === "error")
    );
    assert.deepEqual(errors.map((e) => `${e.ename}: ${e.evalue}`), []);
    const stderr = nb.cells.flatMap((c) => (c.outputs ?? []).filter((o) => o.name === "stderr"));
    assert.deepEqual(stderr.map((o) => text(o.text)), []);
    const golden = fixture<{ samples: string[] }>("microgpt_py_seed42.json");
    assert.deepEqual(sampledNames(nb), golden.samples);
  },
});

Deno.test({
  name: "notebook as committed equals a fresh execution (text, Markdown and plotly outputs)",
  ignore: missing !== null,
  fn: async () => {
    const nb = await execute();
    assert.deepEqual(comparable(committed), comparable(nb), "run `deno task notebook` and commit");
  },
});

Deno.test("notebook as committed: every plot has a PNG, and no output has scripts, ANSI codes or local paths", () => {
  const outputs = committed.cells.flatMap((c) => c.outputs ?? []);
  const plots = outputs.filter((o) => o.data?.["application/vnd.plotly.v1+json"]);
  assert.ok(plots.length >= 6, `${plots.length} plots`);
  for (const plot of plots) {
    assert.equal(typeof plot.data!["image/png"], "string", "a plot without its PNG");
    assert.equal(plot.data!["text/html"], undefined);
  }
  for (const o of outputs) {
    const html = text(o.data?.["text/html"] as string | undefined);
    assert.doesNotMatch(html, /<script/i);
    const all = JSON.stringify(o);
    assert.ok(!all.includes("\\u001b["), "ANSI escape code in an output"); // JSON escapes ESC
    assert.doesNotMatch(all, /\/(work|root|home|tmp|Users)\/|file:\/\//, "local path in an output");
  }
  assert.deepEqual(
    sampledNames(committed),
    fixture<{ samples: string[] }>("microgpt_py_seed42.json").samples,
  );
  const ids = committed.cells.map((c) => c.id);
  assert.equal(new Set(ids).size, ids.length);
});

Deno.test({
  name: "notebook rendered as GitHub renders it shows its plots as non-blank pictures",
  ignore: missing !== null,
  fn: async () => {
    const dir = await Deno.makeTempDir();
    try {
      const convert = await new Deno.Command("jupyter", {
        args: ["nbconvert", "--to", "html", "--output-dir", dir, "--output", "page", NOTEBOOK],
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.ok(convert.success, decoder.decode(convert.stderr));
      const page = join(dir, "page.html");
      const html = await Deno.readTextFile(page);
      const images = [...html.matchAll(/<img src="data:image\/png;base64,([^"]+)"/g)].map((m) =>
        m[1]!
      );
      const plots = committed.cells.flatMap((c) => c.outputs ?? []).filter((o) =>
        o.data?.["image/png"]
      );
      assert.equal(images.length, plots.length);
      for (const b64 of images) {
        const pixels = await decodePng(Uint8Array.from(atob(b64), (ch) => ch.charCodeAt(0)));
        const { inkFraction, colors } = inkStats(pixels);
        assert.ok(pixels.width >= 400 && pixels.height >= 300);
        assert.ok(
          inkFraction > 0.01 && colors > 20,
          `blank plot image (${inkFraction}, ${colors})`,
        );
      }
      // The page as a browser shows it: loaded (its headings in the DOM) and not blank.
      const chromium = findChromium()!;
      const flags = [
        ...chromiumFlags(join(dir, "profile")),
        "--virtual-time-budget=5000",
        "--window-size=1000,6000",
      ];
      const dom = await new Deno.Command(chromium, {
        args: [...flags, "--dump-dom", `file://${page}`],
        stdout: "piped",
        stderr: "null",
      }).output();
      const domText = decoder.decode(dom.stdout);
      for (
        const heading of [
          "microgpt, in TypeScript",
          "6. Training",
          "8. Does it generalise? Held-out evaluation",
          "9. Looking inside",
        ]
      ) {
        assert.ok(domText.includes(heading), `page lacks ${heading}`);
      }
      const shot = join(dir, "shot.png");
      const screenshot = await new Deno.Command(chromium, {
        args: [...flags, `--screenshot=${shot}`, `file://${page}`],
        stdout: "null",
        stderr: "null",
      }).output();
      assert.ok(screenshot.success);
      const { inkFraction } = inkStats(await decodePng(await Deno.readFile(shot)));
      assert.ok(inkFraction > 0.02, `blank screenshot (${inkFraction})`);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
