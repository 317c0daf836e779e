// lib/io/paths.ts against node:path (POSIX), on generated paths: roots, runs of separators, ".",
// "..", trailing separators and empty strings.

import assert from "node:assert/strict";
import { posix } from "node:path";
import { basename, dirname, join, resolve } from "@lib/io/paths.ts";
import { Random } from "@lib/random.ts";

const rng = new Random(5);
const pick = <T>(items: readonly T[]): T => items[Math.floor(rng.random() * items.length)]!;

function randomPath(): string {
  const parts = Array.from(
    { length: Math.floor(rng.random() * 6) },
    () => pick(["a", "bc", ".", "..", "...", "", "é名", " x"]),
  );
  const path = parts.map((part) => part + pick(["/", "/", "//"])).join("");
  return pick(["", "/", "//", "///"]) + (rng.random() < 0.5 ? path : path.slice(0, -1));
}

Deno.test({
  name: "paths.ts agrees with node:path on generated POSIX paths",
  ignore: Deno.build.os === "windows", // there they are node:path's own
  fn() {
    for (let i = 0; i < 3000; i++) {
      const path = randomPath();
      assert.equal(dirname(path), posix.dirname(path), `dirname(${JSON.stringify(path)})`);
      assert.equal(basename(path), posix.basename(path), `basename(${JSON.stringify(path)})`);
      const parts = Array.from({ length: Math.floor(rng.random() * 4) }, randomPath);
      const shown = JSON.stringify(parts);
      assert.equal(join(...parts), posix.join(...parts), `join(...${shown})`);
      assert.equal(resolve(...parts), posix.resolve(...parts), `resolve(...${shown})`);
    }
  },
});

Deno.test({
  name: "paths.ts: the cases lib/ relies on",
  ignore: Deno.build.os === "windows",
  fn() {
    assert.equal(join("/p/lib", "..", "data", "names.txt"), "/p/data/names.txt");
    assert.equal(dirname("/p/data/names.txt"), "/p/data");
    assert.equal(basename("/p/data/names.txt"), "names.txt");
    assert.equal(resolve("data"), `${Deno.cwd()}/data`);
    assert.equal(resolve("/p/./a/../b/"), "/p/b");
  },
});
