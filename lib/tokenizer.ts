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
    const chars = new Set(Array.from(docs).join("")); // a string iterates by code point
    return new Tokenizer([...chars].sort((a, b) => a.codePointAt(0)! - b.codePointAt(0)!));
  }

  /**
   * Token ids of a text, one per code point (no BOS).
   *
   * @param text Text made of the tokenizer's characters.
   * @returns The ids.
   */
  encode(text: string): number[] {
    return Array.from(text, (ch, index) => {
      const id = this.#ids.get(ch);
      if (id === undefined) {
        const code = ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0");
        throw new RangeError(
          `Cannot encode text: character ${JSON.stringify(ch)} (U+${code}) at index ${index} ` +
            "is not in the vocabulary; use a dataset that contains it",
        );
      }
      return id;
    });
  }

  /**
   * Text of token ids; BOS ids are dropped, since they stand for no character.
   *
   * @param ids Token ids below `vocabSize`.
   * @returns The text.
   */
  decode(ids: Iterable<number>): string {
    const chars = Array.from(ids).filter((id) => id !== this.BOS).map((id) => {
      const ch = this.uchars[id];
      if (ch === undefined) {
        throw new RangeError(`Cannot decode token ${id}: ids run from 0 to ${this.BOS} (BOS)`);
      }
      return ch;
    });
    return chars.join("");
  }
}
