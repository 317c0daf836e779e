/// <reference lib="dom" />
// The web edition's page: the settings (read from the link and kept in it), the log the command
// line would print, the live loss chart, samples with their traces, attention heatmaps and
// checkpoints. The model lives in a worker (web/worker.ts) and the count models in another
// (web/ladder_worker.ts); this file only asks them and shows what they answer, so the page stays
// responsive while they work. names.txt is fetched once, on load: the page trains offline after.

import {
  configQuery,
  DEFAULT_WEB_CONFIG,
  PARAM_NAMES,
  parseConfig,
  type WebConfig,
} from "./config.ts";
import { type Baseline, LossChart, type Plotly } from "./loss_chart.ts";
import type { FromLadder, FromWorker, ToLadder, ToWorker } from "./protocol.ts";
import { Terminal } from "./terminal.ts";
import { attentionTables, h, traceTable } from "./views.ts";

const $ = <T extends HTMLElement>(selector: string) => document.querySelector<T>(selector)!;

const settings = $<HTMLFormElement>("#settings");
const sampling = $<HTMLFormElement>("#sampling");
const alertBox = $<HTMLDivElement>("#alert");
const status = $<HTMLParagraphElement>("#status");
const log = $<HTMLPreElement>("#log");
const stopButton = $<HTMLButtonElement>("#stop");
const sampleButton = $<HTMLButtonElement>("#sample");
const attentionButton = $<HTMLButtonElement>("#attention-button");
const link = $<HTMLAnchorElement>("#link");
const textArea = $<HTMLTextAreaElement>("#text");
const samplesList = $<HTMLOListElement>("#samples");
const traceBox = $<HTMLDivElement>("#trace");
const attentionBox = $<HTMLDivElement>("#attention");

const terminal = new Terminal();
const chart = new LossChart($("#chart"), loadPlotly());
const worker = new Worker(new URL("./worker.js", import.meta.url), { type: "module" });
const ladder = new Worker(new URL("./ladder_worker.js", import.meta.url), { type: "module" });
const names = fetchNames();

// What the page knows of the model in the worker.
const state = {
  training: false,
  hasModel: false,
  engine: DEFAULT_WEB_CONFIG.engine as WebConfig["engine"],
  numSteps: 0,
  step: 0,
  startedAt: 0,
  lastStatus: 0,
  /** What the page waits for after a request that replaces the model: until then, what the
   * worker says is about the model being replaced, and is dropped. */
  awaiting: null as "started" | "loaded" | null,
  /** The last loss-ladder request: an answer to an earlier one is stale. */
  ladderId: 0,
  /** The ladder request of the run starting, sent once it has trained a while (or is done). */
  ladderPending: null as ToLadder | null,
};

/** How long a run trains alone before the count models start beside it (they share the CPU). */
const LADDER_DELAY_MS = 1000;

function send(message: ToWorker, transfer: Transferable[] = []): void {
  worker.postMessage(message, transfer);
}

async function fetchNames(): Promise<string> {
  const response = await fetch("names.txt");
  if (!response.ok) {
    throw new Error(`Cannot load names.txt: the server answered ${response.status}`);
  }
  return await response.text();
}
names.catch(() => {}); // said when a run needs it

// plotly.js (1.2 MB) is fetched and run only once the worker has started: the page's code and
// names.txt arrive first, and while the page's one thread compiles plotly, the worker trains.
let plotlyLoaded: (plotly: Plotly) => void;
let plotlyFailed: (err: Error) => void;
function loadPlotly(): Promise<Plotly> {
  return new Promise((resolve, reject) => {
    plotlyLoaded = resolve;
    plotlyFailed = reject;
  });
}

function injectPlotly(): void {
  if (document.querySelector("#plotly-script")) return;
  const script = h("script", { id: "plotly-script", src: "plotly.js" });
  script.addEventListener("load", () => plotlyLoaded((globalThis as { Plotly?: Plotly }).Plotly!));
  script.addEventListener("error", () => plotlyFailed(new Error("Cannot load plotly.js")));
  document.head.append(script);
}

