// The fast engine's arithmetic, in AssemblyScript (TypeScript syntax compiled to WebAssembly;
// `deno task wasm` rebuilds lib/fast/_kernels_wasm.ts from this file). lib/fast/gpt.ts keeps the
// model's API, its checks and sampling; everything it does per multiply-add is here.
//
// Why WebAssembly: its float operations are exact IEEE operations, as JavaScript's are, but it
// has no bounds checks and it has SIMD: an f64x2 value holds two doubles and one instruction
// adds, multiplies, divides or takes the square root of both. Each lane is its own sum, so a lane
// per output (two rows of a matrix, two columns of a gradient) keeps every dot product's terms in
// the order the Value engine adds them, and the forward pass stays bit-identical to it.
//
// exp, log and pow come from JavaScript (Math.exp, Math.log, Math.pow), so they are V8's own
// functions and round exactly as the Value engine's do. sqrt is WebAssembly's: V8's `x ** 0.5`
// is sqrt(x) for every x >= 0, and `x ** 2` is x * x. `x ** -1` is not 1 / x in V8, so it stays
// a pow call.
//
// Memory: init() lays out every buffer once, one region per kind; a layer's buffers sit at
// region + layer * stride. All addresses are in bytes.

@external("env", "exp")
declare function exp(x: f64): f64;
@external("env", "log")
declare function log(x: f64): f64;
@external("env", "pow")
declare function pow(x: f64, y: f64): f64;

const RMS_EPS: f64 = 1e-5;

// The shape: embedding width, heads, block size, vocabulary, layers, MLP width, head width.
let E: i32 = 0;
let H: i32 = 0;
let T: i32 = 0;
let V: i32 = 0;
let L: i32 = 0;
let F: i32 = 0;
let HD: i32 = 0;
let attnScale: f64 = 0; // (HD ** 0.5) ** -1, computed by the caller as the Value engine does
let invE: f64 = 0; // E ** -1

// Parameters, their gradients (same layout, GRAD bytes further on) and Adam's moments.
let params: usize = 0;
let grads: usize = 0;
let mom1: usize = 0;
let mom2: usize = 0;
let GRAD: usize = 0;
let TRANSPOSED: usize = 0; // where a matrix's transposed copy is, relative to the matrix
let useTransposed = false; // set by run(): linear() reads the copies made at its start
let count: i32 = 0;
let wte: usize = 0;
let wpe: usize = 0;
let lmHead: usize = 0;
let layer0: usize = 0; // attn_wq of layer 0; layer l's weights start LAYER bytes per layer on
let LAYER: usize = 0;

// One sequence: tokens and targets (i32), then per position the embedding, the first norm's
// z = mean square + eps and scale = z ** -0.5, the stream leaving the last layer, the exps of
// the logits (less their max), their sum, and the loss.
let tokens: usize = 0;
let targets: usize = 0;
let emb: usize = 0;
let z0: usize = 0;
let s0: usize = 0;
let xOut: usize = 0;
let probE: usize = 0;
let probTotal: usize = 0;
let losses: usize = 0;
let logits: usize = 0;

// Per layer, kept for the backward pass ([T][E] unless noted).
let xIn: usize = 0; // the residual stream entering the layer
let zAttn: usize = 0; // [T]
let sAttn: usize = 0; // [T]
let xnAttn: usize = 0;
let q: usize = 0;
let k: usize = 0;
let v: usize = 0;
let att: usize = 0; // [H][T][T] attention weights (row t: the weights over s <= t)
let attE: usize = 0; // [H][T][T] their exps
let attTotal: usize = 0; // [H][T] the sum of the exps
let attR: usize = 0; // [H][T] that sum ** -1
let xAttn: usize = 0; // the heads' outputs side by side
let xMid: usize = 0; // the stream after attention
let zMlp: usize = 0; // [T]
let sMlp: usize = 0; // [T]
let xnMlp: usize = 0;
let hPre: usize = 0; // [T][F] before ReLU
let hAct: usize = 0; // [T][F] after ReLU
let TE: usize = 0; // bytes of a [T][E] buffer: the stride between layers
let TT: usize = 0; // bytes of [H][T][T]
let HT: usize = 0; // bytes of [H][T]
let T1: usize = 0; // bytes of [T]
let TF: usize = 0; // bytes of [T][F]

// Backward scratch.
let dx: usize = 0; // [T][E]
let dxn: usize = 0; // [T][E]
let dq: usize = 0;
let dk: usize = 0;
let dv: usize = 0;
let dAttn: usize = 0;
let dh: usize = 0; // [T][F]
let dLogits: usize = 0; // [T][V]
let dw: usize = 0; // [T]

let n: i32 = 0; // positions of the latest sequence

// @ts-ignore: decorator
@inline function at(base: usize, i: i32): usize {
  return base + (<usize>i << 3);
}
// @ts-ignore: decorator
@inline function get(base: usize, i: i32): f64 {
  return load<f64>(base + (<usize>i << 3));
}
// @ts-ignore: decorator
@inline function set(base: usize, i: i32, x: f64): void {
  store<f64>(base + (<usize>i << 3), x);
}

// Layer l's weight matrices, in state-dict order: attn_wq, attn_wk, attn_wv, attn_wo (E x E
// each), mlp_fc1 (F x E), mlp_fc2 (E x F).
const WQ = 0;
const WK = 1;
const WV = 2;
const WO = 3;
const FC1 = 4;
const FC2 = 5;
// @ts-ignore: decorator
@inline function matrix(l: i32, which: i32): usize {
  const w = layer0 + <usize>l * LAYER;
  return which <= FC1 ? at(w, which * E * E) : at(w, 4 * E * E + F * E);
}

