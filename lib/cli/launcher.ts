// Least privilege for `deno task train`, `deno task sample` and `deno task eval`: this launcher
// reads the command line and works out exactly what the run needs (the dataset and the
// checkpoint to read; the checkpoint and the --json file, with their temporary and lock files,
// to write; for the default dataset, data/ to read and write and its host, and only it, to
// download from). The train task starts it with the default run's grant and the training
// process's V8 flags (DENO_V8_FLAGS, which a second process inherits; deno.json's train task is
// the one place they are written): a command line that needs no more runs right here, after
// the launcher drops what it does not need (one process, one V8 code cache). Anything else runs
// lib/cli/main.ts in a second process with exactly its permissions; the launcher passes SIGINT
// and SIGTERM on to it, exits with its status, and says so when the system killed it. So does a
// Value-engine run whose step's graph outgrows the task's young generation: its process gets a
// larger one (the one V8 flag it overrides; the others it inherits).
//
// `deno task` runs in the project's folder; the folder the user ran it from is INIT_CWD, and
// every path on the command line is made absolute against it before anything else.

import { join, resolve } from "../io/paths.ts";
import { absolutePaths, parseEvalFlags, parseFlags, parseSampleFlags } from "./flags.ts";
import { semiSpaceMiB } from "./limits.ts";
import { DEFAULT_DATA_PATH } from "../io/data.ts";
import { UserError } from "../io/errors.ts";
import { lockPathOf, newTempToken, tempPathOf } from "../io/files.ts";

/** The host names.txt is downloaded from. */
export const DATASET_HOST = "raw.githubusercontent.com";
/** The variable through which the launcher names the training process's temporary files. */
export const TEMP_TOKEN_VARIABLE = "MICROGPT_TEMP_TOKEN";
const CLI = join(import.meta.dirname!, "main.ts");

// Refuses a path Deno's `--allow-read=a,b` list cannot express: it splits at every comma (and
// has no escape), and a NUL cannot be passed to a process at all.
function grantable(path: string): string {
  const bad = path.includes(",") ? "a comma" : path.includes("\0") ? "a NUL character" : "";
  if (bad) {
    throw new UserError(
      `Cannot grant access to ${JSON.stringify(path)}: the path contains ${bad}, which ` +
        "Deno's permission flags cannot express; rename it or run `deno run -A " +
        "lib/cli/main.ts` with the same flags",
    );
  }
  return path;
}

/**
 * The permission flags of a `train`, `sample` or `eval` command line (unparseable flags get
 * none: the CLI then only prints its error). The data a run reads is the one its command line
 * names (or the default dataset), never one a checkpoint names.
 *
 * @param args The CLI's arguments, paths absolute (`sample` or `eval` first for those commands).
 * @param options `token`, the one that names the training process's temporary files.
 * @returns Flags for `deno run`.
 * @throws {UserError} For a path the flags cannot express (a comma).
 */
export function permissionFlags(
  args: readonly string[],
  options: { token?: string } = {},
): string[] {
  const read: string[] = [];
  const write: string[] = [];
  let net = false;
  let env = false;
  // The dataset a run reads: the given file, or the default one, read or downloaded into data/.
  const dataset = (path: string | undefined) => {
    if (path !== undefined) {
      read.push(path);
    } else {
      read.push(resolve(DEFAULT_DATA_PATH, ".."));
      write.push(resolve(DEFAULT_DATA_PATH, ".."));
      net = true;
    }
  };
  // An output, written atomically through its temporary file and claimed by its lock file.
  const output = (path: string) => {
    const files = [path, tempPathOf(path, options.token), lockPathOf(path)];
    read.push(...files); // renaming, and reading the lock's process id, need read access too
    write.push(...files);
    env = true;
  };
  try {
    if (args[0] === "sample") {
      const { checkpoint } = parseSampleFlags(args.slice(1));
      if (checkpoint) read.push(checkpoint);
    } else if (args[0] === "eval") {
      const { checkpoint, data } = parseEvalFlags(args.slice(1));
      if (checkpoint) {
        read.push(checkpoint);
        dataset(data);
      }
    } else {
      const flags = parseFlags(args);
      if (flags.load !== undefined) read.push(flags.load);
      dataset(flags.data);
      if (flags.save !== undefined) output(flags.save);
      if (flags.json !== undefined) output(flags.json);
    }
  } catch {
    // bad flags: the CLI reports them, with no permissions at all
    return [];
  }
  const list = (paths: string[]) => [...new Set(paths.map((p) => grantable(resolve(p))))].join(",");
  return [
    ...(read.length ? [`--allow-read=${list(read)}`] : []),
    ...(write.length ? [`--allow-write=${list(write)}`] : []),
    ...(net ? [`--allow-net=${DATASET_HOST}`] : []),
    ...(env ? [`--allow-env=${TEMP_TOKEN_VARIABLE}`] : []),
  ];
}

