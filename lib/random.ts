// A Python-compatible random number generator: the Mersenne Twister (MT19937) seeded and drawn
// exactly as CPython's `random` module does it, so a seed gives the reference's numbers.
// Every other file gets its randomness from a `Random` passed in as `{ rng }`.

const N = 624;
const M = 397;
const MATRIX_A = 0x9908b0df;
const UPPER_MASK = 0x80000000;
const LOWER_MASK = 0x7fffffff;
const TWO_PI = 2 * Math.PI;

/** The full state of a {@linkcode Random}, as plain data (it survives JSON). */
export interface RandomState {
  /** The 624 words of the Mersenne Twister state. */
  mt: number[];
  /** Index of the next word to temper, 0..624. */
  index: number;
  /** The second normal deviate that `gauss()` keeps for its next call. */
  gaussNext: number | null;
}

/**
 * CPython's `random.Random`: MT19937 with Python's seeding, `random()`, `getrandbits()`,
 * `shuffle()`, `gauss()` and `choices()`.
 *
 * @example Same seed, same numbers as `random.seed(42); random.random()` in CPython
 * ```ts
 * import { Random } from "@microgpt-ts/microgpt/random";
 * import assert from "node:assert/strict";
 *
 * const rng = new Random(42);
 * assert.equal(rng.random(), 0.6394267984578837);
 * assert.equal(rng.random(), 0.025010755222666936);
 * ```
 */
export class Random {
  #mt = new Uint32Array(N);
  #index = N + 1;
  #gaussNext: number | null = null;

  /**
   * Creates a generator seeded like `random.Random(seed)`.
   *
   * @param seed A non-negative or negative integer (Python uses its absolute value).
   */
  constructor(seed: number | bigint = 0) {
    this.seed(seed);
  }

  /**
   * Reseeds like `random.seed(n)` for an integer `n`: the absolute value, split into 32-bit
   * words (least significant first), goes through MT19937's `init_by_array`.
   *
   * @param seed An integer (a safe-integer `number` or any `bigint`).
   */
  seed(seed: number | bigint): void {
    if (typeof seed === "number" && !Number.isSafeInteger(seed)) {
      throw new RangeError(`Cannot seed random: seed (${seed}) must be a safe integer`);
    }
    let n = BigInt(seed);
    if (n < 0n) n = -n;
    const key: number[] = [];
    while (n > 0n) {
      key.push(Number(n & 0xffffffffn));
      n >>= 32n;
    }
    if (key.length === 0) key.push(0);
    this.#initByArray(key);
    this.#gaussNext = null;
  }