// Bytes laid out so far. A double, so that init() can refuse a shape that does not fit in
// WebAssembly's 4 GiB before any address wraps around.
let top: f64 = 0;
function alloc(doubles: f64): usize {
  const start = top;
  top = Math.ceil((top + doubles * 8) / 16) * 16;
  return top <= 4294967296 ? <usize>start : 0;
}

/**
 * Lays out the buffers of one model shape and grows the memory to hold them. Call once.
 * Returns false, changing nothing in memory, if they need more than 4 GiB.
 */
export function init(
  nEmbd: i32,
  nHead: i32,
  blockSize: i32,
  vocabSize: i32,
  nLayer: i32,
  scale: f64,
  inverseE: f64,
): bool {
  E = nEmbd;
  H = nHead;
  T = blockSize;
  V = vocabSize;
  L = nLayer;
  F = 4 * nEmbd;
  HD = nEmbd / nHead;
  attnScale = scale;
  invE = inverseE;
  top = <f64>((__heap_base + 15) & ~(<usize>15));
  // sizes in doubles, as f64: no product can overflow
  const e: f64 = E;
  const h: f64 = H;
  const b: f64 = T;
  const vocab: f64 = V;
  const layers: f64 = L;
  const f: f64 = F;
  const perLayer = 4 * e * e + 2 * f * e;
  const all = 2 * vocab * e + b * e + layers * perLayer;
  params = alloc(all);
  grads = alloc(all);
  mom1 = alloc(all);
  mom2 = alloc(all);
  const transposed = alloc(all);
  GRAD = grads - params;
  TRANSPOSED = transposed - params;
  wte = params;
  wpe = at(wte, V * E); // (offsets inside 4 GiB once the check below passes)
  lmHead = at(wpe, T * E);
  layer0 = at(lmHead, V * E);
  LAYER = <usize>(perLayer * 8);
  tokens = alloc(b); // i32s take half of what is reserved
  targets = alloc(b);
  emb = alloc(b * e);
  z0 = alloc(b);
  s0 = alloc(b);
  xOut = alloc(b * e);
  probE = alloc(b * vocab);
  probTotal = alloc(b);
  losses = alloc(b);
  logits = alloc(vocab);
  xIn = alloc(layers * b * e);
  zAttn = alloc(layers * b);
  sAttn = alloc(layers * b);
  xnAttn = alloc(layers * b * e);
  q = alloc(layers * b * e);
  k = alloc(layers * b * e);
  v = alloc(layers * b * e);
  att = alloc(layers * h * b * b);
  attE = alloc(layers * h * b * b);
  attTotal = alloc(layers * h * b);
  attR = alloc(layers * h * b);
  xAttn = alloc(layers * b * e);
  xMid = alloc(layers * b * e);
  zMlp = alloc(layers * b);
  sMlp = alloc(layers * b);
  xnMlp = alloc(layers * b * e);
  hPre = alloc(layers * b * f);
  hAct = alloc(layers * b * f);
  dx = alloc(b * e);
  dxn = alloc(b * e);
  dq = alloc(b * e);
  dk = alloc(b * e);
  dv = alloc(b * e);
  dAttn = alloc(b * e);
  dh = alloc(b * f);
  dLogits = alloc(b * vocab);
  dw = alloc(b);
  if (top > 4294967296) return false;
  count = <i32>all;
  TE = <usize>(T * E) << 3;
  TT = <usize>(H * T * T) << 3;
  HT = <usize>(H * T) << 3;
  T1 = <usize>T << 3;
  TF = <usize>(T * F) << 3;
  const pages = <i32>Math.ceil(top / 65536) - memory.size();
  return pages <= 0 || memory.grow(pages) >= 0;
}

// Where JavaScript finds the buffers it reads and writes.
export function paramsAt(): usize {
  return params;
}
export function gradsAt(): usize {
  return grads;
}
export function moment1At(): usize {
  return mom1;
}
export function moment2At(): usize {
  return mom2;
}
export function tokensAt(): usize {
  return tokens;
}
export function targetsAt(): usize {
  return targets;
}
export function probEAt(): usize {
  return probE;
}
export function probTotalAt(): usize {
  return probTotal;
}
export function lossesAt(): usize {
  return losses;
}
export function logitsAt(): usize {
  return logits;
}

// Two doubles from two addresses, as one f64x2.
// @ts-ignore: decorator
@inline function pair(a: usize, b: usize): v128 {
  return v128.load64_lane(b, v128.load64_zero(a), 1);
}

// y[r] = sum_c W[r][c] * x[c], summed as Python's sum() does: (W[r][0] * x[0] + 0) + ...
// Lanes hold rows: eight rows at a time are four f64x2 sums the processor overlaps. run() reads
// the rows side by side from a transposed copy of W; a single position (sampling, evaluation)
// reads them where they are. Both add the same terms in the same order.
function linear(w: usize, rows: i32, cols: i32, x: usize, y: usize): void {
  if (useTransposed) linearFromColumns(w + TRANSPOSED, rows, cols, x, y);
  else linearFromRows(w, rows, cols, x, y);
}