// A performance mark at a time the worker took (epoch ms): what the benchmark reads.
function mark(name: string, epochMs: number): void {
  performance.mark(name, { startTime: epochMs - performance.timeOrigin });
}

// ---- settings: the link, the form, the URL bar ----------------------------------------------

const initial = parseConfig(new URLSearchParams(location.search));
const startOnLoad = initial.config.run;
fillForms(initial.config);
showAlert(initial.errors.join("\n"));

function fillForms(config: WebConfig): void {
  for (const [key, name] of Object.entries(PARAM_NAMES)) {
    const value = config[key as keyof WebConfig];
    const fields = document.querySelectorAll<HTMLInputElement>(`[name="${name}"]`);
    for (const field of fields) {
      if (field.type === "radio") field.checked = field.value === String(value);
      else field.value = String(value);
    }
  }
}

// The settings the forms hold now, and the fields whose value cannot be used.
function readForms(): { config: WebConfig; errors: string[] } {
  const params = new URLSearchParams();
  for (const form of [settings, sampling]) {
    for (const [name, value] of new FormData(form)) {
      if (typeof value === "string" && name !== "data") params.set(name, value);
    }
  }
  const read = parseConfig(params);
  for (const field of document.querySelectorAll<HTMLInputElement>("input[name]")) {
    const bad = read.errors.some((e) => e.startsWith(`Cannot read the setting ${field.name}:`));
    field.setAttribute("aria-invalid", String(bad));
  }
  return { config: { ...read.config, run: startOnLoad }, errors: read.errors };
}

function syncLink(): void {
  const { config } = readForms();
  const query = configQuery(config);
  history.replaceState(null, "", query ? `?${query}` : location.pathname);
  link.href = `?${configQuery({ ...config, run: true })}`;
}

settings.addEventListener("input", syncLink);
sampling.addEventListener("input", syncLink);
syncLink();

const dataChoice = () => (settings.elements.namedItem("data") as RadioNodeList).value;

function showAlert(text: string): void {
  alertBox.textContent = text;
  alertBox.hidden = text === "";
}

// ---- training ------------------------------------------------------------------------------

settings.addEventListener("submit", (event) => {
  event.preventDefault();
  startTraining();
});

stopButton.addEventListener("click", () => send({ kind: "stop" }));

async function startTraining(): Promise<void> {
  const { config, errors } = readForms();
  if (errors.length > 0) {
    showAlert(errors.join("\n"));
    return;
  }
  showAlert("");
  let text: string;
  try {
    text = dataChoice() === "text" ? textArea.value : await names;
  } catch (err) {
    showAlert((err as Error).message);
    return;
  }
  state.awaiting = "started";
  state.engine = config.engine;
  state.training = true;
  state.step = 0;
  updateButtons();
  status.textContent = "Starting…";
  performance.mark("microgpt:train");
  send({ kind: "train", config, text });
  chart.setBaselines([]);
  const { seed, valSplit, blockSize } = config;
  state.ladderPending = { id: ++state.ladderId, text, seed, valSplit, blockSize };
}

function requestLadder(): void {
  if (state.ladderPending) ladder.postMessage(state.ladderPending);
  state.ladderPending = null;
}

// The data choice: the text box is for your own text; a file fills it.
$("#file").addEventListener("change", async (event) => {
  const file = (event.target as HTMLInputElement).files?.[0];
  if (!file) return;
  textArea.value = await file.text();
  (settings.querySelector<HTMLInputElement>('[name="data"][value="text"]'))!.checked = true;
});
textArea.addEventListener("input", () => {
  if (dataChoice() !== "text") {
    settings.querySelector<HTMLInputElement>('[name="data"][value="text"]')!.checked = true;
  }
});

// ---- sampling, trace, attention, checkpoints -----------------------------------------------

