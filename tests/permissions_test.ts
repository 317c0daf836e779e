import assert from "node:assert/strict";
import { inTempDir } from "./_temp.ts";
import { join, resolve } from "node:path";
import { DEFAULT_DATA_PATH } from "@lib/io/data.ts";
import { DATASET_HOST, permissionFlags } from "@lib/cli/launcher.ts";

const ROOT = join(import.meta.dirname!, "..");
const decoder = new TextDecoder();

Deno.test("permissionFlags() grants exactly the files the command line names", () => {
  const dataDir = resolve(DEFAULT_DATA_PATH, "..");
  assert.deepEqual(permissionFlags([]), [
    `--allow-read=${dataDir}`,
    `--allow-write=${dataDir}`,
    `--allow-net=${DATASET_HOST}`,
  ]);
  assert.deepEqual(
    permissionFlags(["--data", "/d/names.txt", "--save", "/c/ck.json", "--json", "/o/r.json"]),
    [
      "--allow-read=/d/names.txt,/c/ck.json,/c/ck.json.tmp,/o/r.json,/o/r.json.tmp",
      "--allow-write=/c/ck.json,/c/ck.json.tmp,/o/r.json,/o/r.json.tmp",
    ],
  );
  assert.deepEqual(permissionFlags(["--load", "/c/ck.json"], { dataPathOf: () => "/d/mine.txt" }), [
    "--allow-read=/c/ck.json,/d/mine.txt",
  ]);
  assert.deepEqual(
    permissionFlags(["eval", "--checkpoint", "/c/ck.json"], { dataPathOf: () => "/d/mine.txt" }),
    ["--allow-read=/c/ck.json,/d/mine.txt"],
  );
  assert.deepEqual(permissionFlags(["sample", "--checkpoint", "/c/ck.json"]), [
    "--allow-read=/c/ck.json",
  ]);
  assert.deepEqual(permissionFlags(["--steps", "oops"]), []); // the CLI only prints its error
});

Deno.test(
  "the train task's permissions let it touch its own files and nothing else",
  inTempDir(async (dir) => {
    const data = join(dir, "names.txt");
    const ck = join(dir, "ck.json");
    const other = join(dir, "secret.txt");
    await Deno.writeTextFile(data, "ana\nbo\n");
    await Deno.writeTextFile(other, "do not read");
    const probe = join(dir, "probe.ts");
    await Deno.writeTextFile(
      probe,
      `const q = (d: Deno.PermissionDescriptor) => Deno.permissions.querySync(d).state;
let readOther = "read";
try { Deno.readTextFileSync(${
        JSON.stringify(other)
      }); } catch (e) { readOther = (e as Error).name; }
console.log(JSON.stringify({
  readData: q({ name: "read", path: ${JSON.stringify(data)} }),
  writeCheckpoint: q({ name: "write", path: ${JSON.stringify(ck)} }),
  readOther: q({ name: "read", path: ${JSON.stringify(other)} }),
  writeOther: q({ name: "write", path: ${JSON.stringify(other)} }),
  writeData: q({ name: "write", path: ${JSON.stringify(data)} }),
  readEtc: q({ name: "read", path: "/etc/passwd" }),
  writeProject: q({ name: "write", path: ${JSON.stringify(join(ROOT, "lib", "cli", "main.ts"))} }),
  net: q({ name: "net", host: "example.com" }),
  run: q({ name: "run" }),
  env: q({ name: "env" }),
  readOtherAttempt: readOther,
}));`,
    );
    const flags = permissionFlags(["--data", data, "--save", ck]);
    const { stdout, success } = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--no-prompt", ...flags, probe],
      stdout: "piped",
    }).output();
    assert.ok(success);
    assert.deepEqual(JSON.parse(decoder.decode(stdout)), {
      readData: "granted",
      writeCheckpoint: "granted",
      readOther: "prompt",
      writeOther: "prompt",
      writeData: "prompt",
      readEtc: "prompt",
      writeProject: "prompt",
      net: "prompt",
      run: "prompt",
      env: "prompt",
      readOtherAttempt: "NotCapable",
    });
  }),
);