// Writes W^T ([cols][rows]) where linearFromColumns() reads it, a 2x2 block at a time.
function transpose(w: usize, rows: i32, cols: i32): void {
  const rowBytes = <usize>cols << 3;
  const colBytes = <usize>rows << 3;
  const pairs = rowBytes & ~(<usize>15);
  let r = 0;
  for (; r + 2 <= rows; r += 2) {
    const a = w + <usize>r * rowBytes;
    const b = a + rowBytes;
    let out = w + (<usize>r << 3) + TRANSPOSED;
    let c: usize = 0;
    for (; c < pairs; c += 16) {
      const x = v128.load(a + c);
      const y = v128.load(b + c);
      v128.store(out, v128.shuffle<f64>(x, y, 0, 2)); // W[r][c], W[r + 1][c]
      v128.store(out + colBytes, v128.shuffle<f64>(x, y, 1, 3));
      out += 2 * colBytes;
    }
    if (c < rowBytes) v128.store(out, pair(a + c, b + c));
  }
  if (r < rows) {
    const a = w + <usize>r * rowBytes;
    const out = w + (<usize>r << 3) + TRANSPOSED;
    for (let c = 0; c < cols; c++) set(out, c * rows, get(a, c));
  }
}

// linear() with W^T: rows r and r + 1 of column c are next to each other.
function linearFromColumns(wt: usize, rows: i32, cols: i32, x: usize, y: usize): void {
  const colBytes = <usize>rows << 3;
  const end = <usize>cols << 3;
  const zero = f64x2.splat(0);
  const x0 = f64x2.splat(load<f64>(x));
  let r = 0;
  for (; r + 8 <= rows; r += 8) {
    let wc = wt + (<usize>r << 3);
    let a0 = f64x2.add(f64x2.mul(v128.load(wc), x0), zero);
    let a1 = f64x2.add(f64x2.mul(v128.load(wc + 16), x0), zero);
    let a2 = f64x2.add(f64x2.mul(v128.load(wc + 32), x0), zero);
    let a3 = f64x2.add(f64x2.mul(v128.load(wc + 48), x0), zero);
    for (let c: usize = 8; c < end; c += 8) {
      wc += colBytes;
      const xc = f64x2.splat(load<f64>(x + c));
      a0 = f64x2.add(a0, f64x2.mul(v128.load(wc), xc));
      a1 = f64x2.add(a1, f64x2.mul(v128.load(wc + 16), xc));
      a2 = f64x2.add(a2, f64x2.mul(v128.load(wc + 32), xc));
      a3 = f64x2.add(a3, f64x2.mul(v128.load(wc + 48), xc));
    }
    v128.store(at(y, r), a0);
    v128.store(at(y, r + 2), a1);
    v128.store(at(y, r + 4), a2);
    v128.store(at(y, r + 6), a3);
  }
  for (; r + 2 <= rows; r += 2) {
    let wc = wt + (<usize>r << 3);
    let a = f64x2.add(f64x2.mul(v128.load(wc), x0), zero);
    for (let c: usize = 8; c < end; c += 8) {
      wc += colBytes;
      a = f64x2.add(a, f64x2.mul(v128.load(wc), f64x2.splat(load<f64>(x + c))));
    }
    v128.store(at(y, r), a);
  }
  if (r < rows) {
    let wc = wt + (<usize>r << 3);
    let a = load<f64>(wc) * load<f64>(x) + 0;
    for (let c: usize = 8; c < end; c += 8) {
      wc += colBytes;
      a += load<f64>(wc) * load<f64>(x + c);
    }
    set(y, r, a);
  }
}

function linearFromRows(w: usize, rows: i32, cols: i32, x: usize, y: usize): void {
  const rowBytes = <usize>cols << 3;
  const zero = f64x2.splat(0);
  const x0 = f64x2.splat(load<f64>(x));
  let r = 0;
  for (; r + 8 <= rows; r += 8) {
    const w0 = w + <usize>r * rowBytes;
    const w2 = w0 + 2 * rowBytes;
    const w4 = w2 + 2 * rowBytes;
    const w6 = w4 + 2 * rowBytes;
    let a0 = f64x2.add(f64x2.mul(pair(w0, w0 + rowBytes), x0), zero);
    let a1 = f64x2.add(f64x2.mul(pair(w2, w2 + rowBytes), x0), zero);
    let a2 = f64x2.add(f64x2.mul(pair(w4, w4 + rowBytes), x0), zero);
    let a3 = f64x2.add(f64x2.mul(pair(w6, w6 + rowBytes), x0), zero);
    for (let c: usize = 8; c < rowBytes; c += 8) {
      const xc = f64x2.splat(load<f64>(x + c));
      a0 = f64x2.add(a0, f64x2.mul(pair(w0 + c, w0 + rowBytes + c), xc));
      a1 = f64x2.add(a1, f64x2.mul(pair(w2 + c, w2 + rowBytes + c), xc));
      a2 = f64x2.add(a2, f64x2.mul(pair(w4 + c, w4 + rowBytes + c), xc));
      a3 = f64x2.add(a3, f64x2.mul(pair(w6 + c, w6 + rowBytes + c), xc));
    }
    v128.store(at(y, r), a0);
    v128.store(at(y, r + 2), a1);
    v128.store(at(y, r + 4), a2);
    v128.store(at(y, r + 6), a3);
  }
  for (; r + 2 <= rows; r += 2) {
    const w0 = w + <usize>r * rowBytes;
    let a = f64x2.add(f64x2.mul(pair(w0, w0 + rowBytes), x0), zero);
    for (let c: usize = 8; c < rowBytes; c += 8) {
      a = f64x2.add(a, f64x2.mul(pair(w0 + c, w0 + rowBytes + c), f64x2.splat(load<f64>(x + c))));
    }
    v128.store(at(y, r), a);
  }
  if (r < rows) {
    const w0 = w + <usize>r * rowBytes;
    let a = load<f64>(w0) * load<f64>(x) + 0;
    for (let c: usize = 8; c < rowBytes; c += 8) a += load<f64>(w0 + c) * load<f64>(x + c);
    set(y, r, a);
  }
}

