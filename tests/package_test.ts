// The package (deno.json's name and exports): what lib/mod.ts offers, that it imports from
// outside this project, and that README's "Use it as a library" example runs and matches the
// reference. `deno task package` (doc lint, publish dry run) runs in CI beside these.

import assert from "node:assert/strict";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import * as mod from "@lib/mod.ts";
import { runQuiet } from "./_cli.ts";
import { haveNames, NAMES_PATH } from "./_names.ts";
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
    if (subpath === ".") continue;
    const name = subpath.slice(2);
    assert.ok([`./lib/${name}.ts`, `./lib/${name}/mod.ts`].includes(file), `${subpath} -> ${file}`);
  }
});

Deno.test("lib/mod.ts offers every subpath's API but notebook display, and nothing internal", async () => {
  const offered = new Set(Object.keys(mod));
  for (const [subpath, file] of Object.entries<string>(config.exports)) {
    if (subpath === "." || subpath === "./notebook") continue;
    const names = Object.keys(await import(pathToFileURL(join(ROOT, file)).href));
    assert.deepEqual(names.filter((n) => !offered.has(n)), [], `${subpath} not all in mod.ts`);
  }
  // The command line, file safety and notebook display stay out of the root export.
  for (
    const internal of [
      "main",
      "run",
      "runEval",
      "runSample",
      "lossError",
      "parseFlags",
      "DEFAULT_OPTIONS",
      "permissionFlags",
      "textWriter",
      "writeFileAtomic",
      "DENO_FS",
      "EXIT_USAGE",
      "sourceOf",
      "lineChart",
      "show",
      "PngRenderer",
    ]
  ) {
    assert.ok(!offered.has(internal), `${internal} is internal`);
  }
  // The lesson, both engines behind one interface, evaluation, the dataset and checkpoints.
  for (
    const api of [
      "Value",
      "Random",
      "Tokenizer",
      "createGpt",
      "Adam",
      "trainStep",
      "sample",
      "ValueGpt",
      "FastGpt",
      "createEngine",
      "evaluate",
      "splitDocs",
      "loadDataset",
      "checkpointOf",
      "saveCheckpoint",
      "loadCheckpoint",
      "restoreCheckpoint",
      "docsSha256",
      "formatFixed",
      "UserError",
    ]
  ) {
    assert.ok(offered.has(api), `${api} missing`);
  }
});

Deno.test("both engines offer the Engine interface's methods under the same names", () => {
  const config = { ...mod.DEFAULT_CONFIG, vocabSize: 3 };
  for (const name of ["value", "fast"] as const) {
    const engine = mod.createEngine(name, config, { rng: new mod.Random(0) });
    for (const method of ["trainStep", "sample", "parameters"] as const) {
      assert.equal(typeof engine[method], "function", `${name}: ${method}`);
    }
    assert.equal(engine.numParams, 3424);
    assert.deepEqual(engine.config, config);
  }
});

Deno.test("lib/mod.ts needs no npm package: none in its module graph", async () => {
  const { success, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", join(ROOT, "lib", "mod.ts")],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.ok(success, decoder.decode(stderr));
  const info = JSON.parse(decoder.decode(stdout));
  const npm = info.modules
    .map((m: { specifier: string }) => m.specifier)
    .filter((s: string) => s.startsWith("npm:"));
  assert.deepEqual(npm, []);
  assert.deepEqual(Object.keys(info.npmPackages ?? {}), []);
});

Deno.test(
  "importing lib/mod.ts from another folder with an empty cache asks no npm registry for anything",
  inTempDir(async (dir) => {
    // A registry that only counts what it is asked (lib/notebook/mod.ts, by contrast, asks it
    // for puppeteer-core, even for a type).
    const asked: string[] = [];
    const registry = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
      asked.push(new URL(req.url).pathname);
      return new Response("not found", { status: 404 });
    });
    try {
      const script = join(dir, "use.ts");
      await Deno.writeTextFile(
        script,
        `import { Random, Tokenizer } from "${
          pathToFileURL(join(ROOT, "lib", "mod.ts")).href
        }";\n` +
          `console.log(new Random(42).random(), new Tokenizer(["a"]).vocabSize);\n`,
      );
      const { success, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
        args: ["run", "--allow-read", "--allow-env", script],
        cwd: dir,
        env: {
          NO_COLOR: "1",
          DENO_DIR: join(dir, "deno_dir"), // an empty cache
          NPM_CONFIG_REGISTRY: `http://127.0.0.1:${registry.addr.port}/`,
        },
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.ok(success, decoder.decode(stderr));
      assert.equal(decoder.decode(stdout), "0.6394267984578837 2\n");
      assert.deepEqual(asked, []);
    } finally {
      await registry.shutdown();
    }
  }),
);

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
  name: "README's library example trains, evaluates and samples as deno task train does",
  ignore: !haveNames(),
  fn: async () => {
    const readme = await Deno.readTextFile(join(ROOT, "README.md"));
    const section = readme.slice(readme.indexOf("## Use it as a library"));
    const code = section.match(/```ts\n([\s\S]*?)```/)![1]!;
    const body = code.slice(code.indexOf("@microgpt-ts/microgpt")).trim().split("\n").slice(1);
    assert.ok(body.length <= 15, `the example stays short: ${body.length} lines after its import`);
    // Run from the project, where the package's name resolves to lib/.
    const script = join(ROOT, `.readme_example_${Deno.pid}.ts`);
    await Deno.writeTextFile(script, code);
    let out: string;
    try {
      out = await denoRun(script, ROOT);
    } finally {
      await Deno.remove(script);
    }
    // What the example says it does: `deno task train --engine fast --val-split 0.1`.
    const task = await runQuiet({ data: NAMES_PATH, engine: "fast", valSplit: 0.1 });
    const [loss, name] = out.trimEnd().split("\n").slice(-2);
    assert.equal(Number(loss), task.result.evals.at(-1)!.val_loss);
    assert.match(task.out, new RegExp(`\nval loss ${mod.formatFixed(Number(loss), 4)} \\|`));
    assert.equal(name, task.result.samples[0]);
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