sampling.addEventListener("submit", (event) => {
  event.preventDefault();
  const { config, errors } = readForms();
  if (errors.length > 0) return showAlert(errors.join("\n"));
  showAlert("");
  send({
    kind: "sample",
    count: config.samples,
    temperature: config.temperature,
    prefix: config.prefix,
  });
});

samplesList.addEventListener("click", (event) => {
  const button = (event.target as HTMLElement).closest("button");
  if (!button) return;
  for (const other of samplesList.querySelectorAll("button")) {
    other.setAttribute("aria-pressed", String(other === button));
  }
  send({ kind: "trace", index: Number(button.dataset.index) });
});

$<HTMLFormElement>("#attention-form").addEventListener("submit", (event) => {
  event.preventDefault();
  showAlert("");
  send({ kind: "attention", text: $<HTMLInputElement>("#attention-text").value });
});

$("#checkpoint").addEventListener("change", async (event) => {
  const file = (event.target as HTMLInputElement).files?.[0];
  if (!file) return;
  const { config, errors } = readForms();
  if (errors.length > 0) return showAlert(errors.join("\n"));
  showAlert("");
  state.awaiting = "loaded";
  state.ladderId++;
  state.ladderPending = null;
  chart.setBaselines([]);
  const bytes = await file.arrayBuffer();
  send({
    kind: "checkpoint",
    bytes,
    name: file.name,
    engine: config.engine,
    count: config.samples,
    temperature: config.temperature,
    prefix: config.prefix,
  }, [bytes]);
});

// The request each awaited answer answers.
const REQUEST_OF: Record<string, ToWorker["kind"]> = { started: "train", loaded: "checkpoint" };

// ---- what the worker says ------------------------------------------------------------------

worker.addEventListener("message", (event: MessageEvent<FromWorker>) => {
  const message = event.data;
  if (message.kind === state.awaiting) {
    state.awaiting = null;
    clearOutputs();
  } else if (message.kind === "error" && message.request === REQUEST_OF[state.awaiting ?? ""]) {
    state.awaiting = null; // the request failed: nothing was replaced
  }
  if (state.awaiting && message.kind !== "ready") return; // about the model being replaced
  switch (message.kind) {
    case "out":
      terminal.write(message.text);
      scheduleLog();
      return;
    case "started":
      chart.reset(message.info);
      state.hasModel = true;
      state.numSteps = message.info.numSteps;
      state.startedAt = message.time;
      mark("microgpt:started", message.time);
      setTimeout(requestLadder, LADDER_DELAY_MS);
      updateButtons();
      return;
    case "ready":
      injectPlotly();
      return;
    case "progress":
      if (message.firstTime) mark("microgpt:first-step", message.firstTime);
      chart.addLosses(message.first, message.losses);
      state.step = message.first + message.losses.length - 1;
      showProgress(message.time);
      return;
    case "eval":
      chart.addEval(message.step, message.loss);
      return;
    case "trained": {
      state.training = false;
      state.step = message.step;
      mark("microgpt:trained", message.time);
      requestLadder();
      const seconds = formatSeconds(message.time - state.startedAt);
      status.textContent = message.stopped
        ? `Stopped after step ${message.step} of ${state.numSteps}.`
        : `Trained: ${message.step} steps in ${seconds} s with the ${state.engine} engine.`;
      updateButtons();
      return;
    }
    case "samples":
      showSamples(message.first, message.names);
      return;
    case "trace":
      traceBox.replaceChildren(traceTable(message.trace, {
        index: message.index + 1,
        temperature: message.temperature,
      }));
      return;
    case "attention":
      attentionBox.replaceChildren(
        h("p", {
          className: "hint",
          textContent: `“${message.text}”, read as ${message.maps.tokens.length} tokens ` +
            `(BOS first${
              message.maps.tokens.length <= message.text.length ? ", cut to the context" : ""
            }).`,
        }),
        attentionTables(message.maps),
      );
      return;
    case "loaded":
      chart.reset(message.info);
      state.hasModel = true;
      state.training = false;
      state.engine = readForms().config.engine;
      status.textContent = `Loaded ${message.name}: step ${message.step} of ` +
        `${message.info.numSteps}, ${message.info.numParams} parameters.`;
      updateButtons();
      return;
    case "error":
      if (message.request === "train") {
        state.ladderPending = null;
        state.training = false;
        status.textContent = "";
        updateButtons();
      }
      if (message.input) showAlert(message.message);
      else {
        showAlert(`Something went wrong in the page (a bug): ${message.message.split("\n")[0]}`);
        console.error(message.message);
      }
      return;
  }
});

