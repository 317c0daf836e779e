// The page's settings and the link that carries them: `?n_layer=2&n_embd=32&steps=2000&seed=7`
// reproduces a run, `run=1` starts it on load. The names are the command line's flags in
// snake_case; the defaults are the reference's, so a bare link gives microgpt.py's numbers.

import { DEFAULT_ADAM } from "../lib/adam.ts";
import type { EngineName } from "../lib/engine.ts";
import { DEFAULT_CONFIG } from "../lib/model.ts";

/** Everything the page can be told by its link. */
export interface WebConfig {
  /** Transformer layers. */
  nLayer: number;
  /** Width of the residual stream. */
  nEmbd: number;
  /** Attention heads; must divide `nEmbd`. */
  nHead: number;
  /** Longest context. */
  blockSize: number;
  /** Training steps (the learning rate decays to 0 over them). */
  steps: number;
  /** Any integer, as Python's `random.seed` takes it (a `bigint` past 2^53). */
  seed: number | bigint;
  /** Adam's learning rate at step 1. */
  lr: number;
  /** Fraction of the shuffled documents held out (the last ones). */
  valSplit: number;
  /** With held-out documents: evaluate them every this many steps. */
  evalEvery: number;
  /** `fast` (WebAssembly) or `value` (the lesson's scalar autograd). */
  engine: EngineName;
  /** Sampling temperature. */
  temperature: number;
  /** Names to sample after training. */
  samples: number;
  /** Text every sample starts with. */
  prefix: string;
  /** Start training as soon as the page loads. */
  run: boolean;
}

/** The reference's settings, with the fast engine (the page's default: it takes a second). */
export const DEFAULT_WEB_CONFIG: WebConfig = {
  nLayer: DEFAULT_CONFIG.nLayer,
  nEmbd: DEFAULT_CONFIG.nEmbd,
  nHead: DEFAULT_CONFIG.nHead,
  blockSize: DEFAULT_CONFIG.blockSize,
  steps: 1000, // microgpt.py's num_steps
  seed: 42, // microgpt.py's random.seed(42)
  lr: DEFAULT_ADAM.learningRate,
  valSplit: 0, // the reference trains on every name
  evalEvery: 100, // ten points on the held-out curve of a default-length run
  engine: "fast", // the same numbers as the Value engine, ~50x sooner
  temperature: 0.5, // microgpt.py's temperature
  samples: 20, // microgpt.py prints 20 names
  prefix: "",
  run: false,
};

/** The largest settings a page will run: beyond them a tab runs out of memory or patience. */
export const WEB_LIMITS = {
  nLayer: 16,
  nEmbd: 512,
  blockSize: 256,
  steps: 1_000_000,
  samples: 1000,
} as const;

type Kind = "count" | "seed" | "positive" | "fraction" | "engine" | "text" | "flag";

// Each setting: its name in the link, its kind, and the largest value allowed for counts.
const PARAMS: { [K in keyof WebConfig]: { name: string; kind: Kind; max?: number } } = {
  nLayer: { name: "n_layer", kind: "count", max: WEB_LIMITS.nLayer },
  nEmbd: { name: "n_embd", kind: "count", max: WEB_LIMITS.nEmbd },
  nHead: { name: "n_head", kind: "count", max: WEB_LIMITS.nEmbd },
  blockSize: { name: "block_size", kind: "count", max: WEB_LIMITS.blockSize },
  steps: { name: "steps", kind: "count", max: WEB_LIMITS.steps },
  seed: { name: "seed", kind: "seed" },
  lr: { name: "lr", kind: "positive" },
  valSplit: { name: "val_split", kind: "fraction" },
  evalEvery: { name: "eval_every", kind: "count", max: WEB_LIMITS.steps },
  engine: { name: "engine", kind: "engine" },
  temperature: { name: "temperature", kind: "positive" },
  samples: { name: "samples", kind: "count", max: WEB_LIMITS.samples },
  prefix: { name: "prefix", kind: "text" },
  run: { name: "run", kind: "flag" },
};

/** The name of each setting in the link (`nLayer` is `n_layer`). */
export const PARAM_NAMES: { readonly [K in keyof WebConfig]: string } = Object.fromEntries(
  Object.entries(PARAMS).map(([key, spec]) => [key, spec.name]),
) as { [K in keyof WebConfig]: string };

