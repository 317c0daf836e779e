// The package (deno.json's name and exports): what lib/mod.ts offers, that it imports from
// outside this project, and that README's "Use it as a library" example runs and matches the
// reference. `deno task package` (doc lint, publish dry run) runs in CI beside these.

import assert from "node:assert/strict";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import * as mod from "@lib/mod.ts";
import { fixture, haveNames } from "./_names.ts";
import { inTempDir } from "./_temp.ts";

const ROOT = join(import.meta.dirname!, "..");
const config = JSON.parse(Deno.readTextFileSync(join(ROOT, "deno.json")));
const decoder = new TextDecoder();

async function denoRun(file: string, cwd: string): Promise<string> {
  const { success, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-read", "--allow-env", file],
    cwd,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.ok(success, decoder.decode(stderr));
  return decoder.decode(stdout);
}

Deno.test("deno.json names the package and maps every export to a lib/ file", () => {
  assert.match(config.name, /^@[a-z0-9-]+\/microgpt$/);
  assert.match(config.version, /^\d+\.\d+\.\d+$/);
  assert.equal(config.exports["."], "./lib/mod.ts");
  for (const [subpath, file] of Object.entries<string>(config.exports)) {
    assert.ok(Deno.statSync(join(ROOT, file)).isFile, `${subpath} -> ${file}`);
    if (subpath !== ".") assert.equal(`./lib/${subpath.slice(2)}.ts`, file);
  }
});

Deno.test("lib/mod.ts offers every subpath's API and nothing internal", async () => {
  const offered = new Set(Object.keys(mod));
  for (const [subpath, file] of Object.entries<string>(config.exports)) {
    if (subpath === ".") continue;
    const names = Object.keys(await import(pathToFileURL(join(ROOT, file)).href));
    assert.deepEqual(names.filter((n) => !offered.has(n)), [], `${subpath} not all in mod.ts`);
  }
  for (
    const internal of ["main", "parseFlags", "sourceOf", "writeFileAtomic", "DENO_FS", "EXIT_USAGE"]
  ) {
    assert.ok(!offered.has(internal), `${internal} is internal`);
  }
  for (
    const api of [
      "Value",
      "Random",
      "Tokenizer",
      "createGpt",
      "Adam",
      "trainStep",
      "sample",
      "FastGpt",
      "evaluate",
      "loadDataset",
      "UserError",
      "lineChart",
      "show",
    ]
  ) {
    assert.ok(offered.has(api), `${api} missing`);
  }
});

Deno.test(
  "lib/mod.ts imports by path from a folder with no deno.json of ours",
  inTempDir(async (dir) => {
    const script = join(dir, "use.ts");
    await Deno.writeTextFile(
      script,
      `import { sum, Value } from "${pathToFileURL(join(ROOT, "lib", "mod.ts")).href}";\n` +
        `const x = new Value(2);\nconst y = sum([x.mul(x), x]);\ny.backward();\n` +
        `console.log(y.data, x.grad);\n`,
    );
    assert.equal(await denoRun(script, dir), "6 5\n");
  }),
);

Deno.test({
  name: "README's library example trains and samples as microgpt.py does",
  ignore: !haveNames(),
  fn: async () => {
    const readme = await Deno.readTextFile(join(ROOT, "README.md"));
    const section = readme.slice(readme.indexOf("## Use it as a library"));
    const code = section.match(/```ts\n([\s\S]*?)```/)![1]!;
    assert.ok(
      code.trim().split("\n").length <= 13,
      "the example stays short: ten lines and an import",
    );
    // Run from the project, where the package's name resolves to lib/.
    const script = join(ROOT, `.readme_example_${Deno.pid}.ts`);
    await Deno.writeTextFile(script, code);
    let out: string;
    try {
      out = await denoRun(script, ROOT);
    } finally {
      await Deno.remove(script);
    }
    const golden = fixture<{ losses: string[]; samples: string[] }>("microgpt_py_seed42.json");
    const expected = Array.from(
      { length: 10 },
      (_, i) =>
        `step ${(i + 1) * 100} | loss ${Number(golden.losses[(i + 1) * 100 - 1]).toFixed(4)}`,
    );
    assert.deepEqual(out.trimEnd().split("\n"), [...expected, golden.samples[0]]);
  },
});

// Published on JSR, modules load from https URLs, where import.meta.dirname is undefined:
// nothing may need it at import time. Served over local HTTP, lib/ stands in for that.
Deno.test(
  "lib/mod.ts loads from an http URL (as from JSR) and keeps names.txt under the working directory",
  inTempDir(async (dir) => {
    const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
      const file = join(ROOT, "lib", new URL(req.url).pathname.replace(/^\/lib\//, ""));
      return await Deno.readFile(file).then(
        (body) => new Response(body, { headers: { "content-type": "application/typescript" } }),
        () => new Response("not found", { status: 404 }),
      );
    });
    try {
      const host = `127.0.0.1:${server.addr.port}`;
      const script = join(dir, "remote.ts");
      await Deno.writeTextFile(
        script,
        `const gpt = await import("http://${host}/lib/mod.ts");\n` +
          `console.log(gpt.DEFAULT_DATA_PATH, new gpt.Tokenizer(["a", "b"]).vocabSize);\n`,
      );
      const { success, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
        args: ["run", `--allow-import=${host}`, "--allow-env", script],
        cwd: dir,
        env: { NO_COLOR: "1", DENO_DIR: join(dir, "deno_dir") }, // a cache of its own
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.ok(success, decoder.decode(stderr));
      assert.equal(decoder.decode(stdout), `${join("data", "names.txt")} 3\n`);
    } finally {
      await server.shutdown();
    }
  }),
);
