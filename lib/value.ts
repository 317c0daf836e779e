// Scalar autograd: a `Value` is one number in a computation graph. Every op records which
// values it was computed from (its children) and the local derivative with respect to each
// (its local gradients); `backward()` then applies the chain rule from the loss down to every
// parameter. This is microgpt.py's Value (micrograd's, simplified). It depends on nothing.

/**
 * A scalar in a computation graph, with its gradient.
 *
 * Every op has one or two inputs, so a value keeps its children and their local gradients in
 * two pairs of fields (`child0`, `localGrad0`, `child1`, `localGrad1`) where the reference
 * keeps two tuples: two arrays more per value (four more objects) made training 3 to 5 times
 * slower. `children` and `localGrads` give them as the reference's lists.
 *
 * A number mixed into an op (`x.mul(2)`) is not made into a value, where the reference wraps it
 * in one: nothing reads its gradient, and leaving it out changes neither the values nor the
 * order in which gradients are added up in the values that are kept.
 *
 * @example d(a*b + a)/da = b + 1
 * ```ts
 * import { Value } from "@microgpt-ts/microgpt/value";
 * import assert from "node:assert/strict";
 *
 * const a = new Value(2);
 * const b = new Value(-3);
 * const ab = a.mul(b);
 * const y = ab.add(a);
 * assert.deepEqual(ab.localGrads, [-3, 2]); // d(ab)/da = b, d(ab)/db = a
 * assert.deepEqual(y.children, [ab, a]);
 * y.backward();
 * assert.equal(y.data, -4);
 * assert.equal(a.grad, -2);
 * assert.equal(b.grad, 2);
 * ```
 */
export class Value {
  /** The number computed in the forward pass. */
  data: number;
  /** d(loss)/d(this), filled in by `backward()`. */
  grad = 0;
  /** The first value this one was computed from, or null for a leaf (a parameter, an input). */
  readonly child0: Value | null;
  /** d(this)/d(child0). */
  readonly localGrad0: number;
  /** The second value this one was computed from, or null. */
  readonly child1: Value | null;
  /** d(this)/d(child1). */
  readonly localGrad1: number;
  #visited = 0; // the number of the last backward() pass that visited this value
  static #passes = 0; // backward() passes so far
  // backward()'s topological order. One array serves every pass, and the chain rule pops it
  // empty again: a new array per pass (~60,000 values in a training step) took ~10% longer.
  static #topo: Value[] = [];

  /**
   * Creates a value; with one argument, a leaf.
   *
   * @param data The number.
   * @param child0 The first value it was computed from, if any.
   * @param localGrad0 The derivative with respect to `child0`.
   * @param child1 The second value, if any.
   * @param localGrad1 The derivative with respect to `child1`.
   */
  constructor(
    data: number,
    child0: Value | null = null,
    localGrad0 = 0,
    child1: Value | null = null,
    localGrad1 = 0,
  ) {
    this.data = data;
    this.child0 = child0;
    this.localGrad0 = localGrad0;
    this.child1 = child1;
    this.localGrad1 = localGrad1;
  }

  /** The values this one was computed from, as the reference's `_children`. */
  get children(): Value[] {
    return [this.child0, this.child1].filter((child) => child !== null);
  }

  /** d(this)/d(child) for each of `children`, as the reference's `_local_grads`. */
  get localGrads(): number[] {
    return [this.localGrad0, this.localGrad1].slice(0, this.children.length);
  }

  /** `this + other`. */
  add(other: Value | number): Value {
    // d/da (a + b) = 1, d/db (a + b) = 1
    if (typeof other === "number") return new Value(this.data + other, this, 1);
    return new Value(this.data + other.data, this, 1, other, 1);
  }

  /** `this * other`. */
  mul(other: Value | number): Value {
    // d/da (a * b) = b, d/db (a * b) = a
    if (typeof other === "number") return new Value(this.data * other, this, other);
    return new Value(this.data * other.data, this, other.data, other, this.data);
  }