// The loss ladder of the current run: uniform guessing, then counts of what follows 0 to 3
// characters, scored on held-out names.
ladder.addEventListener("message", (event: MessageEvent<FromLadder>) => {
  const { id, rungs, ownSplit, vocabSize, bug } = event.data;
  if (bug) {
    showAlert(`Something went wrong in the page (a bug): ${bug.split("\n")[0]}`);
    console.error(bug);
  }
  if (id !== state.ladderId) return;
  const baselines: Baseline[] = rungs.map((r) => ({
    name: r.n === 0 ? `uniform (ln ${vocabSize})` : `${r.name} counts`,
    loss: r.loss,
  }));
  chart.setBaselines(baselines);
  $("#ladder-note").textContent = rungs.length === 0
    ? "Too few names to fit and score the count models."
    : `The count models are fitted on the training names and scored on ${
      ownSplit ? "the last 10% of them, held out from the counting" : "the held-out names"
    }.`;
});

for (const w of [worker, ladder]) {
  w.addEventListener("error", (event) => {
    showAlert(`A worker failed: ${event.message}`);
    console.error(event.message);
  });
}

// Empties the log, the samples and the trace, for a new model.
function clearOutputs(): void {
  terminal.clear();
  renderLog();
  samplesList.replaceChildren();
  traceBox.replaceChildren();
  attentionBox.replaceChildren();
}

function updateButtons(): void {
  stopButton.disabled = !state.training;
  sampleButton.disabled = state.training || !state.hasModel;
  attentionButton.disabled = !state.hasModel;
}

// "0.13", "2.4", "75": seconds to two significant digits or whole.
const formatSeconds = (ms: number) => {
  const s = ms / 1000;
  return s < 10 ? s.toPrecision(2) : Math.round(s).toString();
};

function showProgress(time: number): void {
  const now = performance.now();
  if (now - state.lastStatus < 500) return;
  state.lastStatus = now;
  const seconds = (time - state.startedAt) / 1000;
  const rate = Math.round(state.step / Math.max(seconds, 1e-3)).toLocaleString("en-US");
  status.textContent = `Training with the ${state.engine} engine: step ${state.step} of ` +
    `${state.numSteps} (${rate} steps a second).`;
}

function showSamples(first: number, names: string[]): void {
  samplesList.replaceChildren(...names.map((name, i) =>
    h("li", {}, [
      h("button", {
        type: "button",
        textContent: name || "(empty)",
        title: `Show how sample ${first + i + 1} was drawn`,
      }, []),
    ])
  ));
  samplesList.querySelectorAll("button").forEach((button, i) => {
    button.dataset.index = String(first + i);
    button.setAttribute("aria-pressed", "false");
  });
}

let logPending = false;
function scheduleLog(): void {
  if (logPending) return;
  logPending = true;
  requestAnimationFrame(() => {
    logPending = false;
    renderLog();
  });
}

function renderLog(): void {
  const atBottom = log.scrollTop + log.clientHeight >= log.scrollHeight - 4;
  log.textContent = terminal.text;
  if (atBottom) log.scrollTop = log.scrollHeight;
}

updateButtons();
if (startOnLoad) startTraining();
