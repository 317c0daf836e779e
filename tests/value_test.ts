import assert from "node:assert/strict";
import { sum, Value } from "@lib/value.ts";

// Central finite difference of f at x.
function numericGrad(f: (x: number) => number, x: number, h = 1e-6): number {
  return (f(x + h) - f(x - h)) / (2 * h);
}

function assertClose(actual: number, expected: number, tol = 1e-6, what = "") {
  assert.ok(
    Math.abs(actual - expected) <= tol * Math.max(1, Math.abs(expected)),
    `${what}: ${actual} vs ${expected}`,
  );
}

const unary: [string, (v: Value) => Value, (x: number) => number, number[]][] = [
  ["log", (v) => v.log(), Math.log, [0.3, 1.7, 42]],
  ["exp", (v) => v.exp(), Math.exp, [-2, 0.1, 3]],
  ["relu", (v) => v.relu(), (x) => Math.max(0, x), [-1.5, 0.25, 3]],
  ["neg", (v) => v.neg(), (x) => -x, [-1, 2.5]],
  ["pow(3)", (v) => v.pow(3), (x) => x ** 3, [-1.2, 0.7, 2]],
  ["pow(-0.5)", (v) => v.pow(-0.5), (x) => x ** -0.5, [0.2, 1.3, 9]],
  ["pow(-1)", (v) => v.pow(-1), (x) => 1 / x, [-3, 0.5, 4]],
  ["mul(2.5)", (v) => v.mul(2.5), (x) => x * 2.5, [-1, 3]],
  ["add(4)", (v) => v.add(4), (x) => x + 4, [-1, 3]],
  ["sub(4)", (v) => v.sub(4), (x) => x - 4, [-1, 3]],
  ["div(4)", (v) => v.div(4), (x) => x / 4, [-1, 3]],
];

for (const [name, op, f, xs] of unary) {
  Deno.test(`Value.${name} matches the function and its finite-difference derivative`, () => {
    for (const x of xs) {
      const v = new Value(x);
      const y = op(v);
      y.backward();
      assertClose(y.data, f(x), 1e-12, `${name}(${x})`);
      assertClose(v.grad, numericGrad(f, x), 1e-6, `d ${name}(${x})`);
    }
  });
}

const binary: [string, (a: Value, b: Value) => Value, (a: number, b: number) => number][] = [
  ["add", (a, b) => a.add(b), (a, b) => a + b],
  ["mul", (a, b) => a.mul(b), (a, b) => a * b],
  ["sub", (a, b) => a.sub(b), (a, b) => a - b],
  ["div", (a, b) => a.div(b), (a, b) => a / b],
];

for (const [name, op, f] of binary) {
  Deno.test(`Value.${name} gives both inputs their finite-difference gradients`, () => {
    for (const [x, y] of [[1.5, -2], [-0.3, 0.7], [4, 3]] as const) {
      const a = new Value(x);
      const b = new Value(y);
      const out = op(a, b);
      out.backward();
      assertClose(out.data, f(x, y), 1e-12, name);
      assertClose(a.grad, numericGrad((t) => f(t, y), x), 1e-6, `d${name}/da`);
      assertClose(b.grad, numericGrad((t) => f(x, t), y), 1e-6, `d${name}/db`);
    }
  });
}

Deno.test("Value.relu() has gradient 0 at and below zero", () => {
  for (const x of [0, -2]) {
    const v = new Value(x);
    v.relu().backward();
    assert.equal(v.grad, 0);
  }
});

Deno.test("Value.add() accumulates gradient when an input is reused (b = a + a)", () => {
  const a = new Value(3);
  const b = a.add(a);
  b.backward();
  assert.equal(b.data, 6);
  assert.equal(a.grad, 2); // not 1: both uses of a contribute
  const c = new Value(-4);
  const d = c.mul(c).add(c); // c^2 + c: gradient 2c + 1
  d.backward();
  assert.equal(c.grad, -7);
});

Deno.test("Value.backward() on a composite expression matches finite differences", () => {
  const f = (x: number, y: number) => Math.log(Math.exp(x * y) + x ** -0.5) * Math.max(0, y - x);
  const build = (a: Value, b: Value) => a.mul(b).exp().add(a.pow(-0.5)).log().mul(b.sub(a).relu());
  const [x, y] = [0.8, 2.1];
  const a = new Value(x);
  const b = new Value(y);
  const out = build(a, b);
  out.backward();
  assertClose(out.data, f(x, y), 1e-12);
  assertClose(a.grad, numericGrad((t) => f(t, y), x), 1e-6);
  assertClose(b.grad, numericGrad((t) => f(x, t), y), 1e-6);
});

Deno.test("Value.backward() handles a 10^5-node chain without overflowing the stack", () => {
  const x = new Value(1);
  let y = x;
  for (let i = 0; i < 100_000; i++) y = y.mul(1.00001).add(0.5);
  y.backward();
  assertClose(x.grad, 1.00001 ** 100_000, 1e-9);
});

Deno.test("Value.backward() accumulates in the reference's depth-first order", () => {
  // The order of the += into a shared node decides the last bits of its gradient. For
  // y = p*0.1 + p*0.7 + p*0.3 + p, microgpt.py's build_topo sends p its contributions as
  // 1 (the last add), then 0.3, 0.7, 0.1: CPython prints p.grad == 2.1. Adding them in
  // creation order instead gives 2.0999999999999996.
  const p = new Value(1);
  const y = p.mul(0.1).add(p.mul(0.7)).add(p.mul(0.3)).add(p);
  y.backward();
  assert.equal(p.grad, 2.1);
  assert.equal(0 + 0.1 + 0.7 + 0.3 + 1, 2.0999999999999996);
});

Deno.test("sum() adds left to right starting from 0, like Python's sum()", () => {
  const xs = [0.1, 0.2, 0.3].map((x) => new Value(x));
  const total = sum(xs);
  assert.equal(total.data, 0.1 + 0.2 + 0.3);
  total.backward();
  assert.deepEqual(xs.map((x) => x.grad), [1, 1, 1]);
  assert.throws(() => sum([]), RangeError, "empty");
});

Deno.test("Value.children and localGrads describe the recorded op", () => {
  const a = new Value(2);
  const b = new Value(5);
  const y = a.mul(b);
  assert.deepEqual(y.children, [a, b]);
  assert.deepEqual(y.localGrads, [5, 2]);
  assert.deepEqual(a.children, []);
  assert.deepEqual(a.exp().localGrads, [Math.exp(2)]);
});

Deno.test("Value ops with a number record only the Value as a child", () => {
  // The reference wraps the number in a Value of its own; nothing reads that one's gradient.
  const a = new Value(3);
  const y = a.mul(2).add(1).sub(4).div(5);
  assert.equal(y.data, (3 * 2 + 1 + -4) * 5 ** -1);
  for (let v: Value | undefined = y; v; v = v.children[0]) {
    assert.ok(v.children.length <= 1);
  }
  assert.deepEqual(a.mul(2).localGrads, [2]);
});

Deno.test("Value.backward() runs again on new graphs through the same leaves", () => {
  const a = new Value(2);
  const b = new Value(5);
  a.mul(b).add(a).backward();
  a.mul(b).add(a).backward(); // without resetting: the contributions add up
  assert.deepEqual([a.grad, b.grad], [12, 4]);
  a.grad = 0;
  const z = a.exp().log(); // a new graph through the same leaf
  z.backward();
  assert.equal(a.grad, 1);
  assert.equal(b.grad, 4, "b is not in z's graph");
});