// The backward pass of y = W x at each of the n positions of a sequence: x[t] is row t of xs
// ([n][cols]), dy[t] row t of dys ([n][rows]), and d(loss)/d(x[t]) is added to row t of dxs.
// Lanes hold columns, and each sum stays in registers while it takes its terms in the order
// the per-position loop adds them:
//   dW[r][c] += x[0][c] * dy[0][r], then x[1][c] * dy[1][r], ... (positions in order)
//   dx[t][c] += W[0][c] * dy[t][0], then W[1][c] * dy[t][1], ... (rows in order)
// Two rows of dW (two positions of dx) share each load of x (of W): eight independent sums
// that the processor overlaps.
function linearBackward(w: usize, rows: i32, cols: i32, xs: usize, dys: usize, dxs: usize): void {
  const rowBytes = <usize>cols << 3;
  const dyBytes = <usize>rows << 3;
  const end = dys + <usize>n * dyBytes;
  let r = 0;
  for (; r + 2 <= rows; r += 2) {
    const g = w + <usize>r * rowBytes + GRAD;
    weightGradients(g, g + rowBytes, rowBytes, xs, dys + (<usize>r << 3), dyBytes, end, true);
  }
  if (r < rows) {
    const g = w + <usize>r * rowBytes + GRAD;
    weightGradients(g, g, rowBytes, xs, dys + (<usize>r << 3), dyBytes, end, false);
  }
  const wEnd = w + <usize>rows * rowBytes;
  let t = 0;
  for (; t + 2 <= n; t += 2) {
    const dy = dys + <usize>t * dyBytes;
    const dx = dxs + <usize>t * rowBytes;
    inputGradients(dx, dx + rowBytes, rowBytes, w, wEnd, dy, dy + dyBytes, true);
  }
  if (t < n) {
    const dy = dys + <usize>t * dyBytes;
    const dx = dxs + <usize>t * rowBytes;
    inputGradients(dx, dx, rowBytes, w, wEnd, dy, dy, false);
  }
}

// dW rows g0 and g1 (g1 only if `two`): g[c] += x[t][c] * dy[t], dy[t] at dy0 + t * dyBytes
// (g1's at + 8), over the positions until `end`.
// @ts-ignore: decorator
@inline function weightGradients(
  g0: usize,
  g1: usize,
  rowBytes: usize,
  xs: usize,
  dy0: usize,
  dyBytes: usize,
  end: usize,
  two: bool,
): void {
  const blocks = rowBytes & ~(<usize>63); // eight columns at a time: four f64x2 sums per row
  const pairs = rowBytes & ~(<usize>15);
  let c: usize = 0;
  for (; c < blocks; c += 64) {
    let a0 = v128.load(g0 + c);
    let a1 = v128.load(g0 + c + 16);
    let a2 = v128.load(g0 + c + 32);
    let a3 = v128.load(g0 + c + 48);
    let b0 = a0;
    let b1 = a1;
    let b2 = a2;
    let b3 = a3;
    if (two) {
      b0 = v128.load(g1 + c);
      b1 = v128.load(g1 + c + 16);
      b2 = v128.load(g1 + c + 32);
      b3 = v128.load(g1 + c + 48);
    }
    let x = xs + c;
    for (let dy = dy0; dy < end; dy += dyBytes) {
      const x0 = v128.load(x);
      const x1 = v128.load(x + 16);
      const x2 = v128.load(x + 32);
      const x3 = v128.load(x + 48);
      const d = f64x2.splat(load<f64>(dy));
      a0 = f64x2.add(a0, f64x2.mul(x0, d));
      a1 = f64x2.add(a1, f64x2.mul(x1, d));
      a2 = f64x2.add(a2, f64x2.mul(x2, d));
      a3 = f64x2.add(a3, f64x2.mul(x3, d));
      if (two) {
        const e = f64x2.splat(load<f64>(dy + 8));
        b0 = f64x2.add(b0, f64x2.mul(x0, e));
        b1 = f64x2.add(b1, f64x2.mul(x1, e));
        b2 = f64x2.add(b2, f64x2.mul(x2, e));
        b3 = f64x2.add(b3, f64x2.mul(x3, e));
      }
      x += rowBytes;
    }
    v128.store(g0 + c, a0);
    v128.store(g0 + c + 16, a1);
    v128.store(g0 + c + 32, a2);
    v128.store(g0 + c + 48, a3);
    if (two) {
      v128.store(g1 + c, b0);
      v128.store(g1 + c + 16, b1);
      v128.store(g1 + c + 32, b2);
      v128.store(g1 + c + 48, b3);
    }
  }
  for (; c < pairs; c += 16) {
    let a = v128.load(g0 + c);
    let b = two ? v128.load(g1 + c) : a;
    let x = xs + c;
    for (let dy = dy0; dy < end; dy += dyBytes) {
      const xv = v128.load(x);
      a = f64x2.add(a, f64x2.mul(xv, f64x2.splat(load<f64>(dy))));
      if (two) b = f64x2.add(b, f64x2.mul(xv, f64x2.splat(load<f64>(dy + 8))));
      x += rowBytes;
    }
    v128.store(g0 + c, a);
    if (two) v128.store(g1 + c, b);
  }
  if (c < rowBytes) {
    let a = load<f64>(g0 + c);
    let b = two ? load<f64>(g1 + c) : a;
    let x = xs + c;
    for (let dy = dy0; dy < end; dy += dyBytes) {
      const xv = load<f64>(x);
      a += xv * load<f64>(dy);
      if (two) b += xv * load<f64>(dy + 8);
      x += rowBytes;
    }
    store<f64>(g0 + c, a);
    if (two) store<f64>(g1 + c, b);
  }
}

