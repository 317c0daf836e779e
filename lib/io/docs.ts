// Documents from text, as microgpt.py reads them: lines, stripped as Python's str.strip() strips,
// blank ones dropped. No Deno API: the web page splits pasted text with it too.

// Python's str.isspace() characters: what str.strip() removes.
const PY_SPACE =
  "\t\n\v\f\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006" +
  "\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000";
const STRIP = new RegExp(`^[${PY_SPACE}]+|[${PY_SPACE}]+$`, "gu");
// Matches somewhere in \n-separated text if a line is blank or starts or ends with whitespace:
// a file without such lines (names.txt) is split and done, no loop over its lines.
const NEEDS_STRIPPING = new RegExp(`^$|^[${PY_SPACE}]|[${PY_SPACE}]$`, "mu");
const isPySpace = (code: number) =>
  code <= 0x20
    ? code === 0x20 || (code >= 0x09 && code <= 0x0d) || code >= 0x1c
    : code >= 0x85 && PY_SPACE.includes(String.fromCharCode(code));

/**
 * Splits text into documents as the reference does: lines (any of \n, \r\n, \r ends one),
 * stripped of surrounding whitespace as Python's `str.strip()` strips it, blank lines dropped.
 * A leading byte order mark is dropped too.
 *
 * @param text The file's text.
 * @returns The documents, in file order.
 *
 * @example
 * ```ts
 * import { parseDocs } from "@microgpt-ts/microgpt/io";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(parseDocs("\uFEFFemma\r\n  olivia \r\n\r\n\tava\n"), ["emma", "olivia", "ava"]);
 * ```
 */
export function parseDocs(text: string): string[] {
  if (text.startsWith("\uFEFF")) text = text.slice(1);
  const crlf = text.includes("\r");
  if (!crlf) {
    const body = text.endsWith("\n") ? text.slice(0, -1) : text;
    if (!NEEDS_STRIPPING.test(body)) return body.split("\n"); // cold, a loop costs ~5 ms
  }
  const docs: string[] = [];
  const lines = crlf ? text.split(/\r\n|\r|\n/) : text.split("\n");
  for (const line of lines) {
    // Most lines need no stripping: test the ends before running the regular expression.
    const clean = line.length > 0 && !isPySpace(line.charCodeAt(0)) &&
      !isPySpace(line.charCodeAt(line.length - 1));
    const doc = clean ? line : line.replace(STRIP, "");
    if (doc) docs.push(doc);
  }
  return docs;
}
