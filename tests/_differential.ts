// Differential testing of the two engines, the way compilers are tested against each other:
// a seeded generator makes random configurations (depth, width, heads, context, vocabularies
// from several scripts, documents shorter and longer than the context, learning rates), both
// engines train a few steps on each, and every loss, every gradient and the samples must agree.
// tests/differential_test.ts runs a few hundred cases; `deno task fuzz` hunts for longer.

import { Adam } from "@lib/adam.ts";
import { FastGpt } from "@lib/fast/gpt.ts";
import { createGpt, DEFAULT_CONFIG, type GptConfig, paramShapes } from "@lib/model.ts";
import { Random } from "@lib/random.ts";
import { sample } from "@lib/sample.ts";
import { Tokenizer } from "@lib/tokenizer.ts";
import { docTokens, sequenceLoss } from "@lib/train.ts";

/** One generated configuration and its data. */
export interface Case {
  seed: number;
  index: number;
  config: GptConfig;
  /** The vocabulary's characters, sorted by code point (the tokenizer's order). */
  uchars: string[];
  docs: string[];
  lr: number;
  steps: number;
  temperature: number;
  prefix: string;
}

// Code point ranges of the scripts vocabularies are drawn from.
const SCRIPTS: [string, number, number][] = [
  ["latin", 0x61, 0x7a],
  ["latin-1", 0xc0, 0xff],
  ["greek", 0x3b1, 0x3c9],
  ["cyrillic", 0x430, 0x44f],
  ["devanagari", 0x905, 0x939],
  ["arabic", 0x627, 0x64a],
  ["hangul", 0xac00, 0xd7a3],
  ["cjk", 0x4e00, 0x9fff],
  ["emoji", 0x1f600, 0x1f64f],
  ["punctuation", 0x20, 0x2f],
];

/** Largest vocabulary the generator draws (BOS included). */
export const MAX_VOCAB = 3000;
// Work budget per training step, in multiply-adds of the Value engine, so that a few hundred
// cases fit in the test suite's time.
const BUDGET = 120_000;

const below = (rng: Random, n: number) => Math.floor(rng.random() * n);

/**
 * Generates case `index` of the run seeded `seed`: the same pair always gives the same case.
 */
export function generateCase(seed: number, index: number): Case {
  const rng = new Random(BigInt(seed) * 2n ** 32n + BigInt(index));
  for (;;) {
    const nLayer = 1 + below(rng, 3);
    const nEmbd = 1 + below(rng, 48);
    const divisors = Array.from({ length: nEmbd }, (_, i) => i + 1).filter((d) => nEmbd % d === 0);
    const nHead = divisors[below(rng, divisors.length)]!;
    const blockSize = 1 + below(rng, 24);
    // log-uniform from 2 to MAX_VOCAB, so that small and huge vocabularies are both common
    const vocabSize = Math.min(
      MAX_VOCAB,
      Math.floor(Math.exp(rng.random() * Math.log(MAX_VOCAB))) + 1,
    );
    const T = blockSize;
    const cost = T * (2 * vocabSize * nEmbd + nLayer * (12 * nEmbd * nEmbd + 2 * T * nEmbd));
    if (cost > BUDGET) continue;

    const scripts = SCRIPTS.filter(() => rng.random() < 0.3);
    if (scripts.length === 0) scripts.push(SCRIPTS[below(rng, SCRIPTS.length)]!);
    if (scripts.reduce((n, [, a, b]) => n + b - a + 1, 0) < vocabSize) scripts.push(SCRIPTS[7]!);
    const pool = scripts.flatMap(([, a, b]) => Array.from({ length: b - a + 1 }, (_, i) => a + i));
    const picked = new Set<number>();
    while (picked.size < vocabSize - 1) picked.add(pool[below(rng, pool.length)]!);
    const uchars = [...picked].sort((a, b) => a - b).map((cp) => String.fromCodePoint(cp));

    // Documents shorter and longer than the context (cut to it, as the reference does).
    const docs = Array.from(
      { length: 1 + below(rng, 6) },
      () =>
        Array.from(
          { length: 1 + below(rng, 2 * blockSize + 2) },
          () => uchars[below(rng, uchars.length)]!,
        ).join(""),
    );
    const lr = 10 ** (-3 + 2 * rng.random()); // two decades, 0.001 to 0.1
    const steps = 2 + below(rng, 3);
    const temperature = 0.3 + 1.2 * rng.random();
    const prefixLength = blockSize > 1 && rng.random() < 0.4 ? below(rng, blockSize) : 0;
    const prefix = Array.from({ length: prefixLength }, () => uchars[below(rng, uchars.length)]!)
      .join("");
    return {
      seed,
      index,
      config: { ...DEFAULT_CONFIG, vocabSize, nLayer, nEmbd, nHead, blockSize },
      uchars,
      docs,
      lr,
      steps,
      temperature,
      prefix,
    };
  }
}