Deno.test(
  "deno task train and sample run under those permissions",
  inTempDir(async (dir) => {
    const data = join(dir, "names.txt");
    await Deno.writeTextFile(data, "ana\nbo\nemma\n");
    const ck = join(dir, "ck.json");
    const json = join(dir, "run.json");
    const task = (args: string[]) =>
      new Deno.Command(Deno.execPath(), {
        args: ["task", "-q", ...args],
        cwd: ROOT,
        stdout: "piped",
        stderr: "piped",
      }).output();
    const trained = await task([
      "train",
      "--data",
      data,
      "--steps",
      "20",
      "--stop-at",
      "10",
      "--save",
      ck,
    ]);
    assert.equal(trained.code, 0, decoder.decode(trained.stderr));
    const resumed = await task([
      "train",
      "--load",
      ck,
      "--save",
      ck,
      "--json",
      json,
      "--engine",
      "fast",
    ]);
    assert.equal(resumed.code, 0, decoder.decode(resumed.stderr));
    assert.deepEqual(JSON.parse(await Deno.readTextFile(json)).steps.length, 10);
    const sampled = await task(["sample", "--checkpoint", ck, "--samples", "2"]);
    assert.equal(sampled.code, 0, decoder.decode(sampled.stderr));
    assert.match(decoder.decode(sampled.stdout), /^sample {2}1: .*\nsample {2}2: .*\n$/);
  }),
);

Deno.test(
  "the train task's launcher runs the default command itself, holding exactly its grant",
  inTempDir(async (dir) => {
    // The launcher's own flags, as deno.json's train task starts it.
    const task = JSON.parse(await Deno.readTextFile(join(ROOT, "deno.json"))).tasks.train as string;
    const launcherFlags = task.split(" ").filter((a) => a.startsWith("--allow-"));
    const other = join(dir, "secret.txt");
    await Deno.writeTextFile(other, "do not read");
    const probe = join(dir, "probe.ts");
    await Deno.writeTextFile(
      probe,
      `import { dropTo, holds, permissionFlags } from "${join(ROOT, "lib", "cli", "launcher.ts")}";
const q = (d: Deno.PermissionDescriptor) => Deno.permissions.querySync(d).state;
const decisions = {
  defaultRun: holds(permissionFlags(["--engine", "fast", "--steps", "5"])),
  otherData: holds(permissionFlags(["--data", ${JSON.stringify(other)}])),
  withJson: holds(permissionFlags(["--json", ${JSON.stringify(join(dir, "r.json"))}])),
  badFlags: holds(permissionFlags(["--steps", "x"])),
};
dropTo(permissionFlags(Deno.args.includes("bad") ? ["--steps", "x"] : []));
const data = ${JSON.stringify(resolve(DEFAULT_DATA_PATH, ".."))};
console.log(JSON.stringify({ decisions, after: {
  readData: q({ name: "read", path: data }),
  writeData: q({ name: "write", path: data }),
  net: q({ name: "net", host: "${DATASET_HOST}" }),
  readOther: q({ name: "read", path: ${JSON.stringify(other)} }),
  netOther: q({ name: "net", host: "example.com" }),
  run: q({ name: "run" }),
  env: q({ name: "env" }),
} }));`,
    );
    const probeRun = async (args: string[]) => {
      const { stdout, success, stderr } = await new Deno.Command(Deno.execPath(), {
        args: ["run", "--no-prompt", ...launcherFlags, probe, ...args],
        cwd: ROOT,
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.ok(success, decoder.decode(stderr));
      return JSON.parse(decoder.decode(stdout));
    };
    const normal = await probeRun([]);
    assert.deepEqual(normal.decisions, {
      defaultRun: true, // in this process
      otherData: false, // a second process, with read access to that file
      withJson: false,
      badFlags: true, // the CLI only prints its error
    });
    assert.deepEqual(normal.after, {
      readData: "granted",
      writeData: "granted",
      net: "granted",
      readOther: "prompt",
      netOther: "prompt",
      run: "prompt", // dropped before the CLI runs
      env: "prompt",
    });
    const bad = await probeRun(["bad"]);
    assert.equal(bad.after.readData, "prompt");
    assert.equal(bad.after.writeData, "prompt");
    assert.equal(bad.after.net, "prompt");
  }),
);
