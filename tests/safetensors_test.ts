// The safetensors layout: what is written (length, padded header, tensors in order), read back
// in pieces, and every way a header can be wrong, each with its reason; JSON nesting counted
// without recursion; values shown in messages never long.

import assert from "node:assert/strict";
import { join } from "node:path";
import { inTempDir } from "./_temp.ts";
import {
  checkHeader,
  encodeHeader,
  encodeSafetensors,
  jsonDepth,
  MAX_JSON_DEPTH,
  parseJsonChecked,
  SafetensorsFile,
  safetensorsPieces,
  show,
} from "@lib/io/safetensors.ts";

const tensors = [
  { name: "a", shape: [2, 3], data: Float64Array.from([1, 2, 3, 4, 5, -0.1]) },
  { name: "b", shape: [1], data: Float64Array.from([Math.PI]) },
];

Deno.test("encodeSafetensors() writes the length, a padded JSON header, then the raw f64 data", () => {
  const bytes = encodeSafetensors(tensors, { note: "é" });
  const view = new DataView(bytes.buffer);
  const n = Number(view.getBigUint64(0, true));
  assert.equal((8 + n) % 8, 0, "tensors start on an 8-byte boundary");
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
  assert.deepEqual(header, {
    __metadata__: { note: "é" },
    a: { dtype: "F64", shape: [2, 3], data_offsets: [0, 48] },
    b: { dtype: "F64", shape: [1], data_offsets: [48, 56] },
  });
  assert.equal(bytes.length, 8 + n + 56);
  assert.equal(view.getFloat64(8 + n + 5 * 8, true), -0.1);
  assert.equal(view.getFloat64(8 + n + 48, true), Math.PI);
  // The pieces a save streams are the same bytes.
  const pieces = [...safetensorsPieces(tensors, { note: "é" })];
  const joined = new Uint8Array(pieces.reduce((s, p) => s + p.length, 0));
  pieces.reduce((at, p) => (joined.set(p, at), at + p.length), 0);
  assert.deepEqual(joined, bytes);
  assert.throws(
    () => encodeHeader([{ name: "a", shape: [2], data: new Float64Array(3) }], {}),
    RangeError,
    "a has 3 values, shape [2]",
  );
});

Deno.test(
  "SafetensorsFile reads a header and then each tensor into its array",
  inTempDir(async (dir) => {
    const path = join(dir, "t.safetensors");
    await Deno.writeFile(path, encodeSafetensors(tensors, { k: "v" }));
    using file = await SafetensorsFile.open(
      await Deno.open(path),
      (await Deno.stat(path)).size,
    );
    assert.deepEqual(file.header.metadata, { k: "v" });
    assert.deepEqual(file.header.tensors.map((t) => t.name), ["a", "b"]);
    const b = new Float64Array(1);
    await file.readInto("b", b);
    const a = new Float64Array(6);
    await file.readInto("a", a);
    assert.deepEqual([a, b], [tensors[0]!.data, tensors[1]!.data]);
    await assert.rejects(() => file.readInto("a", new Float64Array(2)), RangeError);
  }),
);

