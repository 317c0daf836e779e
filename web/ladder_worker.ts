// The count models' worker: the loss ladder for the chart (lib/ngram.ts: uniform guessing, then
// unigram, bigram, trigram and 4-gram counts, each smoothed with a k chosen on the training
// names), computed beside the training worker, because the second or two of counting would
// otherwise hold up its steps. It reads, shuffles and splits the same documents the same way
// (web/docs.ts), and scores the ladder on the run's held-out names; a run that holds none out
// gets a ladder fitted on the first 90% of its names and scored on the last 10%.

import { splitDocs } from "../lib/eval.ts";
import { lossLadder } from "../lib/ngram.ts";
import { Tokenizer } from "../lib/tokenizer.ts";
import { InputError } from "./config.ts";
import { parseDocs, shuffleDocs } from "./docs.ts";
import type { FromLadder, ToLadder } from "./protocol.ts";

// The parts of a dedicated worker's global scope used here.
interface WorkerScope {
  postMessage(message: FromLadder): void;
  addEventListener(type: "message", listener: (event: MessageEvent<ToLadder>) => void): void;
}
const scope = globalThis as unknown as WorkerScope;

/** The fraction a run without held-out names holds out for the ladder alone. */
const LADDER_SPLIT = 0.1;

scope.addEventListener("message", (event) => {
  const { id, text, seed, valSplit, blockSize } = event.data;
  try {
    const { docs, split } = shuffleDocs(parseDocs(text), { seed, valSplit });
    const ownSplit = split.val.length === 0;
    const scored = ownSplit ? splitDocs(docs, LADDER_SPLIT) : split;
    const tokenizer = Tokenizer.fromDocs(docs);
    let rungs: FromLadder["rungs"] = [];
    try {
      rungs = lossLadder(tokenizer, scored, { blockSize });
    } catch (err) {
      if (!(err instanceof RangeError)) throw err; // too few names to fit and score
    }
    scope.postMessage({ id, rungs, ownSplit, vocabSize: tokenizer.vocabSize });
  } catch (err) {
    if (err instanceof InputError) { // the training worker says it
      scope.postMessage({ id, rungs: [], ownSplit: false, vocabSize: 0 });
      return;
    }
    scope.postMessage({ id, rungs: [], ownSplit: false, vocabSize: 0, bug: String(err) });
  }
});
