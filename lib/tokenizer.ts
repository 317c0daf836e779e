// The character-level tokenizer: every distinct character (Unicode code point) of the
// dataset becomes a token id, sorted by code point as Python sorts strings, and one extra id,
// BOS, marks where a document begins and ends.

/**
 * Maps text to token ids and back.
 *
 * @example
 * ```ts
 * import { Tokenizer } from "@microgpt-ts/microgpt/tokenizer";
 * import assert from "node:assert/strict";
 *
 * const tokenizer = Tokenizer.fromDocs(["emma", "olivia"]);
 * assert.deepEqual(tokenizer.uchars, ["a", "e", "i", "l", "m", "o", "v"]);
 * assert.equal(tokenizer.BOS, 7);
 * assert.equal(tokenizer.vocabSize, 8);
 * assert.deepEqual(tokenizer.encode("emma"), [1, 4, 4, 0]);
 * assert.equal(tokenizer.decode([1, 4, 4, 0]), "emma");
 * ```
 */
export class Tokenizer {
  /** The distinct characters, sorted by code point; a character's index is its token id. */
  readonly uchars: readonly string[];
  /** The Beginning Of Sequence token id: one past the last character's. */
  readonly BOS: number;
  /** Number of token ids: the characters plus BOS. */
  readonly vocabSize: number;
  #ids: Map<string, number>;

  /**
   * Creates a tokenizer over the given characters.
   *
   * @param uchars Distinct single code points, sorted by code point.
   */
  constructor(uchars: readonly string[]) {
    const ids = new Map<string, number>();
    uchars.forEach((ch, i) => {
      if (ids.has(ch) || [...ch].length !== 1) {
        throw new RangeError(
          `Cannot build tokenizer: character ${i} (${JSON.stringify(ch)}) is not a single ` +
            "distinct code point",
        );
      }
      if (i > 0 && uchars[i - 1]!.codePointAt(0)! > ch.codePointAt(0)!) {
        throw new RangeError(
          `Cannot build tokenizer: characters are not sorted by code point at index ${i}`,
        );
      }
      ids.set(ch, i);
    });
    this.uchars = [...uchars];
    this.#ids = ids;
    this.BOS = uchars.length;
    this.vocabSize = uchars.length + 1;
  }

  /**
   * Builds the vocabulary of a dataset: its distinct code points, sorted by code point.
   *
   * @param docs The documents.
   * @returns A tokenizer that can encode every document.
   */
  static fromDocs(docs: Iterable<string>): Tokenizer {
    const text = Array.from(docs).join("");
    const seen = new Set<number>();
    // The regular-expression engine does the scanning (names.txt: ~0.7 ms where a loop over
    // its 200,000 characters takes ~7 ms, cold): each search finds the next character not seen
    // yet, from just after the last one found, since everything before it is known. With the
    // `u` flag it reads code points as the string iterator does (a lone surrogate counts as
    // itself). A new expression per character found gets slower as the alphabet grows, so
    // past 100 characters a loop over the code units reads the rest.
    let from = 0;
    while (from < text.length && seen.size < 100) {
      const known = Array.from(seen, (code) => `\\u{${code.toString(16)}}`).join("");
      const unseen = new RegExp(`[^${known}]`, "gu");
      unseen.lastIndex = from;
      const match = unseen.exec(text);
      if (match === null) break;
      seen.add(match[0].codePointAt(0)!);
      from = unseen.lastIndex;
    }
    if (seen.size >= 100) addCodePoints(seen, text, from);
    const codes = [...seen].sort((a, b) => a - b);
    return new Tokenizer(codes.map((code) => String.fromCodePoint(code)));
  }

  /**
   * Token ids of a text, one per code point (no BOS).
   *
   * @param text Text made of the tokenizer's characters.
   * @returns The ids.
   */
  encode(text: string): number[] {
    const ids: number[] = [];
    let offset = 0;
    for (const ch of text) {
      const id = this.#ids.get(ch);
      if (id === undefined) {
        const code = ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0");
        throw new RangeError(
          `Cannot encode text: character ${JSON.stringify(ch)} (U+${code}) at index ${offset} ` +
            "is not in the vocabulary; use a dataset that contains it",
        );
      }
      ids.push(id);
      offset++;
    }
    return ids;
  }

  /**
   * Text of token ids; BOS ids are dropped, since they stand for no character.
   *
   * @param ids Token ids below `vocabSize`.
   * @returns The text.
   */
  decode(ids: Iterable<number>): string {
    let text = "";
    for (const id of ids) {
      if (id === this.BOS) continue;
      const ch = this.uchars[id];
      if (ch === undefined) {
        throw new RangeError(
          `Cannot decode token ${id}: ids run from 0 to ${this.BOS} (BOS)`,
        );
      }
      text += ch;
    }
    return text;
  }
}

// Adds the code points of text[from..] to `seen`, pairing surrogates as the string iterator
// does (a lone surrogate counts as itself). Numbers, not one-character strings: about half the
// time of `new Set(text)`, cold.
function addCodePoints(seen: Set<number>, text: string, from: number): void {
  let last = -1;
  for (let i = from; i < text.length; i++) {
    let code = text.charCodeAt(i);
    if (code >= 0xd800 && code <= 0xdbff && i + 1 < text.length) {
      const low = text.charCodeAt(i + 1);
      if (low >= 0xdc00 && low <= 0xdfff) {
        code = 0x10000 + ((code - 0xd800) << 10) + (low - 0xdc00);
        i++;
      }
    }
    if (code !== last) seen.add(code); // names repeat letters: skip the Set for a run
    last = code;
  }
}
