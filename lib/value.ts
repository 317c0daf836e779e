// Scalar autograd: a `Value` is one number in a computation graph. Every op records which
// values it was computed from (its children) and the local derivative with respect to each;
// `backward()` then applies the chain rule from the loss down to every parameter.
// This file depends on nothing.

/**
 * A scalar in a computation graph, with its gradient.
 *
 * Every op has at most two inputs, so a node keeps them in two fields (`a`, `b`) with their
 * local gradients (`da`, `db`) rather than in arrays: one allocation per node instead of
 * three, which is most of what makes this engine fast. `children` and `localGrads` give the
 * same information as arrays.
 *
 * Constants mixed into an op (`x.mul(2)`) are not made into nodes: they have no gradient
 * anyone reads, and leaving them out changes neither the values nor the order in which
 * gradients are accumulated.
 *
 * @example d(a*b + a)/da = b + 1
 * ```ts
 * import { Value } from "@microgpt-ts/microgpt/value";
 * import assert from "node:assert/strict";
 *
 * const a = new Value(2);
 * const b = new Value(-3);
 * const y = a.mul(b).add(a);
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
  /** First input, or null for a leaf. */
  readonly a: Value | null;
  /** Second input, or null. */
  readonly b: Value | null;
  /** d(this)/d(a). */
  readonly da: number;
  /** d(this)/d(b). */
  readonly db: number;
  // During backward(): the node finished before this one in the topological order, or PENDING
  // while its inputs are being visited; null outside backward() (that is, not yet visited).
  // PENDING and DONE, the chain's end, are two marker nodes declared after the class.
  #prev: Value | null = null;

  /**
   * Creates a node; with one argument, a leaf (a parameter or an input).
   *
   * @param data The value.
   * @param a The first input it was computed from, if any.
   * @param da The derivative with respect to `a`.
   * @param b The second input, if any.
   * @param db The derivative with respect to `b`.
   */
  constructor(data: number, a: Value | null = null, da = 0, b: Value | null = null, db = 0) {
    this.data = data;
    this.a = a;
    this.da = da;
    this.b = b;
    this.db = db;
  }

  /** The values this one was computed from. */
  get children(): Value[] {
    return this.b ? [this.a!, this.b] : this.a ? [this.a] : [];
  }

  /** d(this)/d(child) for each child, in the same order. */
  get localGrads(): number[] {
    return this.b ? [this.da, this.db] : this.a ? [this.da] : [];
  }

  /** `this + other`. d/da (a + b) = 1, d/db (a + b) = 1. */
  add(other: Value | number): Value {
    if (typeof other === "number") return new Value(this.data + other, this, 1);
    return new Value(this.data + other.data, this, 1, other, 1);
  }

  /** `this * other`. d/da (a * b) = b, d/db (a * b) = a. */
  mul(other: Value | number): Value {
    if (typeof other === "number") return new Value(this.data * other, this, other);
    return new Value(this.data * other.data, this, other.data, other, this.data);
  }

  /** `this ** k` for a constant `k`. d/dx x^k = k * x^(k-1). */
  pow(k: number): Value {
    return new Value(this.data ** k, this, k * this.data ** (k - 1));
  }

  /** Natural logarithm. d/dx log(x) = 1/x. */
  log(): Value {
    return new Value(Math.log(this.data), this, 1 / this.data);
  }

  /** e to the power of this. d/dx exp(x) = exp(x). */
  exp(): Value {
    const e = Math.exp(this.data);
    return new Value(e, this, e);
  }

  /** max(0, this). d/dx relu(x) = 1 where x > 0, else 0. */
  relu(): Value {
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
   * topological order (depth-first from this value, children in order, as the reference
   * does). Gradients accumulate (`+=`), so a value used twice gets both contributions; reset
   * `grad` to 0 before the next backward pass.
   */
  backward(): void {
    this.grad = 1;
    // Walk the topological order backwards, unlinking as we go: every node is unvisited (null)
    // again for the next backward(), and parameters, which outlive the step, hold no link into
    // this step's graph.
    for (let v = Value.#topo(this); v !== DONE;) {
      const { a, b, grad } = v;
      if (a !== null) a.grad += v.da * grad;
      if (b !== null) b.grad += v.db * grad;
      const prev: Value = v.#prev!;
      v.#prev = null;
      v = prev;
    }
  }

  // Post-order depth-first search with an explicit stack, so a 10^5-deep chain cannot
  // overflow the call stack. It visits children in the same order as the reference's
  // recursive build_topo: a node is finished once both inputs are visited. `v` is the node
  // being visited and the stack holds the nodes on the path down to it, each waiting for an
  // input. The order is kept as a chain through `#prev` (each node links to the one finished
  // before it, the first to DONE) rather than in an array; the returned node, the root, was
  // finished last.
  static #topo(root: Value): Value {
    const stack: Value[] = [];
    let last = DONE;
    let v = root;
    root.#prev = PENDING;
    for (;;) {
      const { a, b } = v;
      if (a !== null && a.#prev === null) {
        a.#prev = PENDING;
        stack.push(v);
        v = a;
      } else if (b !== null && b.#prev === null) {
        b.#prev = PENDING;
        stack.push(v);
        v = b;
      } else {
        v.#prev = last;
        last = v;
        if (stack.length === 0) return last;
        v = stack.pop()!;
      }
    }
  }
}

// Markers for #prev during a topological sort: visited, not finished; and the end of the chain.
const PENDING = new Value(0);
const DONE = new Value(0);

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
  if (values.length === 0) throw new RangeError("Cannot sum values: the list is empty");
  let total = values[0]!.add(0);
  for (let i = 1; i < values.length; i++) total = total.add(values[i]!);
  return total;
}
