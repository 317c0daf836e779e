// Least privilege for `deno task train`, `deno task sample` and `deno task eval`: this launcher
// reads the command line and works out exactly what the run needs (the dataset and the
// checkpoint to read; the checkpoint, the --json file and, for the default dataset, data/ to
// write; the dataset's host, and only it, to download from). The train task starts it with the
// default run's grant and the training process's V8 flags (DENO_V8_FLAGS, which a second process
// inherits; deno.json's train task is the one place they are written): a command line that needs no more
// runs right here, after the launcher drops what it does not need (one process, one V8 code
// cache). Anything else runs lib/cli/main.ts in a second process with exactly its permissions.

import { dirname, join, resolve } from "../io/paths.ts";
import { parseEvalFlags, parseFlags, parseSampleFlags } from "./flags.ts";
import { checkpointDataPath } from "./_checkpoint_data.ts";
import { DEFAULT_DATA_PATH } from "../io/data.ts";

/** The host names.txt is downloaded from. */
export const DATASET_HOST = "raw.githubusercontent.com";
const CLI = join(import.meta.dirname!, "main.ts");
const HELPER = join(import.meta.dirname!, "_checkpoint_data.ts");

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

// The dataset a checkpoint names: read directly where this process may, else by a helper
// process allowed to read that one file.
function dataPathOf(checkpoint: string): string | null {
  const path = resolve(checkpoint);
  if (Deno.permissions.querySync({ name: "read", path }).state === "granted") {
    return checkpointDataPath(path);
  }
  const { success, stdout } = new Deno.Command("deno", {
    args: ["run", `--allow-read=${path}`, HELPER, path],
    stdout: "piped",
    stderr: "null",
  }).outputSync();
  return success ? JSON.parse(new TextDecoder().decode(stdout)) : null;
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
 * Drops every permission kind `flags` does not ask for, and `run`: what remains is what the
 * command needs (the task grants the default run's paths, and {@linkcode holds} said they
 * cover it).
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
}

if (import.meta.main) {
  const flags = permissionFlags(Deno.args, { dataPathOf });
  if (holds(flags)) {
    // The common case, `deno task train` with the default dataset: this process was started
    // with exactly that grant (and the training process's V8 flags), so it runs the command
    // itself once it has dropped the right to start processes.
    dropTo(flags);
    const { main } = await import("./main.ts");
    Deno.exit(await main(Deno.args));
  }
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command("deno", {
      args: ["run", ...flags, CLI, ...Deno.args],
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