// dx rows dx0 and dx1 (dx1 only if `two`): dx[c] += W[r][c] * dy[r] over the rows of W (from
// w to wEnd), dy0 and dy1 holding the two positions' dy.
// @ts-ignore: decorator
@inline function inputGradients(
  dx0: usize,
  dx1: usize,
  rowBytes: usize,
  w: usize,
  wEnd: usize,
  dy0: usize,
  dy1: usize,
  two: bool,
): void {
  const blocks = rowBytes & ~(<usize>63);
  const pairs = rowBytes & ~(<usize>15);
  let c: usize = 0;
  for (; c < blocks; c += 64) {
    let a0 = v128.load(dx0 + c);
    let a1 = v128.load(dx0 + c + 16);
    let a2 = v128.load(dx0 + c + 32);
    let a3 = v128.load(dx0 + c + 48);
    let b0 = a0;
    let b1 = a1;
    let b2 = a2;
    let b3 = a3;
    if (two) {
      b0 = v128.load(dx1 + c);
      b1 = v128.load(dx1 + c + 16);
      b2 = v128.load(dx1 + c + 32);
      b3 = v128.load(dx1 + c + 48);
    }
    let dy: usize = 0;
    for (let wr = w + c; wr < wEnd; wr += rowBytes) {
      const w0 = v128.load(wr);
      const w1 = v128.load(wr + 16);
      const w2 = v128.load(wr + 32);
      const w3 = v128.load(wr + 48);
      const d = f64x2.splat(load<f64>(dy0 + dy));
      a0 = f64x2.add(a0, f64x2.mul(w0, d));
      a1 = f64x2.add(a1, f64x2.mul(w1, d));
      a2 = f64x2.add(a2, f64x2.mul(w2, d));
      a3 = f64x2.add(a3, f64x2.mul(w3, d));
      if (two) {
        const e = f64x2.splat(load<f64>(dy1 + dy));
        b0 = f64x2.add(b0, f64x2.mul(w0, e));
        b1 = f64x2.add(b1, f64x2.mul(w1, e));
        b2 = f64x2.add(b2, f64x2.mul(w2, e));
        b3 = f64x2.add(b3, f64x2.mul(w3, e));
      }
      dy += 8;
    }
    v128.store(dx0 + c, a0);
    v128.store(dx0 + c + 16, a1);
    v128.store(dx0 + c + 32, a2);
    v128.store(dx0 + c + 48, a3);
    if (two) {
      v128.store(dx1 + c, b0);
      v128.store(dx1 + c + 16, b1);
      v128.store(dx1 + c + 32, b2);
      v128.store(dx1 + c + 48, b3);
    }
  }
  for (; c < pairs; c += 16) {
    let a = v128.load(dx0 + c);
    let b = two ? v128.load(dx1 + c) : a;
    let dy: usize = 0;
    for (let wr = w + c; wr < wEnd; wr += rowBytes) {
      const wv = v128.load(wr);
      a = f64x2.add(a, f64x2.mul(wv, f64x2.splat(load<f64>(dy0 + dy))));
      if (two) b = f64x2.add(b, f64x2.mul(wv, f64x2.splat(load<f64>(dy1 + dy))));
      dy += 8;
    }
    v128.store(dx0 + c, a);
    if (two) v128.store(dx1 + c, b);
  }
  if (c < rowBytes) {
    let a = load<f64>(dx0 + c);
    let b = two ? load<f64>(dx1 + c) : a;
    let dy: usize = 0;
    for (let wr = w + c; wr < wEnd; wr += rowBytes) {
      const wv = load<f64>(wr);
      a += wv * load<f64>(dy0 + dy);
      if (two) b += wv * load<f64>(dy1 + dy);
      dy += 8;
    }
    store<f64>(dx0 + c, a);
    if (two) store<f64>(dx1 + c, b);
  }
}

// y = x * z ** -0.5 with z = mean(x^2) + eps, for the row at x; keeps z and the scale.
function rmsnorm(x: usize, y: usize, t: i32, zs: usize, scales: usize): void {
  let ss = load<f64>(x) * load<f64>(x) + 0;
  for (let i = 1; i < E; i++) ss += get(x, i) * get(x, i);
  const z = ss * invE + RMS_EPS;
  const scale = pow(z, -0.5);
  set(zs, t, z);
  set(scales, t, scale);
  for (let i = 0; i < E; i++) set(y, i, get(x, i) * scale);
}

