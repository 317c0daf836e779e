// Shared by the parity tests: where names.txt is, and whether a test may skip without it.

import { existsSync } from "node:fs";
import { DEFAULT_DATA_PATH } from "@lib/io/data.ts";

/** data/names.txt, which the parity tests need (CI copies it in; `deno task train` downloads it). */
export const NAMES_PATH = DEFAULT_DATA_PATH;

/**
 * Whether names.txt is present. Without it a parity test is ignored on a user's machine with a
 * message, but under CI (the `CI` variable set) that is an error: parity must run there.
 */
export function haveNames(): boolean {
  if (existsSync(NAMES_PATH)) return true;
  if (Deno.env.get("CI")) {
    throw new Error(`${NAMES_PATH} is missing: CI must copy ../shared/data/names.txt there`);
  }
  console.warn(`skipping: ${NAMES_PATH} is absent (run deno task train once to download it)`);
  return false;
}

/** Reads a JSON fixture from tests/fixtures. */
export function fixture<T>(name: string): T {
  return JSON.parse(Deno.readTextFileSync(new URL(`./fixtures/${name}`, import.meta.url)));
}
