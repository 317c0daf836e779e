// Numbers as the reference prints them. microgpt.py formats the loss with Python's
// `f"{loss:.4f}"`, which rounds the exact binary value to nearest with ties to even; JavaScript's
// `toFixed` rounds exact ties up, so the two differ on numbers such as 0.03125.

/**
 * Formats like Python's `f"{x:.{digits}f}"`: the exact binary value rounded to nearest, ties
 * to even (JavaScript's `toFixed` rounds exact ties up).
 *
 * @param x The number.
 * @param digits Digits after the point.
 * @returns The text.
 *
 * @example
 * ```ts
 * import { formatFixed } from "@microgpt-ts/microgpt/io";
 * import assert from "node:assert/strict";
 *
 * assert.equal(formatFixed(3.3659669475848504, 4), "3.3660");
 * assert.equal(formatFixed(0.03125, 4), "0.0312"); // Python: ties to even; toFixed: "0.0313"
 * ```
 */
export function formatFixed(x: number, digits: number): string {
  const s = x.toFixed(digits);
  // An exact tie means x * 10^digits ends in .5: x is an odd multiple of 2^-(digits + 1).
  const t = Math.abs(x) * 2 ** (digits + 1);
  if (!Number.isSafeInteger(t) || t % 2 === 0) return s;
  const k = Math.floor(Math.abs(x) * 10 ** digits); // exact here: x has few binary digits
  if (k % 2 === 1) return s; // toFixed rounded up to the even neighbour already
  const text = String(k).padStart(digits + 1, "0");
  const sign = x < 0 ? "-" : "";
  const point = text.length - digits;
  return `${sign}${text.slice(0, point)}${digits > 0 ? "." : ""}${text.slice(point)}`;
}
