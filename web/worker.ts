// The page's training worker: it owns the model, so training never blocks the page. A run goes
// as the command line's does (web/run.ts), a slice of steps at a time; between slices the worker
// reports the losses, prints the progress line, and answers the page (stop, attention). Traces
// and attention maps are computed by the lesson's code (lib/sample.ts's sampleTrace(),
// lib/model.ts's gpt()) on a Value model built from the engine's weights.

import { sampleOrigins } from "../lib/eval.ts";
import { createGpt } from "../lib/model.ts";
import { Random } from "../lib/random.ts";
import { sampleTrace } from "../lib/sample.ts";
import { attentionMaps } from "./attention.ts";
import { checkpointSampler, parseCheckpoint } from "./checkpoint.ts";
import { InputError, type WebConfig } from "./config.ts";
import { parseDocs } from "./docs.ts";
import type { FromWorker, ModelInfo, ToWorker } from "./protocol.ts";
import { drawSamples, evalName, lossLine, Run, sampleLine, type Sampler, stepLine } from "./run.ts";

// The parts of a dedicated worker's global scope used here.
interface WorkerScope {
  postMessage(message: FromWorker): void;
  addEventListener(type: "message", listener: (event: MessageEvent<ToWorker>) => void): void;
}
const scope = globalThis as unknown as WorkerScope;

/** How long a slice of training steps runs before the worker reports and listens. */
const SLICE_MS = 25;

// A name sampled, and how to draw it again.
interface History {
  text: string;
  state: ReturnType<Random["getState"]>;
  temperature: number;
  prefix: string;
}

let sampler: Sampler | undefined; // the model: a run's, or a checkpoint's
let training: Promise<void> | undefined; // the run in progress
let stopRequested = false;
let requests = 0; // requests that replace the model, so far
const history: History[] = [];

// The time, in epoch milliseconds (the page sets it against its own clock's origin).
const now = () => performance.timeOrigin + performance.now();

function post(message: FromWorker): void {
  scope.postMessage(message);
}

function out(text: string): void {
  post({ kind: "out", text });
}

// Lets the page's messages in: a task of its own, without setTimeout's 4 ms clamp.
const channel = new MessageChannel();
let resume: (() => void) | undefined;
channel.port1.onmessage = () => resume?.();
function nextTask(): Promise<void> {
  return new Promise((resolve) => {
    resume = resolve;
    channel.port2.postMessage(null);
  });
}

post({ kind: "ready" });

scope.addEventListener("message", (event) => {
  const message = event.data;
  handle(message).catch((err) => {
    const input = err instanceof InputError;
    const text = err instanceof Error ? err.message : String(err);
    post({
      kind: "error",
      message: input ? text : (err as Error)?.stack ?? text,
      input,
      request: message.kind,
    });
  });
});

async function handle(message: ToWorker): Promise<void> {
  switch (message.kind) {
    case "train": {
      const request = ++requests;
      await stopTraining();
      if (request !== requests) return; // a later request replaces the model instead
      training = train(message.config, message.text).finally(() => (training = undefined));
      return await training;
    }
    case "stop":
      return await stopTraining();
    case "sample": {
      if (training) throw new InputError("Cannot sample: the model is still training");
      const first = history.length;
      const { count, temperature, prefix } = message;
      post({ kind: "samples", first, names: sample({ count, temperature, prefix }) });
      return;
    }
    case "trace":
      return trace(message.index);
    case "attention": {
      const model = currentModel("show attention");
      encodeInput(model, message.text);
      const maps = attentionMaps(lessonModel(model), model.tokenizer, message.text);
      post({ kind: "attention", text: message.text, maps });
      return;
    }
    case "checkpoint": {
      const request = ++requests;
      await stopTraining();
      if (request !== requests) return;
      return loadCheckpoint(message);
    }
  }
}

// The lesson's model (Values) with the engine's weights as they are now.
const lessonModel = (model: Sampler) =>
  createGpt(model.engine.config, { params: model.engine.parameters() });

function currentModel(action: string): Sampler {
  if (!sampler) throw new InputError(`Cannot ${action}: train a model or load a checkpoint first`);
  return sampler;
}

// Checks that the learner's text is in the model's vocabulary.
function encodeInput(model: Sampler, text: string): void {
  try {
    model.tokenizer.encode(text);
  } catch (err) {
    throw new InputError((err as Error).message);
  }
}

async function stopTraining(): Promise<void> {
  if (!training) return;
  stopRequested = true;
  await training.catch(() => {});
}

