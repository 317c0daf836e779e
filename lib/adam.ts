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
  /** Running average of each parameter's gradient (the first moment). */
  m: Float64Array;
  /** Running average of each parameter's squared gradient (the second moment). */
  v: Float64Array;

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
    this.m = new Float64Array(numParams);
    this.v = new Float64Array(numParams);
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
    if (params.length !== this.m.length) {
      throw new RangeError(
        `Cannot take Adam step: ${params.length} parameters, expected ${this.m.length}`,
      );
    }
    const { beta1, beta2, eps } = this.config;
    const { m, v } = this;
    const lrT = this.lr;
    this.t += 1;
    const correction1 = 1 - beta1 ** this.t; // bias correction: m and v start at 0
    const correction2 = 1 - beta2 ** this.t;
    params.forEach((p, i) => {
      m[i] = beta1 * m[i]! + (1 - beta1) * p.grad;
      v[i] = beta2 * v[i]! + (1 - beta2) * p.grad ** 2;
      const mHat = m[i]! / correction1;
      const vHat = v[i]! / correction2;
      p.data -= lrT * mHat / (vHat ** 0.5 + eps);
      p.grad = 0;
    });
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
}