/** A mistake in what the learner gave the page: a setting, a text, a file. */
export class InputError extends Error {
  /**
   * Creates the error.
   *
   * @param message The whole report, `Cannot <action>: <what was wrong>`.
   */
  constructor(message: string) {
    super(message);
    this.name = "InputError";
  }
}

// One value from its text, or the reason it cannot be one.
function parseValue(text: string, kind: Kind, max?: number): { value: unknown } | { why: string } {
  const t = text.trim();
  switch (kind) {
    case "count": {
      const n = /^\d+$/.test(t) ? Number(t) : NaN;
      if (!(n >= 1)) return { why: "must be a whole number from 1" };
      if (max !== undefined && n > max) {
        return { why: `must be at most ${max.toLocaleString("en-US")}` };
      }
      return { value: n };
    }
    case "seed": {
      if (!/^-?\d+$/.test(t)) return { why: "must be an integer" };
      const n = Number(t);
      return { value: Number.isSafeInteger(n) ? n : BigInt(t) };
    }
    case "positive": {
      const x = t === "" ? NaN : Number(t);
      if (!(x > 0) || !Number.isFinite(x)) return { why: "must be a number above 0" };
      return { value: x };
    }
    case "fraction": {
      const x = t === "" ? NaN : Number(t);
      if (!(x >= 0 && x < 1)) return { why: "must be a fraction from 0 up to 1" };
      return { value: x };
    }
    case "engine":
      if (t !== "fast" && t !== "value") return { why: 'must be "fast" or "value"' };
      return { value: t };
    case "text":
      return { value: text }; // a prefix keeps its spaces
    case "flag":
      if (t !== "" && t !== "0" && t !== "1") return { why: "must be 0 or 1" };
      return { value: t !== "0" }; // a bare `?run` counts
  }
}

/**
 * Reads the settings from a link's query (or a form's fields, which have the same names):
 * anything missing takes its default, anything malformed too, with the reason in `errors`.
 *
 * @param params The query.
 * @returns The settings and one message per value that could not be used.
 *
 * @example
 * ```ts
 * import { parseConfig } from "./config.ts";
 * import assert from "node:assert/strict";
 *
 * const { config, errors } = parseConfig(new URLSearchParams("n_embd=32&seed=7&run=1&steps=x"));
 * assert.equal(config.nEmbd, 32);
 * assert.equal(config.seed, 7);
 * assert.equal(config.run, true);
 * assert.equal(config.steps, 1000);
 * assert.deepEqual(errors, ["Cannot read the setting steps: x must be a whole number from 1"]);
 * ```
 */
export function parseConfig(params: URLSearchParams): { config: WebConfig; errors: string[] } {
  const config: Record<string, unknown> = { ...DEFAULT_WEB_CONFIG };
  const errors: string[] = [];
  for (const [key, spec] of Object.entries(PARAMS)) {
    const text = params.get(spec.name);
    if (text === null) continue;
    const parsed = parseValue(text, spec.kind, spec.max);
    if ("why" in parsed) {
      errors.push(`Cannot read the setting ${spec.name}: ${text || "(empty)"} ${parsed.why}`);
    } else config[key] = parsed.value;
  }
  return { config: config as unknown as WebConfig, errors };
}

/**
 * The query of a link to these settings: only those that differ from the defaults, in a fixed
 * order, so the default run's link is the bare page.
 *
 * @param config The settings.
 * @returns The query, without `?` (empty for the defaults).
 *
 * @example
 * ```ts
 * import { configQuery, DEFAULT_WEB_CONFIG } from "./config.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(configQuery(DEFAULT_WEB_CONFIG), "");
 * assert.equal(configQuery({ ...DEFAULT_WEB_CONFIG, nLayer: 2, run: true }), "n_layer=2&run=1");
 * ```
 */
export function configQuery(config: WebConfig): string {
  const params = new URLSearchParams();
  for (const [key, spec] of Object.entries(PARAMS)) {
    const value = config[key as keyof WebConfig];
    if (value === DEFAULT_WEB_CONFIG[key as keyof WebConfig]) continue;
    params.set(spec.name, typeof value === "boolean" ? (value ? "1" : "0") : String(value));
  }
  return params.toString();
}
