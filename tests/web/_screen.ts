// Shared by the web tests: what a terminal shows of a program's output.

/**
 * What a terminal shows of text written to it: each `\r` returns to the start of its line and
 * what follows overwrites it, as the command line's progress line does.
 *
 * @param text The output.
 * @returns What stays on the screen.
 */
export function screen(text: string): string {
  return text.split("\n").map((line) =>
    line.split("\r").reduce((shown, piece) => piece + shown.slice(piece.length), "")
  ).join("\n");
}