// dx += d(rmsnorm)/dx . dy for the row at x, whose z and scale the forward pass kept.
function rmsnormBackward(x: usize, z: f64, scale: f64, dy: usize, dxOut: usize): void {
  let dScale: f64 = 0;
  for (let i = 0; i < E; i++) dScale += get(x, i) * get(dy, i);
  // d/dz z^-0.5 = -0.5 z^-1.5 ; d(z)/d(sum x^2) = 1/n ; d(x_i * x_i)/dx_i = 2 x_i
  const dSum = invE * (-0.5 * pow(z, -1.5) * dScale);
  for (let i = 0; i < E; i++) {
    set(dxOut, i, get(dxOut, i) + (scale * get(dy, i) + 2 * get(x, i) * dSum));
  }
}

/** Token `token` at position `t` through every layer (earlier positions are in the buffers). */
export function position(t: i32, token: i32): void {
  const o = <usize>(t * E) << 3;
  const te = at(wte, token * E);
  const pe = at(wpe, t * E);
  for (let i = 0; i < E; i++) set(emb + o, i, get(te, i) + get(pe, i));
  rmsnorm(emb + o, xIn + o, t, z0, s0);
  for (let l = 0; l < L; l++) layerForward(l, t);
}

function layerForward(l: i32, t: i32): void {
  const o = <usize>(t * E) << 3;
  const lo = <usize>l * TE; // this layer's [T][E] buffers
  const wq = matrix(l, WQ);
  const wk = matrix(l, WK);
  const wv = matrix(l, WV);
  const wo = matrix(l, WO);
  const fc1 = matrix(l, FC1);
  const fc2 = matrix(l, FC2);
  const xi = xIn + lo;
  const xn = xnAttn + lo;
  const qs = q + lo;
  const ks = k + lo;
  const vs = v + lo;
  rmsnorm(xi + o, xn + o, t, zAttn + <usize>l * T1, sAttn + <usize>l * T1);
  linear(wq, E, E, xn + o, qs + o);
  linear(wk, E, E, xn + o, ks + o);
  linear(wv, E, E, xn + o, vs + o);
  const a = att + <usize>l * TT;
  const ae = attE + <usize>l * TT;
  const xa = xAttn + lo;
  for (let h = 0; h < H; h++) {
    const hs = h * HD;
    const row = (h * T + t) * T;
    const qt = at(qs + o, hs);
    let max = -Infinity;
    for (let s = 0; s <= t; s++) {
      const ksh = at(ks, s * E + hs);
      let dot = load<f64>(qt) * load<f64>(ksh) + 0;
      for (let j = 1; j < HD; j++) dot += get(qt, j) * get(ksh, j);
      const logit = dot * attnScale;
      set(a, row + s, logit);
      if (logit > max) max = logit;
    }
    let total: f64 = 0;
    for (let s = 0; s <= t; s++) {
      const e = exp(get(a, row + s) + -max);
      set(ae, row + s, e);
      total = s == 0 ? e + 0 : total + e;
    }
    const r = pow(total, -1);
    set(attTotal + <usize>l * HT, h * T + t, total);
    set(attR + <usize>l * HT, h * T + t, r);
    for (let s = 0; s <= t; s++) set(a, row + s, get(ae, row + s) * r);
    // head output j = sum_s w_s v_s[j]: lanes hold two j
    const out = at(xa + o, hs);
    const w0 = f64x2.splat(get(a, row));
    let j = 0;
    for (; j + 2 <= HD; j += 2) {
      let acc = f64x2.add(f64x2.mul(w0, v128.load(at(vs, hs + j))), f64x2.splat(0));
      for (let s = 1; s <= t; s++) {
        const ws = f64x2.splat(get(a, row + s));
        acc = f64x2.add(acc, f64x2.mul(ws, v128.load(at(vs, s * E + hs + j))));
      }
      v128.store(at(out, j), acc);
    }
    if (j < HD) {
      let acc = get(a, row) * get(vs, hs + j) + 0;
      for (let s = 1; s <= t; s++) acc += get(a, row + s) * get(vs, s * E + hs + j);
      set(out, j, acc);
    }
  }
  const xm = xMid + lo;
  linear(wo, E, E, xa + o, xm + o);
  for (let i = 0; i < E; i++) set(xm + o, i, get(xm + o, i) + get(xi + o, i));
  const xnm = xnMlp + lo;
  rmsnorm(xm + o, xnm + o, t, zMlp + <usize>l * T1, sMlp + <usize>l * T1);
  const fo = <usize>(t * F) << 3;
  const hp = hPre + <usize>l * TF + fo;
  const ha = hAct + <usize>l * TF + fo;
  linear(fc1, F, E, xnm + o, hp);
  for (let i = 0; i < F; i++) {
    const z = get(hp, i);
    set(ha, i, z > 0 ? z : 0);
  }
  const next = (l + 1 < L ? xIn + lo + TE : xOut) + o;
  linear(fc2, E, F, ha, next);
  for (let i = 0; i < E; i++) set(next, i, get(next, i) + get(xm + o, i));
}

/** lm_head and softmax at position t: the exps of the logits (less their max) and their sum. */
export function head(t: i32): void {
  const pe = at(probE, t * V);
  linear(lmHead, V, E, at(xOut, t * E), pe);
  let max = -Infinity;
  for (let i = 0; i < V; i++) if (get(pe, i) > max) max = get(pe, i);
  let total: f64 = 0;
  for (let i = 0; i < V; i++) {
    const e = exp(get(pe, i) + -max);
    set(pe, i, e);
    total = i == 0 ? e + 0 : total + e;
  }
  set(probTotal, t, total);
}

/** The raw lm_head outputs at position t, into the logits buffer (for sampling). */
export function headLogits(t: i32): void {
  linear(lmHead, V, E, at(xOut, t * E), logits);
}