  #initGenrand(s: number): void {
    const mt = this.#mt;
    mt[0] = s >>> 0;
    for (let i = 1; i < N; i++) {
      const prev = mt[i - 1]!;
      mt[i] = (Math.imul(1812433253, prev ^ (prev >>> 30)) + i) >>> 0;
    }
    this.#index = N;
  }

  #initByArray(key: readonly number[]): void {
    const mt = this.#mt;
    this.#initGenrand(19650218);
    let i = 1;
    let j = 0;
    for (let k = Math.max(N, key.length); k > 0; k--) {
      const prev = mt[i - 1]!;
      mt[i] = ((mt[i]! ^ Math.imul(prev ^ (prev >>> 30), 1664525)) + key[j]! + j) >>> 0;
      i++;
      j++;
      if (i >= N) {
        mt[0] = mt[N - 1]!;
        i = 1;
      }
      if (j >= key.length) j = 0;
    }
    for (let k = N - 1; k > 0; k--) {
      const prev = mt[i - 1]!;
      mt[i] = ((mt[i]! ^ Math.imul(prev ^ (prev >>> 30), 1566083941)) - i) >>> 0;
      i++;
      if (i >= N) {
        mt[0] = mt[N - 1]!;
        i = 1;
      }
    }
    mt[0] = 0x80000000;
  }

  // One tempered 32-bit output of MT19937 (genrand_uint32 in CPython's _randommodule.c).
  #next32(): number {
    const mt = this.#mt;
    if (this.#index >= N) {
      let kk = 0;
      for (; kk < N - M; kk++) {
        const y = (mt[kk]! & UPPER_MASK) | (mt[kk + 1]! & LOWER_MASK);
        mt[kk] = mt[kk + M]! ^ (y >>> 1) ^ (y & 1 ? MATRIX_A : 0);
      }
      for (; kk < N - 1; kk++) {
        const y = (mt[kk]! & UPPER_MASK) | (mt[kk + 1]! & LOWER_MASK);
        mt[kk] = mt[kk + (M - N)]! ^ (y >>> 1) ^ (y & 1 ? MATRIX_A : 0);
      }
      const y = (mt[N - 1]! & UPPER_MASK) | (mt[0]! & LOWER_MASK);
      mt[N - 1] = mt[M - 1]! ^ (y >>> 1) ^ (y & 1 ? MATRIX_A : 0);
      this.#index = 0;
    }
    let y = mt[this.#index++]!;
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }

  /**
   * A float in [0, 1) with 53 random bits, like `random.random()`.
   *
   * @returns The next uniform deviate.
   */
  random(): number {
    const a = this.#next32() >>> 5; // 27 bits
    const b = this.#next32() >>> 6; // 26 bits
    return (a * 67108864 + b) / 9007199254740992;
  }

  /**
   * An integer with `k` random bits, like `random.getrandbits(k)`; words are drawn least
   * significant first, as CPython does.
   *
   * @param k Number of bits, 0 to 53 (so the result is a safe integer).
   * @returns An integer in [0, 2**k).
   */
  getrandbits(k: number): number {
    if (!Number.isInteger(k) || k < 0 || k > 53) {
      throw new RangeError(`Cannot draw random bits: k (${k}) must be an integer from 0 to 53`);
    }
    if (k === 0) return 0;
    if (k <= 32) return this.#next32() >>> (32 - k);
    const low = this.#next32();
    const high = this.#next32() >>> (64 - k);
    return high * 4294967296 + low;
  }

  // CPython's _randbelow_with_getrandbits: rejection sampling on bit_length(n) bits, that is
  // getrandbits(k) for 1 <= n < 2**32 (k <= 32: one word, its top k bits), written out here
  // because shuffle() calls it for every item, mostly before the JIT has compiled anything.
  #randbelow(n: number): number {
    const shift = Math.clz32(n); // 32 - k
    let r = this.#next32() >>> shift;
    while (r >= n) r = this.#next32() >>> shift;
    return r;
  }

  /**
   * Shuffles `items` in place, like `random.shuffle(items)` (Fisher-Yates from the end).
   *
   * @param items The array to shuffle (at most 2**32 - 1 items).
   */
  shuffle<T>(items: T[]): void {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.#randbelow(i + 1);
      const tmp = items[i]!;
      items[i] = items[j]!;
      items[j] = tmp;
    }
  }

  /**
   * A normal deviate, like `random.gauss(mu, sigma)`: Box-Muller, which makes two deviates
   * at a time and keeps the second for the next call.
   *
   * @param mu The mean.
   * @param sigma The standard deviation.
   * @returns `mu + z * sigma` for a standard normal `z`.
   */
  gauss(mu = 0, sigma = 1): number {
    let z = this.#gaussNext;
    this.#gaussNext = null;
    if (z === null) {
      const x2pi = this.random() * TWO_PI;
      const g2rad = Math.sqrt(-2.0 * Math.log(1.0 - this.random()));
      z = Math.cos(x2pi) * g2rad;
      this.#gaussNext = Math.sin(x2pi) * g2rad;
    }
    return mu + z * sigma;
  }

  /**
   * Picks `k` items with replacement, each with probability proportional to its weight, like
   * `random.choices(population, weights=weights, k=k)`: one `random()` per pick, bisected
   * into the running sums of the weights.
   *
   * @param population The items to pick from.
   * @param options `weights` (same length as `population`, finite, summing above 0) and `k`.
   * @returns The `k` picks.
   */
  choices<T>(
    population: readonly T[],
    options: { weights: readonly number[]; k?: number },
  ): T[] {
    const { weights, k = 1 } = options;
    const n = population.length;
    if (weights.length !== n) {
      throw new RangeError(
        `Cannot choose: ${weights.length} weights for a population of ${n}`,
      );
    }
    const cum = new Float64Array(n);
    let acc = 0;
    for (let i = 0; i < n; i++) {
      acc = i === 0 ? weights[0]! : acc + weights[i]!;
      cum[i] = acc;
    }
    const total = n > 0 ? cum[n - 1]! + 0.0 : 0;
    if (!(total > 0)) throw new RangeError("Cannot choose: total of weights must be above zero");
    if (!Number.isFinite(total)) {
      throw new RangeError("Cannot choose: total of weights is not finite");
    }
    const picks: T[] = [];
    for (let p = 0; p < k; p++) {
      const x = this.random() * total;
      // bisect_right(cum, x, 0, n - 1)
      let lo = 0;
      let hi = n - 1;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (x < cum[mid]!) hi = mid;
        else lo = mid + 1;
      }
      picks.push(population[lo]!);
    }
    return picks;
  }

  /**
   * A copy of the generator's state, for checkpoints.
   *
   * @returns The state as plain data.
   */
  getState(): RandomState {
    return { mt: Array.from(this.#mt), index: this.#index, gaussNext: this.#gaussNext };
  }

  /**
   * Restores a state taken with {@linkcode Random.getState}.
   *
   * @param state The state to restore.
   */
  setState(state: RandomState): void {
    const { mt, index, gaussNext } = state;
    if (
      !Array.isArray(mt) || mt.length !== N ||
      !mt.every((w) => Number.isInteger(w) && w >= 0 && w <= 0xffffffff)
    ) {
      throw new TypeError(`Cannot restore random state: mt must be ${N} unsigned 32-bit words`);
    }
    if (!Number.isInteger(index) || index < 0 || index > N) {
      throw new RangeError(`Cannot restore random state: index (${index}) must be 0 to ${N}`);
    }
    if (gaussNext !== null && typeof gaussNext !== "number") {
      throw new TypeError("Cannot restore random state: gaussNext must be a number or null");
    }
    this.#mt.set(mt);
    this.#index = index;
    this.#gaussNext = gaussNext;
  }
}
