// Adam: per-parameter step sizes from running averages of the gradient (first moment, m) and
// of its square (second moment, v), with bias correction for their zero start and a learning
// rate that decays linearly to zero over the training schedule.

/** Adam's hyperparameters. */
export interface AdamConfig {
  /** Step size at the start of training. */
  learningRate: number;
  /** Decay of the first-moment average. */
  beta1: number;
  /** Decay of the second-moment average. */
  beta2: number;
  /** Keeps the step finite where the second moment is ~0. */
  eps: number;
}

/** The reference's settings. */
export const DEFAULT_ADAM: AdamConfig = {
  learningRate: 0.01, // large for Adam, fine for a 4k-parameter model trained for 1000 steps
  beta1: 0.85, // shorter memory than the usual 0.9: each step sees a different name
  beta2: 0.99, // likewise shorter than the usual 0.999
  eps: 1e-8,
};

/** A parameter as Adam sees it: its value and the gradient of the loss. */
export interface Param {
  /** The value, updated in place. */
  data: number;
  /** d(loss)/d(value), zeroed after the update. */
  grad: number;
}

/**
 * Adam with linear learning-rate decay over `numSteps` steps.
 *
 * @example One step moves a parameter against its gradient by about the learning rate
 * ```ts
 * import { Adam } from "@microgpt-ts/microgpt/adam";
 * import assert from "node:assert/strict";
 *
 * const p = { data: 1, grad: 0.5 };
 * const adam = new Adam(1, { numSteps: 10 });
 * adam.step([p]);
 * assert.equal(p.data, 0.9900000002);
 * assert.equal(p.grad, 0);
 * assert.equal(adam.t, 1);
 * ```
 */
export class Adam {
  /** Hyperparameters. */
  readonly config: AdamConfig;
  /** Length of the schedule: the learning rate reaches 0 after this many steps. */
  readonly numSteps: number;
  /** Number of steps taken so far. */
  t = 0;
  #m: Float64Array; // running average of each parameter's gradient (read it as `m`)
  #v: Float64Array; // running average of its square (`v`)

  /**
   * Creates an optimiser with zeroed moments.
   *
   * @param numParams Number of parameters it will update.
   * @param options `numSteps` (the schedule) and any hyperparameters to override.
   */
  constructor(numParams: number, options: { numSteps: number } & Partial<AdamConfig>) {
    const { numSteps, ...overrides } = options;
    if (!Number.isSafeInteger(numSteps) || numSteps < 1) {
      throw new RangeError(`Cannot create Adam: numSteps (${numSteps}) must be a positive integer`);
    }
    this.config = { ...DEFAULT_ADAM, ...overrides };
    this.numSteps = numSteps;
    this.#m = new Float64Array(numParams);
    this.#v = new Float64Array(numParams);
  }

  /** First-moment buffer, one entry per parameter. */
  get m(): Float64Array {
    return this.#m;
  }

  /** Second-moment buffer, one entry per parameter. */
  get v(): Float64Array {
    return this.#v;
  }

  /**
   * Moves the moments into the given arrays, which the optimiser uses from then on. The fast
   * engine keeps them in its WebAssembly memory, next to the parameters it updates there.
   *
   * @param m The new first-moment buffer, one entry per parameter.
   * @param v The new second-moment buffer.
   */
  useMoments(m: Float64Array, v: Float64Array): void {
    this.#check(m.length);
    this.#check(v.length);
    m.set(this.#m);
    v.set(this.#v);
    this.#m = m;
    this.#v = v;
  }

  /**
   * Restores the moments and step count saved from another optimiser (a checkpoint's).
   *
   * @param state `m`, `v` (one entry per parameter) and `t`.
   */
  restore(state: { m: ArrayLike<number>; v: ArrayLike<number>; t: number }): void {
    if (state.m.length !== this.m.length || state.v.length !== this.v.length) {
      throw new RangeError(
        `Cannot restore Adam: moments for ${state.m.length} parameters, expected ${this.m.length}`,
      );
    }
    this.m.set(state.m);
    this.v.set(state.v);
    this.t = state.t;
  }

  /** The learning rate of the next step: linear decay from `learningRate` to 0. */
  get lr(): number {
    return this.config.learningRate * (1 - this.t / this.numSteps);
  }

  /**
   * Updates every parameter from its gradient, then zeroes the gradient.
   *
   * @param params The parameters, in the same order at every step.
   */
  step(params: readonly Param[]): void {
    this.#check(params.length);
    const update = this.#begin();
    for (let i = 0; i < params.length; i++) {
      const p = params[i]!;
      p.data = update(i, p.data, p.grad);
      p.grad = 0;
    }
  }

  /**
   * The same update on flat arrays of parameters and gradients (the fast engine's layout).
   *
   * @param data The parameters, updated in place.
   * @param grad Their gradients, zeroed.
   */
  stepArrays(data: Float64Array, grad: Float64Array): void {
    this.#check(data.length);
    this.#check(grad.length);
    const update = this.#begin();
    for (let i = 0; i < data.length; i++) {
      data[i] = update(i, data[i]!, grad[i]!);
      grad[i] = 0;
    }
  }

  #check(count: number): void {
    if (count !== this.m.length) {
      throw new RangeError(`Cannot take Adam step: ${count} parameters, expected ${this.m.length}`);
    }
  }

  /** Starts step t + 1: its learning rate and bias corrections (the fast engine's Adam uses it). */
  nextStep(): { lr: number; correction1: number; correction2: number } {
    const { beta1, beta2 } = this.config;
    const lr = this.lr;
    this.t += 1;
    const correction1 = 1 - beta1 ** this.t; // bias correction: m and v start at 0
    const correction2 = 1 - beta2 ** this.t;
    return { lr, correction1, correction2 };
  }

  // Starts step t + 1 and returns the update of parameter i: its new value.
  #begin(): (i: number, data: number, grad: number) => number {
    const { beta1, beta2, eps } = this.config;
    const { m, v } = this;
    const { lr: lrT, correction1, correction2 } = this.nextStep();
    return (i, data, grad) => {
      m[i] = beta1 * m[i]! + (1 - beta1) * grad;
      v[i] = beta2 * v[i]! + (1 - beta2) * grad ** 2;
      const mHat = m[i]! / correction1;
      const vHat = v[i]! / correction2;
      return data - lrT * mHat / (vHat ** 0.5 + eps);
    };
  }
}