  /** `this ** k`, for a number `k`. */
  pow(k: number): Value {
    return new Value(this.data ** k, this, k * this.data ** (k - 1)); // d/dx x^k = k x^(k-1)
  }

  /** The natural logarithm. */
  log(): Value {
    return new Value(Math.log(this.data), this, 1 / this.data); // d/dx log(x) = 1/x
  }

  /** e to the power of this. */
  exp(): Value {
    const e = Math.exp(this.data);
    return new Value(e, this, e); // d/dx e^x = e^x
  }

  /** max(0, this). */
  relu(): Value {
    // d/dx relu(x) = 1 where x > 0, else 0
    return new Value(this.data > 0 ? this.data : 0, this, this.data > 0 ? 1 : 0);
  }

  /** `-this`, as this * -1. */
  neg(): Value {
    return this.mul(-1);
  }

  /** `this - other`, as this + (-other). */
  sub(other: Value | number): Value {
    return this.add(typeof other === "number" ? -other : other.neg());
  }

  /** `this / other`, as this * other**-1. */
  div(other: Value | number): Value {
    return this.mul(typeof other === "number" ? other ** -1 : other.pow(-1));
  }

  /**
   * Fills in `grad` for every value this one depends on, by the chain rule in reverse
   * topological order. Gradients accumulate (`+=`), so a value used twice gets both
   * contributions; reset `grad` to 0 before the next backward pass.
   */
  backward(): void {
    const topo = Value.#buildTopo(this);
    // The chain rule, from this value back to the leaves (topo from its end):
    // d(loss)/d(child) += d(v)/d(child) * d(loss)/d(v)
    this.grad = 1;
    for (let v = topo.pop(); v !== undefined; v = topo.pop()) {
      if (v.child0 !== null) v.child0.grad += v.localGrad0 * v.grad;
      if (v.child1 !== null) v.child1.grad += v.localGrad1 * v.grad;
    }
  }

  // The reference's build_topo: the values `root` depends on and `root` itself, depth first,
  // children in order, each value after its children. With a stack of our own instead of
  // recursion, so that a long chain cannot overflow the call stack.
  static #buildTopo(root: Value): Value[] {
    const pass = ++Value.#passes;
    const isNew = (v: Value | null): v is Value => v !== null && v.#visited !== pass;
    const topo = Value.#topo;
    const stack: Value[] = []; // the values on the way from root down to v
    let v = root;
    root.#visited = pass;
    for (;;) {
      const child = isNew(v.child0) ? v.child0 : isNew(v.child1) ? v.child1 : null;
      if (child !== null) {
        child.#visited = pass; // visit the child next, and come back to v after it
        stack.push(v);
        v = child;
      } else {
        topo.push(v); // all of v's children are in topo: v goes after them
        const parent = stack.pop();
        if (parent === undefined) return topo;
        v = parent;
      }
    }
  }
}

/**
 * Adds values like Python's built-in `sum()`: it starts from the number 0, so the first step
 * is `values[0] + 0`, then adds the rest left to right.
 *
 * @param values The values to add (at least one).
 * @returns Their sum, as a node of the graph.
 *
 * @example
 * ```ts
 * import { sum, Value } from "@microgpt-ts/microgpt/value";
 * import assert from "node:assert/strict";
 *
 * const total = sum([new Value(0.1), new Value(0.2), new Value(0.3)]);
 * assert.equal(total.data, 0.6000000000000001);
 * ```
 */
export function sum(values: readonly Value[]): Value {
  const [first] = values;
  if (first === undefined) throw new RangeError("Cannot sum values: the list is empty");
  let total = first.add(0); // Python's 0 + first, which Value's __radd__ turns into first + 0
  for (let i = 1; i < values.length; i++) total = total.add(values[i]!);
  return total;
}
