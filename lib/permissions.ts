// Least privilege for `deno task train`, `deno task sample` and `deno task eval`: this launcher reads the command
// line, works out exactly which files the run needs (the dataset and the checkpoint to read;
// the checkpoint, the --json file and, for the default dataset, data/ to write; the dataset's
// host, and only it, to download from) and runs lib/cli.ts with those permissions and no more.

import { dirname, join, resolve } from "node:path";
import { parseEvalFlags, parseFlags, parseSampleFlags } from "./flags.ts";
import { DEFAULT_DATA_PATH } from "./data.ts";

/**
 * V8 flags of the training process: a young generation that holds a whole step of the Value
 * engine's graph (~60,000 nodes), and `gc()`, so that lib/train.ts can collect it between steps,
 * when all of it is garbage.
 */
export const V8_FLAGS = "--v8-flags=--expose-gc,--max-semi-space-size=24";
/** The host names.txt is downloaded from. */
export const DATASET_HOST = "raw.githubusercontent.com";
const CLI = join(import.meta.dirname!, "cli.ts");

/**
 * The permission flags of a `train` or `sample` command line (unparseable flags get none: the
 * CLI then only prints its error).
 *
 * @param args The CLI's arguments (`sample` or `eval` first for those commands).
 * @param options `dataPathOf`, which reads the dataset path a checkpoint was trained on.
 * @returns Flags for `deno run`.
 */
export function permissionFlags(
  args: readonly string[],
  options: { dataPathOf?: (checkpoint: string) => string | null } = {},
): string[] {
  const read: string[] = [];
  const write: string[] = [];
  let net = false;
  // The dataset a run reads: the given file, or the default one, read or downloaded into data/.
  const dataset = (path: string | undefined) => {
    if (path !== undefined) {
      read.push(path);
    } else {
      read.push(dirname(DEFAULT_DATA_PATH));
      write.push(dirname(DEFAULT_DATA_PATH));
      net = true;
    }
  };
  try {
    if (args[0] === "sample") {
      const { checkpoint } = parseSampleFlags(args.slice(1));
      if (checkpoint) read.push(checkpoint);
    } else if (args[0] === "eval") {
      const { checkpoint, data } = parseEvalFlags(args.slice(1));
      if (checkpoint) {
        read.push(checkpoint);
        dataset(data ?? options.dataPathOf?.(checkpoint) ?? undefined);
      }
    } else {
      const flags = parseFlags(args);
      let data = flags.data;
      if (flags.load !== undefined) {
        read.push(flags.load);
        data ??= options.dataPathOf?.(flags.load) ?? undefined;
      }
      dataset(data);
      if (flags.save !== undefined) {
        // written atomically through PATH.tmp (files.ts); renaming needs both to read too
        read.push(flags.save, `${flags.save}.tmp`);
        write.push(flags.save, `${flags.save}.tmp`);
      }
      if (flags.json !== undefined) {
        read.push(flags.json, `${flags.json}.tmp`);
        write.push(flags.json, `${flags.json}.tmp`);
      }
    }
  } catch {
    // bad flags: the CLI reports them, with no permissions at all
  }
  const list = (paths: string[]) => paths.map((p) => resolve(p)).join(",");
  return [
    ...(read.length ? [`--allow-read=${list(read)}`] : []),
    ...(write.length ? [`--allow-write=${list(write)}`] : []),
    ...(net ? [`--allow-net=${DATASET_HOST}`] : []),
  ];
}

// The dataset path stored in a checkpoint, if it can be read.
function checkpointDataPath(path: string): string | null {
  try {
    return JSON.parse(Deno.readTextFileSync(path))?.train?.data?.path ?? null;
  } catch {
    return null; // the CLI reports a missing or broken checkpoint
  }
}

if (import.meta.main) {
  const flags = permissionFlags(Deno.args, { dataPathOf: checkpointDataPath });
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command("deno", {
      args: ["run", V8_FLAGS, ...flags, CLI, ...Deno.args],
      stdin: "inherit",
      stdout: "inherit",
      stderr: "inherit",
    }).spawn();
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
    console.error(
      "error: Cannot start the training process: no `deno` on PATH; install Deno " +
        "(npm i -g deno) or run through npx (npx -y deno@2.9.6 task train)",
    );
    Deno.exit(2);
  }
  const status = await child.status;
  Deno.exit(status.signal ? 130 : status.code);
}