// A run, as lib/cli/main.ts's run() prints it.
async function train(config: WebConfig, text: string): Promise<void> {
  stopRequested = false;
  const docs = parseDocs(text);
  const run = Run.start(docs, config);
  sampler = run;
  history.length = 0;
  const { split, tokenizer, engine } = run;
  const heldOut = split.val.length > 0;
  const info: ModelInfo = {
    numDocs: run.docs.length,
    numVal: split.val.length,
    vocabSize: tokenizer.vocabSize,
    numParams: engine.numParams,
    numSteps: run.numSteps,
  };
  post({ kind: "started", info, time: now() });
  out(`num docs: ${run.docs.length}\n`);
  if (heldOut) out(`val docs: ${split.val.length} held out; training on ${split.train.length}\n`);
  out(`vocab size: ${tokenizer.vocabSize}\n`);
  out(`num params: ${engine.numParams}\n`);
  const { numSteps } = run;
  while (!run.done && !stopRequested) {
    const first = run.step + 1;
    const losses: number[] = [];
    const start = performance.now();
    let firstTime: number | undefined;
    let evaluateNow = false;
    do {
      losses.push(run.trainStep());
      if (run.step === 1) firstTime = now();
      evaluateNow = heldOut && run.step % config.evalEvery === 0 && !run.done;
    } while (!run.done && !evaluateNow && performance.now() - start < SLICE_MS);
    out(`${stepLine(run.step, numSteps, losses.at(-1)!)}\r`);
    post({ kind: "progress", first, losses, time: now(), ...(firstTime ? { firstTime } : {}) });
    if (evaluateNow) {
      const loss = run.evaluate()!.loss;
      post({ kind: "eval", step: run.step, loss });
      out(`\n${lossLine(evalName(run.step, numSteps), loss)}\n`);
    }
    await nextTask();
  }
  if (!run.done) {
    out("\n");
    post({ kind: "trained", step: run.step, stopped: true, time: now() });
    return;
  }
  if (heldOut) {
    const loss = run.evaluate()!.loss;
    post({ kind: "eval", step: run.step, loss });
    out(`\n${lossLine("val loss", loss)} (${split.val.length} held-out documents)`);
  }
  post({ kind: "trained", step: run.step, stopped: false, time: now() });
  out("\n--- inference (new, hallucinated names) ---\n");
  const { samples: count, temperature, prefix } = config;
  const samples = sample({ count, temperature, prefix });
  samples.forEach((name, i) => out(`${sampleLine(i + 1, name)}\n`));
  if (heldOut) {
    const origins = sampleOrigins(samples, split);
    const count = (o: string) => origins.filter((x) => x === o).length;
    out(
      `samples: ${count("new")} new, ${count("train")} in the training set, ` +
        `${count("val")} in the held-out set\n`,
    );
  }
  post({ kind: "samples", first: 0, names: samples });
}

// Draws names with the model's generator and keeps how to replay each.
function sample(options: { count: number; temperature: number; prefix: string }): string[] {
  const model = currentModel("sample");
  const drawn = drawSamples(model, options);
  for (const { text, state } of drawn) history.push({ text, state, ...options });
  return drawn.map((d) => d.text);
}

// Replays a sample with the lesson's model, recording each position.
function trace(index: number): void {
  const model = currentModel("trace a sample");
  const entry = history[index];
  if (!entry) throw new InputError(`Cannot trace sample ${index + 1}: there is no such sample`);
  const rng = new Random();
  rng.setState(entry.state);
  const traced = sampleTrace(lessonModel(model), model.tokenizer, { ...entry, rng });
  if (traced.text !== entry.text) {
    throw new Error(`Replaying sample ${index + 1} gave ${traced.text}, not ${entry.text}`);
  }
  post({ kind: "trace", index, trace: traced, temperature: entry.temperature });
}

// A checkpoint saved by the command line, sampled as `deno task sample` samples it.
function loadCheckpoint(message: Extract<ToWorker, { kind: "checkpoint" }>): void {
  const checkpoint = parseCheckpoint(new Uint8Array(message.bytes), message.name);
  sampler = checkpointSampler(checkpoint, { engine: message.engine });
  history.length = 0;
  const { engine, tokenizer } = sampler;
  post({
    kind: "loaded",
    name: message.name,
    step: checkpoint.step,
    info: {
      numDocs: 0,
      numVal: 0,
      vocabSize: tokenizer.vocabSize,
      numParams: engine.numParams,
      numSteps: checkpoint.train.steps,
    },
  });
  out(
    `checkpoint ${message.name}: step ${checkpoint.step} of ${checkpoint.train.steps}, ` +
      `vocab size ${tokenizer.vocabSize}, ${engine.numParams} params\n`,
  );
  const { count, temperature, prefix } = message;
  const samples = sample({ count, temperature, prefix });
  samples.forEach((name, i) => out(`${sampleLine(i + 1, name)}\n`));
  post({ kind: "samples", first: 0, names: samples });
}
