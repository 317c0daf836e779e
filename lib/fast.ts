// The fast engine: the same GPT, the same initialisation, data order, Adam and sampling as the
// Value engine, but with every parameter, gradient and activation in flat Float64Arrays and a
// backward pass written out by hand, layer by layer. No graph of objects is built, so a step
// costs a few hundred thousand multiply-adds and nothing else. The forward pass performs the
// Value engine's floating-point operations in the same order, so the two agree to the last
// bits (the backward pass sums some gradients in another order: ~1e-16 relative).

import type { Adam } from "./adam.ts";
import { countParams, type GptConfig, paramShapes, validateConfig } from "./model.ts";
import type { Random } from "./random.ts";
import { promptIds } from "./sample.ts";
import type { Tokenizer } from "./tokenizer.ts";

/** Where a weight matrix lives in the flat parameter array. */
export interface MatrixSlot {
  /** Index of its first entry. */
  offset: number;
  /** Number of rows. */
  rows: number;
  /** Number of columns (entries per row). */
  cols: number;
}

interface LayerSlots {
  wq: MatrixSlot;
  wk: MatrixSlot;
  wv: MatrixSlot;
  wo: MatrixSlot;
  fc1: MatrixSlot;
  fc2: MatrixSlot;
}

// Activations of one layer for every position of a sequence, kept for the backward pass.
interface LayerActs {
  xIn: Float64Array; // [T][E] residual stream entering the layer
  zAttn: Float64Array; // [T] mean square + eps of the rmsnorm before attention
  xnAttn: Float64Array; // [T][E]
  q: Float64Array; // [T][E]
  k: Float64Array; // [T][E]
  v: Float64Array; // [T][E]
  att: Float64Array; // [H][T][T] attention weights (row t: weights over s <= t)
  attE: Float64Array; // [H][T][T] their exps
  attTotal: Float64Array; // [H][T] sum of the exps
  xAttn: Float64Array; // [T][E] concatenated head outputs
  xMid: Float64Array; // [T][E] residual stream after attention
  zMlp: Float64Array; // [T]
  xnMlp: Float64Array; // [T][E]
  h: Float64Array; // [T][4E] before ReLU
  hr: Float64Array; // [T][4E] after ReLU
}

const RMS_EPS = 1e-5;

/**
 * A GPT with flat parameters and a hand-written backward pass.
 *
 * @example Trains on a tiny dataset like the Value engine does
 * ```ts
 * import { Adam } from "@microgpt-ts/microgpt/adam";
 * import { FastGpt } from "@microgpt-ts/microgpt/fast";
 * import { DEFAULT_CONFIG } from "@microgpt-ts/microgpt/model";
 * import { Random } from "@microgpt-ts/microgpt/random";
 * import assert from "node:assert/strict";
 *
 * const model = FastGpt.create({ ...DEFAULT_CONFIG, vocabSize: 3 }, { rng: new Random(1) });
 * assert.equal(model.numParams, 3424); // 4192 less 24 rows of wte and lm_head
 * const adam = new Adam(model.numParams, { numSteps: 10 });
 * const first = model.trainStep([2, 0, 1, 2], adam);
 * for (let i = 0; i < 8; i++) model.trainStep([2, 0, 1, 2], adam);
 * assert.ok(model.trainStep([2, 0, 1, 2], adam) < first);
 * ```
 */
export class FastGpt {
  /** The model shape. */
  readonly config: GptConfig;
  /** Every parameter, in the Value engine's order (state dict order, row by row). */
  readonly params: Float64Array;
  /** d(loss)/d(parameter), filled in by {@linkcode FastGpt.backward}. */
  readonly grads: Float64Array;
  /** Where each named matrix sits in `params`. */
  readonly slots: Record<string, MatrixSlot>;