/**
 * Whether this process already holds every permission in `flags` (as built by
 * {@linkcode permissionFlags}): then the command can run here, without a second process.
 *
 * @param flags `--allow-read=...`, `--allow-write=...` and `--allow-net=...` flags.
 * @returns True if each path and host is granted.
 */
export function holds(flags: readonly string[]): boolean {
  return flags.every((flag) => {
    const [, name, list] = flag.match(/^--allow-(read|write|net)=(.*)$/) ?? [];
    if (!name || list === undefined) return false;
    return list.split(",").every((item) => {
      const descriptor: Deno.PermissionDescriptor = name === "net"
        ? { name: "net", host: item }
        : { name: name as "read" | "write", path: item };
      return Deno.permissions.querySync(descriptor).state === "granted";
    });
  });
}

/**
 * Drops every permission kind `flags` does not ask for, and `run` and `env`: what remains is
 * what the command needs (the task grants the default run's paths, and {@linkcode holds} said
 * they cover it).
 *
 * @param flags The command's permission flags.
 */
export function dropTo(flags: readonly string[]): void {
  for (const name of ["read", "write", "net"] as const) {
    if (!flags.some((flag) => flag.startsWith(`--allow-${name}=`))) {
      Deno.permissions.revokeSync({ name });
    }
  }
  Deno.permissions.revokeSync({ name: "run" });
  Deno.permissions.revokeSync({ name: "env" });
}

/** V8's semi-space ceiling when its flags set none, in MiB (64-bit V8's default). */
export const V8_SEMI_SPACE_MIB = 16;
/** The vocabulary the launcher sizes a graph for: the default dataset's 27 tokens. */
const NAMES_VOCAB_SIZE = 27;

/**
 * The V8 flags a command line needs beyond the task's: for a Value-engine training run whose
 * largest step's graph is larger than the young generation `v8Flags` set up, a larger one
 * ({@linkcode semiSpaceMiB}); V8 takes the last value given, so the task's other flags hold.
 * The graph is sized for the context (`--block-size`) and the default dataset's vocabulary; a
 * resumed run (`--load`), whose shape the checkpoint holds, keeps the task's flags.
 *
 * @param args The CLI's arguments.
 * @param v8Flags The task's V8 flags (DENO_V8_FLAGS), if known.
 * @returns Flags for `deno run`: none, or `--v8-flags=--max-semi-space-size=N`.
 *
 * @example
 * ```ts
 * import { v8FlagsFor } from "@lib/cli/launcher.ts";
 * import assert from "node:assert/strict";
 *
 * const task = "--expose-gc,--max-semi-space-size=24,--minor-ms";
 * assert.deepEqual(v8FlagsFor([], task), []); // the default run fits
 * assert.deepEqual(v8FlagsFor(["--n-layer", "2", "--n-embd", "32"], task), [
 *   "--v8-flags=--max-semi-space-size=128",
 * ]);
 * assert.deepEqual(v8FlagsFor(["--n-layer", "2", "--n-embd", "32", "--engine", "fast"], task), []);
 * ```
 */
export function v8FlagsFor(args: readonly string[], v8Flags?: string): string[] {
  if (args[0] === "sample" || args[0] === "eval") return [];
  let options;
  try {
    options = parseFlags(args);
  } catch {
    return []; // the CLI reports them
  }
  if (options.engine !== "value" || options.load !== undefined) return [];
  const { nLayer, nEmbd, nHead, blockSize } = options;
  const config = { vocabSize: NAMES_VOCAB_SIZE, nLayer, nEmbd, nHead, blockSize, initStd: 0 };
  const need = semiSpaceMiB(config, blockSize);
  const set = [...(v8Flags ?? "").matchAll(/--max[-_]semi[-_]space[-_]size[= ](\d+)/g)].at(-1);
  const has = set ? Number(set[1]) : V8_SEMI_SPACE_MIB;
  return need > has ? [`--v8-flags=--max-semi-space-size=${need}`] : [];
}