/** A short description of a case, for failure messages. */
export function describeCase(c: Case): string {
  const { nLayer, nEmbd, nHead, blockSize, vocabSize } = c.config;
  const lengths = c.docs.map((d) => [...d].length).join(",");
  return `nLayer ${nLayer}, nEmbd ${nEmbd}, nHead ${nHead}, blockSize ${blockSize}, ` +
    `vocabSize ${vocabSize}, docs of length ${lengths}, lr ${c.lr.toPrecision(3)}, ` +
    `${c.steps} steps, temperature ${c.temperature.toFixed(2)}, prefix ${JSON.stringify(c.prefix)}`;
}

// Tolerances of the comparison.
const TOLERANCE = { loss: 1e-12, grad: 1e-12 } as const;

/**
 * Trains both engines on a case and compares them: at every step the fast engine's loss and
 * gradients at the Value engine's parameters (the same forward operations: the same loss to the
 * last bit; gradients within 1e-12 of the largest), the losses of the two engines each training
 * on its own (within 1e-12 relative), and then their samples.
 *
 * @returns The first disagreement, or `undefined` if they agree.
 */
export function compareEngines(c: Case): string | undefined {
  const tokenizer = new Tokenizer(c.uchars);
  const value = createGpt(c.config, { rng: new Random(c.index) });
  const fast = FastGpt.create(c.config, { rng: new Random(c.index) });
  const probe = new FastGpt(c.config, fast.params); // follows the Value engine's parameters
  const adamV = new Adam(value.params.length, { numSteps: c.steps, learningRate: c.lr });
  const adamF = new Adam(fast.numParams, { numSteps: c.steps, learningRate: c.lr });
  for (let step = 0; step < c.steps; step++) {
    const tokens = docTokens(tokenizer, c.docs[step % c.docs.length]!);
    const loss = sequenceLoss(value, tokens);
    loss.backward();
    value.params.forEach((p, i) => probe.params[i] = p.data);
    probe.grads.fill(0);
    const lossProbe = probe.forward(tokens);
    probe.backward();
    if (lossProbe !== loss.data) {
      return `step ${step + 1}: loss ${loss.data} (value) vs ${lossProbe} (fast, same parameters)`;
    }
    let scale = 0;
    for (const p of value.params) scale = Math.max(scale, Math.abs(p.grad));
    for (let i = 0; i < value.params.length; i++) {
      const gv = value.params[i]!.grad;
      const gf = probe.grads[i]!;
      if (!(Math.abs(gv - gf) <= TOLERANCE.grad * scale)) {
        return `step ${step + 1}: gradient of parameter ${i} (${paramName(c.config, i)}) is ` +
          `${gv} (value) vs ${gf} (fast), largest gradient ${scale}`;
      }
    }
    const lossF = fast.trainStep(tokens, adamF);
    if (!(Math.abs(loss.data - lossF) <= TOLERANCE.loss * Math.abs(loss.data))) {
      return `step ${step + 1}: loss ${loss.data} (value) vs ${lossF} (fast, trained alone)`;
    }
    adamV.step(value.params);
  }
  const rngV = new Random(c.seed + 1);
  const rngF = new Random(c.seed + 1);
  const options = { temperature: c.temperature, prefix: c.prefix };
  for (let i = 0; i < 3; i++) {
    const a = sample(value, tokenizer, { rng: rngV, ...options });
    const b = fast.sample(tokenizer, { rng: rngF, ...options });
    if (a !== b) return `sample ${i + 1}: ${JSON.stringify(a)} (value) vs ${JSON.stringify(b)}`;
  }
  return undefined;
}

// The matrix and position of a parameter index, e.g. "lm_head[12][3]".
function paramName(config: GptConfig, index: number): string {
  let offset = 0;
  for (const [name, rows, cols] of paramShapes(config)) {
    if (index < offset + rows * cols) {
      const k = index - offset;
      return `${name}[${Math.floor(k / cols)}][${k % cols}]`;
    }
    offset += rows * cols;
  }
  return "?";
}
