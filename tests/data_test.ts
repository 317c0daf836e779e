import assert from "node:assert/strict";
import { inTempDir } from "./_temp.ts";
import { join } from "node:path";
import {
  decodeDocs,
  downloadDataset,
  fallbackNames,
  loadDataset,
  parseDocs,
  readDocs,
} from "@lib/io/data.ts";
import { UserError } from "@lib/io/errors.ts";
import { Random } from "@lib/random.ts";

const encoder = new TextEncoder();

// A fetch that answers every request with the given bytes and status.
function fakeFetch(body: string, status = 200): typeof fetch {
  return () => Promise.resolve(new Response(body, { status }));
}

async function sha256(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", encoder.encode(text));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

Deno.test("parseDocs() strips lines like Python's str.strip() and drops blank ones", () => {
  assert.deepEqual(parseDocs("a\nb\r\nc\rd"), ["a", "b", "c", "d"]);
  assert.deepEqual(parseDocs("\u00a0x\u3000\n\x1c\x1fy\x85\n \t\n"), ["x", "y"]);
  // Python's strip() keeps these, so the reference keeps them too.
  assert.deepEqual(parseDocs("\u200bz\u200b"), ["\u200bz\u200b"]);
  assert.deepEqual(parseDocs("mary ann\n"), ["mary ann"]);
  assert.deepEqual(parseDocs("\uFEFFemma\n"), ["emma"]);
  assert.deepEqual(parseDocs(""), []);
});

// parseDocs() splits clean text without looking at each line; on generated text (lines with
// and without whitespace at either end, blank lines, Unicode line and paragraph separators,
// with and without a final newline) it must give what line-by-line stripping gives.
Deno.test("parseDocs() agrees with line-by-line stripping on generated text", () => {
  // Python's str.isspace() characters, written out independently of lib/io/data.ts
  const space = "\t\n\v\f\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u200a\u2028\u2029\u202f\u3000";
  const strip = new RegExp(`^[${space}]+|[${space}]+$`, "gu");
  const expected = (text: string) =>
    text.replace(/^\uFEFF/, "").split(/\r\n|\r|\n/).map((l) => l.replace(strip, "")).filter(
      (l) => l !== "",
    );
  const rng = new Random(7);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rng.random() * xs.length)]!;
  const pieces = [
    "ab",
    "x",
    "mary ann",
    "é",
    "🦕",
    "\u200b",
    " ",
    "\t",
    "\u2028",
    "\u3000",
    "\x85",
  ];
  let fast = 0;
  for (let c = 0; c < 500; c++) {
    const lines = Array.from({ length: Math.floor(rng.random() * 6) }, () => {
      if (rng.random() < 0.6) return `${pick(["ab", "emma", "é"])}${pick(["", "o", "\u2028z"])}`;
      return Array.from({ length: Math.floor(rng.random() * 4) }, () => pick(pieces)).join("");
    });
    const text = lines.join(pick(["\n", "\n", "\n", "\r\n"])) + pick(["", "\n"]);
    if (!text.includes("\r") && lines.every((l) => l !== "" && l === l.replace(strip, ""))) fast++;
    assert.deepEqual(parseDocs(text), expected(text), JSON.stringify(text));
  }
  assert.ok(fast >= 50, `only ${fast} texts needed no stripping`);
});

Deno.test("decodeDocs() refuses binary data, invalid UTF-8 and empty files, saying where", () => {
  assert.throws(
    () => decodeDocs(new Uint8Array([0x61, 0x0a, 0x00, 0x62]), "x.bin"),
    UserError,
    "Cannot read dataset x.bin: it looks binary (a NUL byte at offset 2)",
  );
  const bad = new Uint8Array([...encoder.encode("emma\nolivia\n"), 0xff, 0x61]);
  assert.throws(() => decodeDocs(bad, "bad.txt"), /invalid UTF-8 near byte 1[0-2]/);
  assert.throws(() => decodeDocs(encoder.encode(" \n\r\n\t"), "blank.txt"), /no documents/);
  assert.throws(() => decodeDocs(new Uint8Array(), "empty.txt"), /no documents/);
  assert.deepEqual(decodeDocs(encoder.encode("\uFEFFzoë\r\n"), "bom.txt"), ["zoë"]);
});

