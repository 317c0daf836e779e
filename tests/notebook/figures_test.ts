import assert from "node:assert/strict";
import {
  barChart,
  graphFigure,
  heatmaps,
  labelledScatter,
  lineChart,
  pca2,
} from "@lib/notebook/figures.ts";
import { Value } from "@lib/value.ts";

Deno.test("lineChart(), barChart() and labelledScatter() build plotly traces from the data", () => {
  const line = lineChart([{ name: "a", y: [1, 2] }, { name: "b", x: [5, 6], y: [3, 4] }], {
    title: "T",
    xTitle: "step",
  });
  assert.deepEqual(line.data.map((t) => [t.name, t.x, t.y]), [["a", [1, 2], [1, 2]], ["b", [5, 6], [
    3,
    4,
  ]]]);
  assert.deepEqual(line.layout.title, { text: "T" });
  const bar = barChart(["x", "y"], [0.25, 0.75]);
  assert.deepEqual([bar.data[0]!.type, bar.data[0]!.x, bar.data[0]!.y], ["bar", ["x", "y"], [
    0.25,
    0.75,
  ]]);
  const scatter = labelledScatter([{ label: "a", x: 1, y: 2 }]);
  assert.deepEqual(scatter.data[0]!.text, ["a"]);
});

Deno.test("heatmaps() puts each map on its own axes with one shared colour scale", () => {
  const fig = heatmaps([{ title: "h0", z: [[1]] }, { title: "h1", z: [[0.5]] }], {
    x: ["a"],
    y: ["a"],
  });
  assert.deepEqual(fig.data.map((t) => [t.xaxis, t.yaxis, t.showscale]), [["x", "y", false], [
    "x2",
    "y2",
    true,
  ]]);
  assert.ok("xaxis2" in fig.layout);
});

Deno.test("graphFigure() draws one edge per child and labels the named nodes", () => {
  const a = new Value(2);
  const b = new Value(3);
  const y = a.mul(b).add(a);
  y.backward();
  const fig = graphFigure(y, new Map([[a, "a"], [y, "y"]]));
  const [edges, nodes] = fig.data;
  assert.equal(nodes!.x!.length, 4); // a, b, a*b, y
  assert.equal(edges!.x!.filter((v) => v === null).length, 4); // a*b<-a, a*b<-b, y<-a*b, y<-a
  assert.ok(nodes!.text!.some((t) => t.startsWith("a: data 2<br>grad 4")));
});

Deno.test("pca2() finds the directions of largest variance", () => {
  // Points spread along (1, 1, 0) a lot and along (0, 0, 1) a little.
  const rows = [-2, -1, 0, 1, 2].flatMap((t) => [[t, t, 0.1], [t, t, -0.1]]);
  const coords = pca2(rows);
  const spread = (k: 0 | 1) => Math.max(...coords.map((c) => Math.abs(c[k])));
  assert.ok(Math.abs(spread(0) - 2 * Math.SQRT2) < 1e-9);
  assert.ok(Math.abs(spread(1) - 0.1) < 1e-9);
});
