// Two kinds of failure: a user's mistake (a bad flag, a missing or malformed file, a full disk)
// and a bug. The command line reports the first in one line and exits 2; anything else keeps
// its stack trace, because it is a bug to fix, not advice to give.

/**
 * An error in what the user gave (flags, files, data) or in the machine's state (a full disk, a
 * folder it may not write), thrown only where input is checked. Its message is the whole report,
 * in std's shape: `Cannot <action>: <what was wrong and what to do>`.
 *
 * @example
 * ```ts
 * import { UserError } from "@microgpt-ts/microgpt";
 * import assert from "node:assert/strict";
 *
 * const e = new UserError("Cannot parse flags: --steps needs a value");
 * assert.ok(e instanceof Error);
 * assert.equal(e.name, "UserError");
 * ```
 */
export class UserError extends Error {
  /**
   * Creates the error.
   *
   * @param message The one-line report.
   * @param options `cause`, the underlying error, if any.
   */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "UserError";
  }
}

/** The exit code for a user's mistake. */
export const EXIT_USAGE = 2;
/** The exit code for a bug (BSD's EX_SOFTWARE: an internal software error). */
export const EXIT_BUG = 70;
/**
 * The exit code when whoever reads standard output stops (`deno task train | head`): the
 * command stops quietly, with the code of a process ended by SIGPIPE (128 + 13).
 */
export const EXIT_CLOSED_PIPE = 141;