Deno.test(
  "readDocs() names a missing file and a directory",
  inTempDir(async (dir) => {
    await assert.rejects(() => readDocs(join(dir, "nope.txt")), /nope.txt: no such file/);
    await assert.rejects(() => readDocs(dir), /it is a folder, not a regular file/);
  }),
);

Deno.test(
  "downloadDataset() verifies the SHA-256 and writes atomically",
  inTempDir(async (dir) => {
    const path = join(dir, "sub", "names.txt");
    const text = "emma\nolivia\n";
    const hash = await sha256(text);
    await downloadDataset(path, { fetch: fakeFetch(text), sha256: hash });
    assert.equal(await Deno.readTextFile(path), text);

    // A corrupt download leaves the good file alone and no temporary file behind.
    await assert.rejects(
      () => downloadDataset(path, { fetch: fakeFetch("evil\n"), sha256: hash }),
      /has SHA-256 [0-9a-f]{64}, expected/,
    );
    await assert.rejects(
      () => downloadDataset(path, { fetch: fakeFetch("gone", 404), sha256: hash }),
      /answered 404/,
    );
    assert.equal(await Deno.readTextFile(path), text);
    assert.deepEqual([...Deno.readDirSync(join(dir, "sub"))].map((e) => e.name), ["names.txt"]);
  }),
);

Deno.test("fallbackNames() lists lowercased first names from the npm datasets", async () => {
  const names = await fallbackNames();
  assert.ok(names.length > 8000, `${names.length}`);
  assert.ok(names.includes("emma") && names.includes("aaron"));
  assert.equal(new Set(names).size, names.length);
  assert.ok(names.every((n) => n === n.toLowerCase() && n.trim() === n && n.length > 0));
});

Deno.test("loadDataset() falls back to the offline names when the download fails", async () => {
  const warnings: string[] = [];
  const result = await loadDataset(undefined, {
    warn: (m) => warnings.push(m),
    fetch: () => Promise.reject(new TypeError("network unreachable")),
    // a path that cannot exist, so the test never touches the real data/names.txt
    url: "https://example.invalid/names.txt",
  }).catch((e) => e);
  if (result instanceof Error) throw result;
  // With data/names.txt present the file is used; without it, the stand-in.
  if (result.source === "file") {
    assert.equal(warnings.length, 0);
  } else {
    assert.equal(result.source, "fallback");
    assert.match(warnings.join("\n"), /could not download names.txt \(network unreachable\)/);
    assert.ok(result.docs.length > 8000);
  }
});

Deno.test(
  "loadDataset() with an explicit path reads that file and never downloads",
  inTempDir(async (dir) => {
    const path = join(dir, "mine.txt");
    await Deno.writeTextFile(path, "ana\nbo\n");
    let fetched = false;
    const result = await loadDataset(path, {
      fetch: () => {
        fetched = true;
        return Promise.reject(new Error("no"));
      },
    });
    assert.deepEqual(result, { docs: ["ana", "bo"], source: "file", path });
    assert.equal(fetched, false);
    await assert.rejects(() => loadDataset(join(dir, "missing.txt")), /no such file/);
  }),
);

// Finding 6: a valid 600 MB text was reported as having "no documents".
Deno.test("decodeDocs() says a text too long for a string is too large, not empty", () => {
  const bytes = new Uint8Array(2 ** 29 - 10).fill(0x61); // past V8's longest string, 2^29 - 24
  assert.throws(
    () => decodeDocs(bytes, "big.txt"),
    (e: Error) =>
      e instanceof UserError &&
      e.message === "Cannot read dataset big.txt: it is too large to decode as text " +
          "(536870902 bytes); give a smaller file",
  );
});