/** Runs the first `positions` tokens and targets and stores each one's -log p(target). */
export function run(positions: i32): void {
  n = positions;
  transpose(lmHead, V, E);
  for (let l = 0; l < L; l++) {
    for (let m = WQ; m <= WO; m++) transpose(matrix(l, m), E, E);
    transpose(matrix(l, FC1), F, E);
    transpose(matrix(l, FC2), E, F);
  }
  useTransposed = true;
  for (let t = 0; t < n; t++) {
    position(t, load<i32>(tokens + (<usize>t << 2)));
    head(t);
    const target = load<i32>(targets + (<usize>t << 2));
    const prob = get(probE, t * V + target) * pow(get(probTotal, t), -1);
    set(losses, t, log(prob) * -1);
  }
  useTransposed = false;
}

/** Adds the gradient of the latest run()'s mean loss to the gradients. */
export function backward(): void {
  memory.fill(dx, 0, TE);
  // Loss = (sum_t -log p_t) * (1/n): each position's log-probability gets -(1/n).
  const dLogp = -1 * (1 / <f64>n);
  for (let t = 0; t < n; t++) {
    const pe = at(probE, t * V);
    const total = get(probTotal, t);
    const r = pow(total, -1);
    const target = load<i32>(targets + (<usize>t << 2));
    const eT = get(pe, target);
    const prob = eT * r;
    const dProb = (1 / prob) * dLogp;
    // p = e_target * r, r = total^-1, total = sum e_i, e_i = exp(z_i)
    const dTotal = -1 * pow(total, -2) * (eT * dProb);
    const dl = at(dLogits, t * V);
    for (let i = 0; i < V; i++) {
      const de = (i == target ? r * dProb : 0) + dTotal;
      set(dl, i, get(pe, i) * de);
    }
  }
  linearBackward(lmHead, V, E, xOut, dLogits, dx);
  for (let l = L - 1; l >= 0; l--) layerBackward(l);
  // the first rmsnorm and the embeddings
  memory.fill(dxn, 0, <usize>(n * E) << 3);
  for (let t = 0; t < n; t++) {
    const o = <usize>(t * E) << 3;
    rmsnormBackward(emb + o, get(z0, t), get(s0, t), dx + o, dxn + o);
    const te = at(wte, load<i32>(tokens + (<usize>t << 2)) * E) + GRAD;
    const pe = at(wpe, t * E) + GRAD;
    for (let i = 0; i < E; i++) {
      set(te, i, get(te, i) + get(dxn + o, i));
      set(pe, i, get(pe, i) + get(dxn + o, i));
    }
  }
}

// On entry dx holds d(loss)/d(stream leaving layer l); on exit, entering it.
function layerBackward(l: i32): void {
  const lo = <usize>l * TE;
  const wq = matrix(l, WQ);
  const wk = matrix(l, WK);
  const wv = matrix(l, WV);
  const wo = matrix(l, WO);
  const fc1 = matrix(l, FC1);
  const fc2 = matrix(l, FC2);
  // MLP: x_out = fc2(relu(fc1(rmsnorm(x_mid)))) + x_mid
  const nE = <usize>(n * E) << 3;
  const nF = <usize>(n * F) << 3;
  memory.fill(dh, 0, nF);
  linearBackward(fc2, E, F, hAct + <usize>l * TF, dx, dh);
  const hp = hPre + <usize>l * TF;
  for (let i = 0; i < n * F; i++) if (!(get(hp, i) > 0)) set(dh, i, 0);
  memory.fill(dxn, 0, nE); // d(norm output)
  linearBackward(fc1, F, E, xnMlp + lo, dh, dxn);
  // the residual: dx (for x_mid) keeps its value and gains the norm's contribution
  const zm = zMlp + <usize>l * T1;
  const sm = sMlp + <usize>l * T1;
  for (let t = 0; t < n; t++) {
    const o = <usize>(t * E) << 3;
    rmsnormBackward(xMid + lo + o, get(zm, t), get(sm, t), dxn + o, dx + o);
  }
  // Attention: x_mid = wo(attn(...)) + x_in
  memory.fill(dAttn, 0, nE);
  linearBackward(wo, E, E, xAttn + lo, dx, dAttn);
  memory.fill(dq, 0, nE);
  memory.fill(dk, 0, nE);
  memory.fill(dv, 0, nE);
  const qs = q + lo;
  const ks = k + lo;
  const vs = v + lo;
  const a = att + <usize>l * TT;
  const ae = attE + <usize>l * TT;
  for (let t = 0; t < n; t++) {
    for (let h = 0; h < H; h++) {
      const hs = h * HD;
      const row = (h * T + t) * T;
      const da = at(dAttn, t * E + hs);
      // head_out[j] = sum_s w_s v_s[j]
      for (let s = 0; s <= t; s++) {
        const vsh = at(vs, s * E + hs);
        const dvs = at(dv, s * E + hs);
        const ws = get(a, row + s);
        let acc: f64 = 0;
        for (let j = 0; j < HD; j++) {
          const d = get(da, j);
          acc += get(vsh, j) * d;
          set(dvs, j, get(dvs, j) + ws * d);
        }
        set(dw, s, acc);
      }
      // w_s = e_s * r, r = total^-1, total = sum_s e_s, e_s = exp(logit_s - max)
      const total = get(attTotal + <usize>l * HT, h * T + t);
      const r = get(attR + <usize>l * HT, h * T + t);
      const dPow = -1 * pow(total, -2);
      let dTotal: f64 = 0;
      for (let s = 0; s <= t; s++) dTotal += dPow * (get(ae, row + s) * get(dw, s));
      const qt = at(qs, t * E + hs);
      const dqt = at(dq, t * E + hs);
      for (let s = 0; s <= t; s++) {
        const dLogit = get(ae, row + s) * (r * get(dw, s) + dTotal);
        const dDot = f64x2.splat(attnScale * dLogit);
        const ksh = at(ks, s * E + hs);
        const dks = at(dk, s * E + hs);
        let j = 0;
        for (; j + 2 <= HD; j += 2) {
          const dqj = at(dqt, j);
          const dkj = at(dks, j);
          v128.store(dqj, f64x2.add(v128.load(dqj), f64x2.mul(v128.load(at(ksh, j)), dDot)));
          v128.store(dkj, f64x2.add(v128.load(dkj), f64x2.mul(v128.load(at(qt, j)), dDot)));
        }
        if (j < HD) {
          const d = f64x2.extract_lane(dDot, 0);
          set(dqt, j, get(dqt, j) + get(ksh, j) * d);
          set(dks, j, get(dks, j) + get(qt, j) * d);
        }
      }
    }
  }
  // q, k, v = W * rmsnorm(x_in); the residual carries dx through unchanged
  const zs = zAttn + <usize>l * T1;
  const ss = sAttn + <usize>l * T1;
  memory.fill(dxn, 0, nE);
  linearBackward(wq, E, E, xnAttn + lo, dq, dxn);
  linearBackward(wk, E, E, xnAttn + lo, dk, dxn);
  linearBackward(wv, E, E, xnAttn + lo, dv, dxn);
  for (let t = 0; t < n; t++) {
    const o = <usize>(t * E) << 3;
    rmsnormBackward(xIn + lo + o, get(zs, t), get(ss, t), dxn + o, dx + o);
  }
}

