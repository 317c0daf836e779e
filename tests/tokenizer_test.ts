import assert from "node:assert/strict";
import { Tokenizer } from "@lib/tokenizer.ts";
import { parseDocs } from "@lib/data.ts";
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
