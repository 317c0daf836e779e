import assert from "node:assert/strict";
import { Random } from "@lib/random.ts";
import { Tokenizer } from "@lib/tokenizer.ts";
import { parseDocs } from "@lib/io/data.ts";
import { fixture } from "./_names.ts";

Deno.test("Tokenizer.fromDocs() sorts characters by code point, as Python's sorted() does", () => {
  // UTF-16 order would put the emoji (surrogates D83E...) before U+FF21; code points do not.
  const tokenizer = Tokenizer.fromDocs(["zé", "Ａ", "🦕a", "é"]);
  assert.deepEqual(tokenizer.uchars, ["a", "z", "é", "Ａ", "🦕"]);
  assert.equal(tokenizer.BOS, 5);
  assert.equal(tokenizer.vocabSize, 6);
});

Deno.test("Tokenizer.encode() gives one id per code point and decode() inverts it", () => {
  const tokenizer = Tokenizer.fromDocs(["emma", "🦕deno", "李雷"]);
  const ids = tokenizer.encode("🦕李");
  assert.equal(ids.length, 2);
  assert.equal(tokenizer.decode(ids), "🦕李");
  assert.equal(
    tokenizer.decode([tokenizer.BOS, ...tokenizer.encode("emma"), tokenizer.BOS]),
    "emma",
  );
});

Deno.test("Tokenizer matches the reference's vocabulary on the Unicode dataset", () => {
  const text = Deno.readTextFileSync(new URL("./fixtures/unicode_names.txt", import.meta.url));
  const docs = parseDocs(text);
  const golden = fixture<{ num_docs: number; vocab_size: number }>(
    "microgpt_py_seed11_unicode.json",
  );
  const tokenizer = Tokenizer.fromDocs(docs);
  assert.equal(docs.length, golden.num_docs);
  assert.equal(tokenizer.vocabSize, golden.vocab_size);
  for (const doc of docs) assert.equal(tokenizer.decode(tokenizer.encode(doc)), doc);
});

Deno.test("Tokenizer.encode() names an unknown character and where it is", () => {
  const tokenizer = Tokenizer.fromDocs(["abc"]);
  assert.throws(
    () => tokenizer.encode("abx"),
    RangeError,
    'character "x" (U+0078) at index 2 is not in the vocabulary',
  );
  assert.throws(() => tokenizer.encode("a🦕"), /U\+1F995/);
});

Deno.test("Tokenizer.decode() rejects ids outside the vocabulary", () => {
  const tokenizer = Tokenizer.fromDocs(["ab"]);
  assert.throws(() => tokenizer.decode([0, 7]), RangeError, "Cannot decode token 7");
  assert.throws(() => tokenizer.decode([-1]), RangeError);
});

Deno.test("Tokenizer rejects characters that are unsorted, repeated or not single", () => {
  assert.throws(() => new Tokenizer(["b", "a"]), /not sorted/);
  assert.throws(() => new Tokenizer(["a", "a"]), /not a single distinct/);
  assert.throws(() => new Tokenizer(["ab"]), /not a single distinct/);
});

// The string iterator (what Python's set(str) sees, one code point at a time) and Python's
// code-point order are the reference, on generated text that mixes ASCII, characters a regular
// expression's class would escape, other scripts, surrogate pairs, lone surrogates, runs of one
// character, and (one case in ten) alphabets of hundreds of characters.
Deno.test("Tokenizer.fromDocs() finds the code points the string iterator finds, on generated text", () => {
  const rng = new Random(2026);
  const below = (n: number) => Math.floor(rng.random() * n);
  const pools = [
    [0x61, 0x7a], // a-z
    [0x3b1, 0x3c9], // Greek
    [0x4e00, 0x4e20], // CJK
    [0x1f600, 0x1f610], // emoji (surrogate pairs)
    [0xd800, 0xdbff], // lone high surrogates
    [0xdc00, 0xdfff], // lone low surrogates
    [0x5b, 0x5e], // [ \ ] ^, which mean something in a regular expression's class
    [0x2d, 0x2d], // -
    [0x4e00, 0x4fff], // many CJK characters: past the 100 that fromDocs() finds by regex
  ];
  for (let c = 0; c < 300; c++) {
    const long = c % 10 === 0; // with up to ~400 distinct characters
    const docs = Array.from({ length: 1 + below(long ? 60 : 6) }, () => {
      let doc = "";
      for (let i = below(12); i >= 0; i--) {
        const [lo, hi] = pools[below(pools.length)]!;
        const ch = String.fromCodePoint(lo! + below(hi! - lo! + 1));
        doc += ch.repeat(1 + below(3));
      }
      return doc;
    });
    const expected = [...new Set(docs.join(""))].sort((a, b) =>
      a.codePointAt(0)! - b.codePointAt(0)!
    );
    assert.deepEqual(Tokenizer.fromDocs(docs).uchars, expected, JSON.stringify(docs));
  }
  // a pair split between documents is one code point in the joined text, empty ones between
  assert.deepEqual(Tokenizer.fromDocs(["a\uD83D", "", "\uDE00b"]).uchars, ["a", "b", "😀"]);
  assert.deepEqual(Tokenizer.fromDocs(["a\uD83D", "b"]).uchars, ["a", "b", "\uD83D"]);
});
