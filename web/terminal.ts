// The page's log behaves as a terminal does with the command line's output: `\n` starts a line,
// `\r` returns to its start, and what follows overwrites it (the progress line counts up in
// place). So the log shows what `deno task train` leaves on a screen.

/**
 * Text written with `\n` and `\r`, as a terminal shows it.
 *
 * @example
 * ```ts
 * import { Terminal } from "./terminal.ts";
 * import assert from "node:assert/strict";
 *
 * const terminal = new Terminal();
 * terminal.write("num docs: 3\nstep  1 / 2 | loss 3.1\rstep  2 / 2 | loss 2.9\r");
 * terminal.write("\n--- inference ---\n");
 * assert.equal(terminal.text, "num docs: 3\nstep  2 / 2 | loss 2.9\n--- inference ---\n");
 * ```
 */
export class Terminal {
  #lines: string[] = [""];
  #column = 0;

  /**
   * Writes text at the cursor.
   *
   * @param text The text, with `\n` and `\r`.
   */
  write(text: string): void {
    for (const piece of text.split(/(\r|\n)/)) {
      if (piece === "\n") {
        this.#lines.push("");
        this.#column = 0;
      } else if (piece === "\r") {
        this.#column = 0;
      } else if (piece) {
        const last = this.#lines.length - 1;
        const line = this.#lines[last]!;
        this.#lines[last] = line.slice(0, this.#column) + piece +
          line.slice(this.#column + piece.length);
        this.#column += piece.length;
      }
    }
  }

  /** Clears the screen. */
  clear(): void {
    this.#lines = [""];
    this.#column = 0;
  }

  /** What the screen shows. */
  get text(): string {
    return this.#lines.join("\n");
  }
}