// Signal numbers, for the shell's exit code of a process a signal ended (128 + n).
const SIGNAL_NUMBERS: Record<string, number> = {
  SIGHUP: 1,
  SIGINT: 2,
  SIGQUIT: 3,
  SIGILL: 4,
  SIGTRAP: 5,
  SIGABRT: 6,
  SIGBUS: 7,
  SIGKILL: 9,
  SIGSEGV: 11,
  SIGPIPE: 13,
  SIGTERM: 15,
};

/**
 * How the launcher ends when its training process ended: the process's own code, or for a
 * process a signal ended, the shell's code (128 + the signal's number) and, unless the user
 * sent it (SIGINT, SIGTERM), one line saying what happened.
 *
 * @param status The training process's status.
 * @returns The exit code and the line for stderr, if any.
 *
 * @example
 * ```ts
 * import { exitOf } from "@lib/cli/launcher.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(exitOf({ success: false, code: 137, signal: "SIGKILL" }), {
 *   code: 137,
 *   message: "error: the training process was killed (SIGKILL), likely out of memory",
 * });
 * // V8 out of its heap traps
 * assert.deepEqual(exitOf({ success: false, code: 133, signal: "SIGTRAP" }), {
 *   code: 133,
 *   message: "error: the training process crashed (SIGTRAP), likely out of memory",
 * });
 * assert.deepEqual(exitOf({ success: false, code: 130, signal: "SIGINT" }), { code: 130 });
 * assert.deepEqual(exitOf({ success: false, code: 2, signal: null }), { code: 2 });
 * ```
 */
export function exitOf(status: Deno.CommandStatus): { code: number; message?: string } {
  const { signal } = status;
  if (!signal) return { code: status.code };
  const code = 128 + (SIGNAL_NUMBERS[signal] ?? 0);
  if (signal === "SIGINT" || signal === "SIGTERM" || signal === "SIGPIPE") return { code };
  const why = signal === "SIGKILL"
    ? "was killed (SIGKILL), likely out of memory"
    : `crashed (${signal})${
      signal === "SIGTRAP" || signal === "SIGABRT" ? ", likely out of memory" : ""
    }`;
  return { code, message: `error: the training process ${why}` };
}

// The folder the user ran the task from: INIT_CWD, which `deno task` sets, or this one.
function userCwd(): string {
  const state = Deno.permissions.querySync({ name: "env", variable: "INIT_CWD" }).state;
  const init = state === "granted" ? Deno.env.get("INIT_CWD") : undefined;
  return init || Deno.cwd();
}

// The V8 flags the task started this process with, where it may read them.
function taskV8Flags(): string | undefined {
  const variable = "DENO_V8_FLAGS";
  const state = Deno.permissions.querySync({ name: "env", variable }).state;
  return state === "granted" ? Deno.env.get(variable) : undefined;
}

if (import.meta.main) {
  const args = absolutePaths(Deno.args, userCwd());
  const token = newTempToken();
  let flags: string[];
  try {
    flags = permissionFlags(args, { token });
  } catch (err) {
    if (!(err instanceof UserError)) throw err;
    console.error(`error: ${err.message}`);
    Deno.exit(2);
  }
  const v8Flags = v8FlagsFor(args, taskV8Flags());
  if (holds(flags) && v8Flags.length === 0) {
    // The common case, `deno task train` with the default dataset: this process was started
    // with exactly that grant (and the training process's V8 flags), so it runs the command
    // itself once it has dropped the right to start processes.
    dropTo(flags);
    const { main } = await import("./main.ts");
    Deno.exit(await main(args));
  }
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command("deno", {
      args: ["run", ...v8Flags, ...flags, CLI, ...args],
      env: { [TEMP_TOKEN_VARIABLE]: token },
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
  // SIGINT and SIGTERM go on to the training process, which removes what it was writing and
  // ends; the launcher ends with it.
  const signals: Deno.Signal[] = Deno.build.os === "windows" ? ["SIGINT"] : ["SIGINT", "SIGTERM"];
  for (const signal of signals) {
    Deno.addSignalListener(signal, () => {
      try {
        child.kill(signal);
      } catch {
        // already ended
      }
    });
  }
  const { code, message } = exitOf(await child.status);
  if (message) console.error(message);
  Deno.exit(code);
}
