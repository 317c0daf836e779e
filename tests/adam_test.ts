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

Deno.test("Adam.useMoments() copies the moments to the new arrays and keeps them", () => {
  const p = { data: 1, grad: 0.5 };
  const adam = new Adam(1, { numSteps: 3 });
  adam.step([p]);
  const [m, v] = [new Float64Array(1), new Float64Array(1)];
  const before = [adam.m[0], adam.v[0]];
  adam.useMoments(m, v);
  assert.deepEqual([m[0], v[0]], before);
  p.grad = 0.25;
  adam.step([p]);
  assert.equal(adam.m, m);
  assert.equal(m[0], 0.85 * before[0]! + 0.15000000000000002 * 0.25);
  assert.throws(() => adam.useMoments(new Float64Array(2), v), /2 parameters, expected 1/);
});

Deno.test("Adam.nextStep() starts a step: its learning rate and bias corrections", () => {
  const adam = new Adam(1, { numSteps: 4 });
  assert.deepEqual(adam.nextStep(), { lr: 0.01, correction1: 1 - 0.85, correction2: 1 - 0.99 });
  assert.deepEqual(adam.nextStep(), {
    lr: 0.01 * (1 - 1 / 4),
    correction1: 1 - 0.85 ** 2,
    correction2: 1 - 0.99 ** 2,
  });
  assert.equal(adam.t, 2);
});
