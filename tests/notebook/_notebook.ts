// Shared by the notebook tests: the notebook's shape as JSON, and what is missing to run it.

import { join } from "node:path";
import { existsSync } from "node:fs";
import { missingForPng } from "@lib/notebook/png.ts";
import { NAMES_PATH } from "../_names.ts";

export const ROOT = join(import.meta.dirname!, "..", "..");
export const NOTEBOOK = join(ROOT, "notebooks", "microgpt.ipynb");
const decoder = new TextDecoder();

export interface Output {
  output_type: string;
  name?: string;
  text?: string | string[];
  data?: Record<string, unknown>;
  ename?: string;
  evalue?: string;
}
export interface Cell {
  id: string;
  cell_type: string;
  source: string | string[];
  outputs?: Output[];
}
export interface Notebook {
  cells: Cell[];
}

export function sh(cmd: string, args: string[]): { ok: boolean; out: string } {
  try {
    const r = new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).outputSync();
    return { ok: r.success, out: decoder.decode(r.stdout) };
  } catch {
    return { ok: false, out: "" };
  }
}

// What is missing to run the notebook here, or null.
export function missingTooling(): string | null {
  // The notebook trains on names.txt; without it, it would fall back to other names.
  if (!existsSync(NAMES_PATH)) return "data/names.txt (run deno task train once to download it)";
  const specs = sh("jupyter", ["kernelspec", "list", "--json"]);
  if (!specs.ok) return "jupyter (apt-get install jupyter-client jupyter-nbconvert)";
  if (!JSON.parse(specs.out).kernelspecs?.deno) return "Deno's kernel (deno jupyter --install)";
  if (
    !sh("/usr/bin/python3", ["-c", "import nbclient"]).ok &&
    !sh("python3", ["-c", "import nbclient"]).ok
  ) {
    return "nbclient (apt-get install python3-nbclient)";
  }
  const png = missingForPng();
  if (png) return png;
  return null;
}

/** A notebook text field (a string or a list of lines) as one string. */
export const text = (t: string | string[] | undefined): string =>
  Array.isArray(t) ? t.join("") : t ?? "";

/**
 * What is missing to run the notebook here, or null; under CI a missing tool is an error.
 *
 * @param what What the tests are, for the message.
 * @param options `frontEnd`: the tests also need Jupyter Notebook's server.
 */
export function missingOrFail(
  what: string,
  options: { frontEnd?: boolean } = {},
): string | null {
  let missing = missingTooling();
  if (!missing && options.frontEnd && !sh("jupyter-notebook", ["--version"]).ok) {
    missing = "jupyter-notebook (apt-get install jupyter-notebook)";
  }
  if (missing && Deno.env.get("CI")) {
    throw new Error(`${what} must run in CI, but this is missing: ${missing}`);
  }
  if (missing) console.warn(`skipping ${what}: missing ${missing}`);
  return missing;
}