Deno.test("checkHeader() refuses each layout error with its reason", () => {
  const t = (shape: number[], offsets: number[], dtype = "F64") => ({
    dtype,
    shape,
    data_offsets: offsets,
  });
  const cases: [unknown, number, RegExp][] = [
    [[1], 0, /the header is not a JSON object/],
    [{ __metadata__: [] }, 0, /__metadata__ is not an object/],
    [{ __metadata__: { a: 1 } }, 0, /__metadata__ value "a" is not a string/],
    [{ x: 5 }, 0, /tensor "x" is not an object/],
    [{ x: t([1], [0, 4], "F32") }, 4, /tensor "x" has dtype "F32"; only F64 is supported/],
    [{ x: t([-1], [0, 8]) }, 8, /shape that is not a list of non-negative integers/],
    [{ x: t([1], [0]) }, 8, /data_offsets that are not two non-negative integers/],
    [{ x: t([2], [0, 8]) }, 8, /\[0, 8\] for 8 bytes, its shape \[2\] needs 16/],
    [{ x: t([1], [8, 16]) }, 16, /tensor "x" starts at byte 8, not 0/],
    [
      { x: t([1], [0, 8]), y: t([1], [0, 8]) },
      8,
      /starts at byte 0, not 8 .*without gap or overlap/,
    ],
    [{ x: t([1], [0, 8]), y: t([1], [16, 24]) }, 24, /tensor "y" starts at byte 16, not 8/],
    [{ x: t([1], [0, 8]) }, 16, /the tensors end at byte 8 of the data, but the file has 16/],
    [{ x: t([1], [0, 8]) }, 4, /the tensors end at byte 8 of the data, but the file has 4/],
  ];
  for (const [header, dataBytes, message] of cases) {
    assert.throws(() => checkHeader(header, dataBytes), SyntaxError);
    assert.throws(() => checkHeader(header, dataBytes), message);
  }
  // Empty tensors and any order in the header are fine; the result is in file order.
  const ok = checkHeader({ y: t([1], [8, 16]), x: t([1, 1], [0, 8]), e: t([0], [16, 16]) }, 16);
  assert.deepEqual(ok.tensors.map((x) => x.name), ["x", "y", "e"]);
});

Deno.test(
  "SafetensorsFile.open() refuses a bad length, a header that is not JSON, and a short file",
  inTempDir(async (dir) => {
    const good = encodeSafetensors(tensors, {});
    const n = Number(new DataView(good.buffer).getBigUint64(0, true));
    const withLength = (length: bigint) => {
      const b = good.slice();
      new DataView(b.buffer).setBigUint64(0, length, true);
      return b;
    };
    const notUtf8 = good.slice();
    notUtf8[10] = 0xff;
    const deep = new TextEncoder().encode(`{"a":${"[".repeat(200)}${"]".repeat(200)}}`);
    const deepFile = new Uint8Array(8 + deep.length);
    new DataView(deepFile.buffer).setBigUint64(0, BigInt(deep.length), true);
    deepFile.set(deep, 8);
    const cases: [Uint8Array, RegExp][] = [
      [good.subarray(0, 5), /it has 5 bytes, fewer than a header needs/],
      [withLength(2n ** 63n), /header length \(9223372036854775808 bytes\) is more than the limit/],
      [withLength(BigInt(good.length)), /is more than the file holds \(truncated/],
      [notUtf8, /its header is not UTF-8 text/],
      [deepFile, /its header nests deeper than 64 levels \(corrupted\)/],
      [good.subarray(0, 8 + n + 10), /the tensors end at byte 56 of the data, but the file has 10/],
    ];
    for (const [bytes, message] of cases) {
      const path = join(dir, "bad");
      await Deno.writeFile(path, bytes);
      await assert.rejects(
        async () => SafetensorsFile.open(await Deno.open(path), bytes.length),
        message,
      );
    }
  }),
);

Deno.test("jsonDepth() counts nesting without recursion, strings aside", () => {
  assert.equal(jsonDepth('{"a": [1, {"b": "[[[["}]}', 10), 3);
  assert.equal(jsonDepth('"\\"[["', 10), 0);
  assert.equal(jsonDepth("[".repeat(1e6) + "]".repeat(1e6), 64), 65);
  assert.throws(
    () => parseJsonChecked("[".repeat(1e5) + "]".repeat(1e5), "it"),
    SyntaxError,
    `it nests deeper than ${MAX_JSON_DEPTH} levels (corrupted)`,
  );
  assert.throws(() => parseJsonChecked("{", "it"), SyntaxError, "it is not valid JSON");
  assert.deepEqual(parseJsonChecked('{"a":[[1]]}', "it"), { a: [[1]] });
});

Deno.test("show() keeps a value in a message short and never walks it", () => {
  assert.equal(show(9999), "9999");
  assert.equal(show("x"), '"x"');
  assert.equal(show(null), "null");
  assert.equal(show(undefined), "missing");
  assert.equal(show([[[[1]]]]), "a list");
  assert.equal(show({ a: 1 }), "an object");
  assert.equal(show("y".repeat(1e7)), `"${"y".repeat(40)}..." (10000000 characters)`);
});