// The constants of the current Adam step.
let lr: f64 = 0;
let beta1: f64 = 0;
let beta2: f64 = 0;
let oneMinusBeta1: f64 = 0;
let oneMinusBeta2: f64 = 0;
let correction1: f64 = 0;
let correction2: f64 = 0;
let eps: f64 = 0;

/**
 * One Adam update of every parameter from its gradient, which it then zeroes. The caller
 * passes the step's constants as lib/adam.ts computes them.
 */
export function adam(
  learningRate: f64,
  b1: f64,
  b2: f64,
  omb1: f64,
  omb2: f64,
  c1: f64,
  c2: f64,
  epsilon: f64,
): void {
  lr = learningRate;
  beta1 = b1;
  beta2 = b2;
  oneMinusBeta1 = omb1;
  oneMinusBeta2 = omb2;
  correction1 = c1;
  correction2 = c2;
  eps = epsilon;
  // Dividing by 1 changes nothing, and the corrections reach exactly 1 once beta ** t is below
  // half an ulp of 1 (beta1 = 0.85: from step 231; beta2 = 0.99: from step 3725). Where the
  // divider is the bottleneck, a loop without those divisions is faster, bit for bit.
  if (c1 != 1 && c2 != 1) adamLoop(true, true);
  else if (c2 != 1) adamLoop(false, true);
  else if (c1 != 1) adamLoop(true, false);
  else adamLoop(false, false);
}

// The update, specialised for each call above (inlined with constant arguments).
// @ts-ignore: decorator
@inline function adamLoop(divide1: bool, divide2: bool): void {
  const b1 = f64x2.splat(beta1);
  const b2 = f64x2.splat(beta2);
  const c1 = f64x2.splat(correction1);
  const c2 = f64x2.splat(correction2);
  const omb1 = f64x2.splat(oneMinusBeta1);
  const omb2 = f64x2.splat(oneMinusBeta2);
  const lrs = f64x2.splat(lr);
  const epss = f64x2.splat(eps);
  const zero = f64x2.splat(0);
  const bytes = <usize>count << 3;
  const pairs = bytes & ~(<usize>15);
  let i: usize = 0;
  for (; i < pairs; i += 16) {
    const g = v128.load(grads + i);
    const m = f64x2.add(f64x2.mul(b1, v128.load(mom1 + i)), f64x2.mul(omb1, g));
    const s = f64x2.add(f64x2.mul(b2, v128.load(mom2 + i)), f64x2.mul(omb2, f64x2.mul(g, g)));
    v128.store(mom1 + i, m);
    v128.store(mom2 + i, s);
    let mHat = m;
    if (divide1) mHat = f64x2.div(m, c1);
    let vHat = s;
    if (divide2) vHat = f64x2.div(s, c2);
    const step = f64x2.div(f64x2.mul(lrs, mHat), f64x2.add(f64x2.sqrt(vHat), epss));
    v128.store(params + i, f64x2.sub(v128.load(params + i), step));
    v128.store(grads + i, zero);
  }
  if (i < bytes) {
    const g = load<f64>(grads + i);
    const m = beta1 * load<f64>(mom1 + i) + oneMinusBeta1 * g;
    const s = beta2 * load<f64>(mom2 + i) + oneMinusBeta2 * (g * g);
    store<f64>(mom1 + i, m);
    store<f64>(mom2 + i, s);
    const mHat = m / correction1;
    const vHat = s / correction2;
    store<f64>(params + i, load<f64>(params + i) - lr * mHat / (sqrt(vHat) + eps));
    store<f64>(grads + i, 0);
  }
}