  #wte: MatrixSlot;
  #wpe: MatrixSlot;
  #lmHead: MatrixSlot;
  #layers: LayerSlots[];
  #headDim: number;
  #attnScale: number;
  #invE: number;
  // per-sequence buffers, sized for blockSize positions
  #n = 0;
  #tokens: Int32Array;
  #targets: Int32Array;
  #emb: Float64Array; // [T][E] wte + wpe
  #z0: Float64Array; // [T] first rmsnorm's mean square + eps
  #acts: LayerActs[];
  #xOut: Float64Array; // [T][E] stream leaving the last layer
  #probE: Float64Array; // [T][V] exps of the logits (less their max)
  #probTotal: Float64Array; // [T] their sum
  #losses: Float64Array; // [T] -log p(target) of each position
  // backward scratch
  #dx: Float64Array; // [T][E]
  #dxn: Float64Array; // [T][E]
  #dq: Float64Array;
  #dk: Float64Array;
  #dv: Float64Array;
  #dh: Float64Array; // [4E] MLP hidden gradient of one position
  #dLogits: Float64Array; // [V] logit gradients of one position
  #dAttnOut: Float64Array; // [T][E]
  #dw: Float64Array; // [T] attention weight gradients of one row

  /**
   * Creates a model from parameters (for example a checkpoint's or a Value model's).
   *
   * @param config The model shape.
   * @param params Initial parameters (copied), in state-dict order.
   */
  constructor(config: GptConfig, params: Float64Array) {
    validateConfig(config);
    this.config = { ...config };
    const slots: Record<string, MatrixSlot> = {};
    let offset = 0;
    for (const [name, rows, cols] of paramShapes(config)) {
      slots[name] = { offset, rows, cols };
      offset += rows * cols;
    }
    if (params.length !== offset) {
      throw new RangeError(
        `Cannot build fast model: ${params.length} parameters given, the config needs ${offset}`,
      );
    }
    this.slots = slots;
    this.params = Float64Array.from(params);
    this.grads = new Float64Array(offset);
    this.#wte = slots.wte!;
    this.#wpe = slots.wpe!;
    this.#lmHead = slots.lm_head!;
    this.#layers = Array.from({ length: config.nLayer }, (_, i) => ({
      wq: slots[`layer${i}.attn_wq`]!,
      wk: slots[`layer${i}.attn_wk`]!,
      wv: slots[`layer${i}.attn_wv`]!,
      wo: slots[`layer${i}.attn_wo`]!,
      fc1: slots[`layer${i}.mlp_fc1`]!,
      fc2: slots[`layer${i}.mlp_fc2`]!,
    }));
    const { nEmbd: E, nHead: H, blockSize: T, vocabSize: V } = config;
    this.#headDim = E / H;
    // The Value engine divides by headDim ** 0.5, i.e. multiplies by (headDim ** 0.5) ** -1.
    this.#attnScale = (this.#headDim ** 0.5) ** -1;
    this.#invE = E ** -1;
    const f = (n: number) => new Float64Array(n);
    this.#tokens = new Int32Array(T);
    this.#targets = new Int32Array(T);
    this.#emb = f(T * E);
    this.#z0 = f(T);
    this.#acts = Array.from({ length: config.nLayer }, () => ({
      xIn: f(T * E),
      zAttn: f(T),
      xnAttn: f(T * E),
      q: f(T * E),
      k: f(T * E),
      v: f(T * E),
      att: f(H * T * T),
      attE: f(H * T * T),
      attTotal: f(H * T),
      xAttn: f(T * E),
      xMid: f(T * E),
      zMlp: f(T),
      xnMlp: f(T * E),
      h: f(T * 4 * E),
      hr: f(T * 4 * E),
    }));
    this.#xOut = f(T * E);
    this.#probE = f(T * V);
    this.#probTotal = f(T);
    this.#losses = f(T);
    this.#dx = f(T * E);
    this.#dxn = f(T * E);
    this.#dq = f(T * E);
    this.#dk = f(T * E);
    this.#dv = f(T * E);
    this.#dh = f(4 * E);
    this.#dLogits = f(V);
    this.#dAttnOut = f(T * E);
    this.#dw = f(T);
  }

  /**
   * Creates a model initialised exactly like {@linkcode createGpt}: N(0, initStd) draws in
   * state-dict order, so the same seed gives the same weights.
   *
   * @param config The model shape.
   * @param options `rng`, the random number generator to draw the weights from.
   * @returns The model.
   */
  static create(config: GptConfig, options: { rng: Random }): FastGpt {
    validateConfig(config);
    const count = countParams(config);
    const params = new Float64Array(count);
    for (let i = 0; i < count; i++) params[i] = options.rng.gauss(0, config.initStd);
    return new FastGpt(config, params);
  }

  /** Number of parameters. */
  get numParams(): number {
    return this.params.length;
  }

  // y[r] = sum_c W[r][c] * x[c], summed as Python's sum() does: (w0*x0 + 0) + w1*x1 + ...
  // Four rows at a time: four independent sums the processor can overlap, each still added up
  // in exactly that order, so every result has the same bits.
  #linear(
    slot: MatrixSlot,
    x: Float64Array,
    xOff: number,
    y: Float64Array,
    yOff: number,
  ): void {
    const p = this.params;
    const { offset, rows, cols } = slot;
    const x0 = x[xOff]!;
    let r = 0;
    for (; r + 4 <= rows; r += 4) {
      const w0 = offset + r * cols;
      const w1 = w0 + cols;
      const w2 = w1 + cols;
      const w3 = w2 + cols;
      let a0 = p[w0]! * x0 + 0;
      let a1 = p[w1]! * x0 + 0;
      let a2 = p[w2]! * x0 + 0;
      let a3 = p[w3]! * x0 + 0;
      for (let c = 1; c < cols; c++) {
        const xc = x[xOff + c]!;
        a0 += p[w0 + c]! * xc;
        a1 += p[w1 + c]! * xc;
        a2 += p[w2 + c]! * xc;
        a3 += p[w3 + c]! * xc;
      }
      y[yOff + r] = a0;
      y[yOff + r + 1] = a1;
      y[yOff + r + 2] = a2;
      y[yOff + r + 3] = a3;
    }
    for (; r < rows; r++) {
      const w = offset + r * cols;
      let acc = p[w]! * x0 + 0;
      for (let c = 1; c < cols; c++) acc += p[w + c]! * x[xOff + c]!;
      y[yOff + r] = acc;
    }
  }

  // dx[c] += sum_r W[r][c] * dy[r];  dW[r][c] += x[c] * dy[r]
  #linearBackward(
    slot: MatrixSlot,
    x: Float64Array,
    xOff: number,
    dy: Float64Array,
    dyOff: number,
    dx: Float64Array,
    dxOff: number,
  ): void {
    const p = this.params;
    const g = this.grads;
    const { offset, rows, cols } = slot;
    for (let r = 0; r < rows; r++) {
      const d = dy[dyOff + r]!;
      if (d === 0) continue;
      const w = offset + r * cols;
      for (let c = 0; c < cols; c++) {
        g[w + c]! += x[xOff + c]! * d;
        dx[dxOff + c]! += p[w + c]! * d;
      }
    }
  }

  // y = x * z ** -0.5 with z = mean(x^2) + eps; stores z in zs[t] for the backward pass
  #rmsnorm(x: Float64Array, y: Float64Array, t: number, zs: Float64Array): void {
    const n = this.config.nEmbd;
    const o = t * n;
    let ss = x[o]! * x[o]! + 0;
    for (let i = 1; i < n; i++) ss += x[o + i]! * x[o + i]!;
    const z = ss * this.#invE + RMS_EPS;
    zs[t] = z;
    const scale = z ** -0.5;
    for (let i = 0; i < n; i++) y[o + i] = x[o + i]! * scale;
  }

  // dx += d(rmsnorm)/dx . dy, for position t of x (dy at dyOff, dx at dxOff)
  #rmsnormBackward(
    x: Float64Array,
    t: number,
    z: number,
    dy: Float64Array,
    dyOff: number,
    dx: Float64Array,
    dxOff: number,
  ): void {
    const n = this.config.nEmbd;
    const o = t * n;
    const scale = z ** -0.5;
    let dScale = 0;
    for (let i = 0; i < n; i++) dScale += x[o + i]! * dy[dyOff + i]!;
    // d/dz z^-0.5 = -0.5 z^-1.5 ; d(z)/d(sum x^2) = 1/n ; d(x_i * x_i)/dx_i = 2 x_i
    const dSum = this.#invE * (-0.5 * z ** -1.5 * dScale);
    for (let i = 0; i < n; i++) {
      dx[dxOff + i]! += scale * dy[dyOff + i]! + 2 * x[o + i]! * dSum;
    }
  }

  /**
   * Runs the model over a sequence, keeping what the backward pass needs.
   *
   * @param tokens The sequence (BOS, characters, BOS); at most the first `blockSize`
   *   predictions are made, as in the Value engine.
   * @returns The mean cross-entropy loss.
   */
  forward(tokens: ArrayLike<number>): number {
    const losses = this.positionLosses(tokens);
    let lossSum = losses[0]! + 0; // Python's sum() starts from 0
    for (let t = 1; t < losses.length; t++) lossSum += losses[t]!;
    return lossSum * (1 / losses.length);
  }

  /**
   * Runs the model over a sequence (as {@linkcode FastGpt.forward} does) and returns the loss of
   * each position, -log p(next token): what held-out evaluation adds up.
   *
   * @param tokens The sequence (BOS, characters, BOS).
   * @returns `min(blockSize, tokens.length - 1)` losses, valid until the next call.
   */
  positionLosses(tokens: ArrayLike<number>): Float64Array {
    const { vocabSize: V, blockSize } = this.config;
    const n = Math.min(blockSize, tokens.length - 1);
    if (n < 1) throw new RangeError("Cannot compute loss: a sequence needs at least 2 tokens");
    this.#n = n;
    for (let t = 0; t <= n; t++) {
      const id = tokens[t]!;
      if (!Number.isInteger(id) || id < 0 || id >= V) {
        throw new RangeError(`Cannot run model: token ${id} is outside 0..${V - 1}`);
      }
      if (t < n) this.#tokens[t] = id;
      if (t > 0) this.#targets[t - 1] = id;
    }
    const losses = this.#losses;
    for (let t = 0; t < n; t++) {
      this.#position(t, this.#tokens[t]!);
      this.#head(t);
      losses[t] = this.lossAt(t, this.#targets[t]!);
    }
    return losses.subarray(0, n);
  }

  /**
   * Runs one position: token `tokenId` at position `t`, attending over positions 0..t-1 as the
   * latest calls left them, through to the next-token probabilities. A sequence run a position
   * at a time gives the same numbers as {@linkcode FastGpt.positionLosses}, and sequences that
   * share a prefix can share its positions (held-out evaluation walks a trie of documents so).
   *
   * @param t The position, 0 <= t < blockSize.
   * @param tokenId The token at it.
   */
  runPosition(t: number, tokenId: number): void {
    const { blockSize, vocabSize: V } = this.config;
    if (!Number.isInteger(t) || t < 0 || t >= blockSize) {
      throw new RangeError(`Cannot run model: position ${t} is outside 0..${blockSize - 1}`);
    }
    if (!Number.isInteger(tokenId) || tokenId < 0 || tokenId >= V) {
      throw new RangeError(`Cannot run model: token ${tokenId} is outside 0..${V - 1}`);
    }
    this.#position(t, tokenId);
    this.#head(t);
  }

  /**
   * The loss -log p(target) at position `t` of the latest run.
   *
   * @param t The position.
   * @param target The next token.
   * @returns The loss.
   */
  lossAt(t: number, target: number): number {
    const prob = this.#probE[t * this.config.vocabSize + target]! * this.#probTotal[t]! ** -1;
    return Math.log(prob) * -1;
  }

  // Token tokenId at position t, through every layer (earlier positions are in the buffers).
  #position(t: number, tokenId: number): void {
    const E = this.config.nEmbd;
    const p = this.params;
    const te = this.#wte.offset + tokenId * E;
    const pe = this.#wpe.offset + t * E;
    const emb = this.#emb;
    for (let i = 0; i < E; i++) emb[t * E + i] = p[te + i]! + p[pe + i]!;
    this.#rmsnorm(emb, this.#acts[0]!.xIn, t, this.#z0);
    for (let l = 0; l < this.#acts.length; l++) this.#layerForward(l, t);
  }

  #layerForward(l: number, t: number): void {
    const { nEmbd: E, nHead: H, blockSize: T } = this.config;
    const hd = this.#headDim;
    const a = this.#acts[l]!;
    const slots = this.#layers[l]!;
    const o = t * E;
    this.#rmsnorm(a.xIn, a.xnAttn, t, a.zAttn);
    this.#linear(slots.wq, a.xnAttn, o, a.q, o);
    this.#linear(slots.wk, a.xnAttn, o, a.k, o);
    this.#linear(slots.wv, a.xnAttn, o, a.v, o);
    for (let h = 0; h < H; h++) {
      const hs = h * hd;
      const row = (h * T + t) * T;
      let max = -Infinity;
      for (let s = 0; s <= t; s++) {
        let dot = a.q[o + hs]! * a.k[s * E + hs]! + 0;
        for (let j = 1; j < hd; j++) dot += a.q[o + hs + j]! * a.k[s * E + hs + j]!;
        const logit = dot * this.#attnScale;
        a.att[row + s] = logit;
        if (logit > max) max = logit;
      }
      let total = 0;
      for (let s = 0; s <= t; s++) {
        const e = Math.exp(a.att[row + s]! + -max);
        a.attE[row + s] = e;
        total = s === 0 ? e + 0 : total + e;
      }
      a.attTotal[h * T + t] = total;
      const r = total ** -1;
      for (let s = 0; s <= t; s++) a.att[row + s] = a.attE[row + s]! * r;
      for (let j = 0; j < hd; j++) {
        let acc = a.att[row]! * a.v[hs + j]! + 0;
        for (let s = 1; s <= t; s++) acc += a.att[row + s]! * a.v[s * E + hs + j]!;
        a.xAttn[o + hs + j] = acc;
      }
    }
    this.#linear(slots.wo, a.xAttn, o, a.xMid, o);
    for (let i = 0; i < E; i++) a.xMid[o + i] = a.xMid[o + i]! + a.xIn[o + i]!;
    this.#rmsnorm(a.xMid, a.xnMlp, t, a.zMlp);
    const F = 4 * E;
    this.#linear(slots.fc1, a.xnMlp, o, a.h, t * F);
    for (let i = 0; i < F; i++) {
      const z = a.h[t * F + i]!;
      a.hr[t * F + i] = z > 0 ? z : 0;
    }
    const next = l + 1 < this.#acts.length ? this.#acts[l + 1]!.xIn : this.#xOut;
    this.#linear(slots.fc2, a.hr, t * F, next, o);
    for (let i = 0; i < E; i++) next[o + i] = next[o + i]! + a.xMid[o + i]!;
  }

  // lm_head and softmax at position t: the exps of the logits (less their max) and their sum
  #head(t: number): void {
    const { nEmbd: E, vocabSize: V } = this.config;
    const pe = this.#probE;
    this.#linear(this.#lmHead, this.#xOut, t * E, pe, t * V);
    let max = -Infinity;
    for (let i = 0; i < V; i++) if (pe[t * V + i]! > max) max = pe[t * V + i]!;
    let total = 0;
    for (let i = 0; i < V; i++) {
      const e = Math.exp(pe[t * V + i]! + -max);
      pe[t * V + i] = e;
      total = i === 0 ? e + 0 : total + e;
    }
    this.#probTotal[t] = total;
  }

  /**
   * Fills {@linkcode FastGpt.grads} (adding to what is there) with the gradient of the loss of
   * the last {@linkcode FastGpt.forward}.
   */
  backward(): void {
    const { nEmbd: E, vocabSize: V, nLayer } = this.config;
    const n = this.#n;
    const g = this.grads;
    const dx = this.#dx;
    dx.fill(0, 0, n * E);
    // Loss = (sum_t -log p_t) * (1/n): each position's log-probability gets -(1/n).
    const dLogp = -1 * (1 / n);
    const pe = this.#probE;
    const dLogits = this.#dLogits;
    for (let t = 0; t < n; t++) {
      const total = this.#probTotal[t]!;
      const r = total ** -1;
      const tgt = this.#targets[t]!;
      const eT = pe[t * V + tgt]!;
      const prob = eT * r;
      const dProb = (1 / prob) * dLogp;
      // p = e_tgt * r, r = total^-1, total = sum e_i, e_i = exp(z_i)
      const dTotal = -1 * total ** -2 * (eT * dProb);
      for (let i = 0; i < V; i++) {
        const de = (i === tgt ? r * dProb : 0) + dTotal;
        dLogits[i] = pe[t * V + i]! * de;
      }
      this.#linearBackward(this.#lmHead, this.#xOut, t * E, dLogits, 0, dx, t * E);
    }
    for (let l = nLayer - 1; l >= 0; l--) this.#layerBackward(l);
    // first rmsnorm and the embeddings
    const dxn = this.#dxn;
    dxn.fill(0, 0, n * E);
    for (let t = 0; t < n; t++) {
      this.#rmsnormBackward(this.#emb, t, this.#z0[t]!, dx, t * E, dxn, t * E);
      const te = this.#wte.offset + this.#tokens[t]! * E;
      const pe2 = this.#wpe.offset + t * E;
      for (let i = 0; i < E; i++) {
        g[te + i]! += dxn[t * E + i]!;
        g[pe2 + i]! += dxn[t * E + i]!;
      }
    }
  }

  // On entry #dx holds d(loss)/d(stream leaving layer l); on exit, entering it.
  #layerBackward(l: number): void {
    const { nEmbd: E, nHead: H, blockSize: T } = this.config;
    const F = 4 * E;
    const n = this.#n;
    const hd = this.#headDim;
    const a = this.#acts[l]!;
    const slots = this.#layers[l]!;
    const dx = this.#dx;
    const dxn = this.#dxn;
    const dh = this.#dh;
    // MLP: x_out = fc2(relu(fc1(rmsnorm(x_mid)))) + x_mid
    for (let t = 0; t < n; t++) {
      const o = t * E;
      dh.fill(0, 0, F);
      this.#linearBackward(slots.fc2, a.hr, t * F, dx, o, dh, 0);
      for (let i = 0; i < F; i++) if (!(a.h[t * F + i]! > 0)) dh[i] = 0;
      dxn.fill(0, 0, E); // d(rmsnorm output) of position t
      this.#linearBackward(slots.fc1, a.xnMlp, o, dh, 0, dxn, 0);
      // residual: dx (for x_mid) keeps its value and gains the norm's contribution
      this.#rmsnormBackward(a.xMid, t, a.zMlp[t]!, dxn, 0, dx, o);
    }
    // Attention: x_mid = wo(attn(...)) + x_in
    const dAttn = this.#dAttnOut;
    dAttn.fill(0, 0, n * E);
    for (let t = 0; t < n; t++) {
      this.#linearBackward(slots.wo, a.xAttn, t * E, dx, t * E, dAttn, t * E);
    }
    const dq = this.#dq;
    const dk = this.#dk;
    const dv = this.#dv;
    dq.fill(0, 0, n * E);
    dk.fill(0, 0, n * E);
    dv.fill(0, 0, n * E);
    const dw = this.#dw;
    for (let t = 0; t < n; t++) {
      for (let h = 0; h < H; h++) {
        const hs = h * hd;
        const row = (h * T + t) * T;
        // head_out[j] = sum_s w_s v_s[j]
        for (let s = 0; s <= t; s++) {
          let acc = 0;
          for (let j = 0; j < hd; j++) {
            const d = dAttn[t * E + hs + j]!;
            acc += a.v[s * E + hs + j]! * d;
            dv[s * E + hs + j]! += a.att[row + s]! * d;
          }
          dw[s] = acc;
        }
        // w_s = e_s * r, r = total^-1, total = sum_s e_s, e_s = exp(logit_s - max)
        const total = a.attTotal[h * T + t]!;
        const r = total ** -1;
        const dPow = -1 * total ** -2;
        let dTotal = 0;
        for (let s = 0; s <= t; s++) dTotal += dPow * (a.attE[row + s]! * dw[s]!);
        for (let s = 0; s <= t; s++) {
          const dLogit = a.attE[row + s]! * (r * dw[s]! + dTotal);
          const dDot = this.#attnScale * dLogit;
          for (let j = 0; j < hd; j++) {
            dq[t * E + hs + j]! += a.k[s * E + hs + j]! * dDot;
            dk[s * E + hs + j]! += a.q[t * E + hs + j]! * dDot;
          }
        }
      }
    }
    // q, k, v = W * rmsnorm(x_in); the residual carries dx through unchanged
    for (let t = 0; t < n; t++) {
      const o = t * E;
      dxn.fill(0, 0, E);
      this.#linearBackward(slots.wq, a.xnAttn, o, dq, o, dxn, 0);
      this.#linearBackward(slots.wk, a.xnAttn, o, dk, o, dxn, 0);
      this.#linearBackward(slots.wv, a.xnAttn, o, dv, o, dxn, 0);
      this.#rmsnormBackward(a.xIn, t, a.zAttn[t]!, dxn, 0, dx, o);
    }
  }

  /**
   * One training step: forward, backward, Adam update (gradients are zeroed by Adam).
   *
   * @param tokens The sequence (BOS, characters, BOS).
   * @param adam The optimiser, created for `numParams` parameters.
   * @returns The loss before the update.
   */
  trainStep(tokens: ArrayLike<number>, adam: Adam): number {
    const loss = this.forward(tokens);
    this.backward();
    adam.stepArrays(this.params, this.grads);
    return loss;
  }

  /**
   * Generates one document, drawing exactly as the Value engine's `sample()` does.
   *
   * @param tokenizer The tokenizer.
   * @param options `rng`, `temperature` (> 0) and an optional `prefix`.
   * @returns The generated text (the prefix included).
   */
  sample(
    tokenizer: Tokenizer,
    options: { rng: Random; temperature: number; prefix?: string },
  ): string {
    const { rng, temperature } = options;
    const { blockSize, vocabSize: V, nEmbd: E } = this.config;
    const prefixIds = promptIds(tokenizer, { ...options, blockSize });
    const ids = Array.from({ length: V }, (_, i) => i);
    const invT = temperature ** -1;
    const logits = new Float64Array(V);
    const weights = new Array<number>(V);
    const out = [...prefixIds];
    let tokenId = tokenizer.BOS;
    for (let t = 0; t < blockSize; t++) {
      this.#position(t, tokenId); // earlier positions' keys and values are in the buffers
      if (t < prefixIds.length) {
        tokenId = prefixIds[t]!;
        continue;
      }
      this.#linear(this.#lmHead, this.#xOut, t * E, logits, 0);
      let max = -Infinity;
      for (let i = 0; i < V; i++) {
        logits[i] = logits[i]! * invT;
        if (logits[i]! > max) max = logits[i]!;
      }
      let total = 0;
      for (let i = 0; i < V; i++) {
        logits[i] = Math.exp(logits[i]! + -max);
        total = i === 0 ? logits[i]! + 0 : total + logits[i]!;
      }
      const r = total ** -1;
      for (let i = 0; i < V; i++) weights[i] = logits[i]! * r;
      tokenId = rng.choices(ids, { weights })[0]!;
      if (tokenId === tokenizer.BOS) break;
      out.push(tokenId);
    }
    return tokenizer.decode(out);
  }
}
