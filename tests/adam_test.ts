import assert from "node:assert/strict";
import { Adam } from "@lib/adam.ts";

Deno.test("Adam.step() follows the bias-corrected update with linear decay", () => {
  const p = { data: 0.5, grad: 0 };
  const adam = new Adam(1, { numSteps: 4 });
  const grads = [0.2, -0.1, 0.05, 0.3];
  let [m, v, data] = [0, 0, 0.5];
  for (let t = 0; t < grads.length; t++) {
    const g = grads[t]!;
    p.grad = g;
    assert.equal(adam.lr, 0.01 * (1 - t / 4));
    adam.step([p]);
    // written out independently of lib/adam.ts
    m = 0.85 * m + 0.15000000000000002 * g;
    v = 0.99 * v + 0.010000000000000009 * g * g;
    const mHat = m / (1 - 0.85 ** (t + 1));
    const vHat = v / (1 - 0.99 ** (t + 1));
    data -= 0.01 * (1 - t / 4) * mHat / (Math.sqrt(vHat) + 1e-8);
    assert.equal(p.data, data, `step ${t + 1}`);
    assert.equal(p.grad, 0);
  }
  assert.equal(adam.t, 4);
  assert.equal(adam.lr, 0);
});

Deno.test("Adam rejects a bad schedule and a changed parameter count", () => {
  assert.throws(() => new Adam(3, { numSteps: 0 }), RangeError, "numSteps (0)");
  const adam = new Adam(2, { numSteps: 5 });
  assert.throws(() => adam.step([{ data: 1, grad: 1 }]), /1 parameters, expected 2/);
});

Deno.test("Adam.step() keeps its moments in m and v, whichever arrays they are", () => {
  // The fast engine swaps in views of its WebAssembly memory: the update must go on in them.
  const p = { data: 1, grad: 0.5 };
  const adam = new Adam(1, { numSteps: 3 });
  adam.step([p]);
  assert.deepEqual([adam.m[0], adam.v[0]], [
    0.15000000000000002 * 0.5,
    0.010000000000000009 * 0.25,
  ]);
  const [m, v] = [Float64Array.from(adam.m), Float64Array.from(adam.v)];
  [adam.m, adam.v] = [m, v];
  p.grad = 0.25;
  adam.step([p]);
  assert.equal(m[0], 0.85 * (0.15000000000000002 * 0.5) + 0.15000000000000002 * 0.25);
  assert.equal(adam.t, 2);
});

Deno.test("Adam.restore() takes a checkpoint's moments and step, and checks their length", () => {
  const adam = new Adam(2, { numSteps: 10 });
  adam.restore({ m: [0.1, 0.2], v: [0.3, 0.4], t: 7 });
  assert.deepEqual([...adam.m, ...adam.v, adam.t], [0.1, 0.2, 0.3, 0.4, 7]);
  assert.equal(adam.lr, 0.01 * (1 - 7 / 10));
  assert.throws(
    () => adam.restore({ m: [1], v: [1], t: 1 }),
    RangeError,
    "moments for 1 parameters, expected 2",
  );
});
