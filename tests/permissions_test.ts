import assert from "node:assert/strict";
import { inTempDir } from "./_temp.ts";
import { join, resolve } from "node:path";
import { DEFAULT_DATA_PATH } from "@lib/io/data.ts";
import { DATASET_HOST, permissionFlags, TEMP_TOKEN_VARIABLE } from "@lib/cli/launcher.ts";
import { UserError } from "@lib/io/errors.ts";

const ROOT = join(import.meta.dirname!, "..");
const decoder = new TextDecoder();

const TOKEN = "0123456789abcdef";

Deno.test("permissionFlags() grants exactly the files the command line names", () => {
  const dataDir = resolve(DEFAULT_DATA_PATH, "..");
  assert.deepEqual(permissionFlags([]), [
    `--allow-read=${dataDir}`,
    `--allow-write=${dataDir}`,
    `--allow-net=${DATASET_HOST}`,
  ]);
  const out = (dir: string, name: string) =>
    `${dir}/${name},${dir}/.${name}.${TOKEN}.tmp,${dir}/${name}.lock`;
  assert.deepEqual(
    permissionFlags(["--data", "/d/names.txt", "--save", "/c/ck.json", "--json", "/o/r.json"], {
      token: TOKEN,
    }),
    [
      `--allow-read=/d/names.txt,${out("/c", "ck.json")},${out("/o", "r.json")}`,
      `--allow-write=${out("/c", "ck.json")},${out("/o", "r.json")}`,
      `--allow-env=${TEMP_TOKEN_VARIABLE}`,
    ],
  );
  assert.deepEqual(permissionFlags(["sample", "--checkpoint", "/c/ck.json"]), [
    "--allow-read=/c/ck.json",
  ]);
  assert.deepEqual(permissionFlags(["--steps", "oops"]), []); // the CLI only prints its error
});

// Finding 5: a checkpoint never chooses what is read.
Deno.test("permissionFlags() grants resuming and eval the --data file or data/, never more", () => {
  const dataDir = resolve(DEFAULT_DATA_PATH, "..");
  assert.deepEqual(permissionFlags(["--load", "/c/ck.json"]), [
    `--allow-read=/c/ck.json,${dataDir}`,
    `--allow-write=${dataDir}`,
    `--allow-net=${DATASET_HOST}`,
  ]);
  assert.deepEqual(permissionFlags(["--load", "/c/ck.json", "--data", "/d/mine.txt"]), [
    "--allow-read=/c/ck.json,/d/mine.txt",
  ]);
  assert.deepEqual(
    permissionFlags(["eval", "--checkpoint", "/c/ck.json", "--data", "/d/mine.txt"]),
    ["--allow-read=/c/ck.json,/d/mine.txt"],
  );
});

// Finding 4: Deno's --allow-read=a,b list splits at commas and has no escape.
Deno.test("permissionFlags() refuses a path with a comma, in one line", () => {
  for (
    const args of [
      ["--json", "/x,/etc/cron.d/evil"],
      ["--data", "/out/a,b.txt"],
      ["--save", "/tmp/a,b/ck.json"],
      ["eval", "--checkpoint", "/c/ck.json", "--data", "/d/a,b"],
      ["sample", "--checkpoint", "/c/a,b.json"],
    ]
  ) {
    assert.throws(
      () => permissionFlags(args),
      (e: Error) =>
        e instanceof UserError &&
        /^Cannot grant access to ".*,.*": the path contains a comma/.test(e.message) &&
        !e.message.includes("\n"),
      args.join(" "),
    );
  }
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
      "--data",
      data,
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

// Finding 4: `=`, newlines and leading dashes pass through Deno's flags as they are.
Deno.test(
  "permissionFlags() grants a path with `=`, a newline or a leading dash exactly, and the task " +
    "refuses a comma in one line",
  inTempDir(async (dir) => {
    const names = ["a=b.txt", "line\nbreak.txt", "-dash.txt", "--allow-all"];
    const probe = join(dir, "probe.ts");
    await Deno.writeTextFile(
      probe,
      `const paths = JSON.parse(Deno.args[0]!) as string[];
console.log(JSON.stringify(paths.map((path) => Deno.permissions.querySync({ name: "read", path }).state)));`,
    );
    for (const name of names) {
      const path = join(dir, name);
      await Deno.writeTextFile(path, "ana\nbo\n");
      const flags = permissionFlags(["--data", path]);
      assert.deepEqual(flags, [`--allow-read=${path}`]);
      const near = [
        path,
        join(dir, "a"),
        join(dir, "b.txt"),
        join(dir, "line"),
        dir,
        "/etc/passwd",
      ];
      const { stdout, success } = await new Deno.Command(Deno.execPath(), {
        args: ["run", "--no-prompt", ...flags, probe, JSON.stringify(near)],
        stdout: "piped",
      }).output();
      assert.ok(success, name);
      assert.deepEqual(JSON.parse(decoder.decode(stdout)), [
        "granted",
        ...near.slice(1).map(() => "prompt"),
      ], JSON.stringify(name));
    }
    // Through the task: such a dataset trains; a comma is refused before anything runs.
    const task = (args: string[]) =>
      new Deno.Command(Deno.execPath(), {
        args: ["task", "-q", "train", "--engine", "fast", "--steps", "2", ...args],
        cwd: ROOT,
        stdout: "piped",
        stderr: "piped",
      }).output();
    const odd = await task(["--data", join(dir, "line\nbreak.txt")]);
    assert.equal(odd.code, 0, decoder.decode(odd.stderr));
    const json = join(dir, "x,evil.json");
    const comma = await task(["--data", join(dir, "a=b.txt"), "--json", json]);
    assert.equal(comma.code, 2);
    assert.equal(
      decoder.decode(comma.stderr),
      `error: Cannot grant access to ${JSON.stringify(json)}: the path contains a comma, which ` +
        "Deno's permission flags cannot express; rename it or run `deno run -A " +
        "lib/cli/main.ts` with the same flags\n",
    );
    assert.equal(decoder.decode(comma.stdout), "");
  }),
);

// Finding 11: `--json out.json` from another folder landed in the project's folder.
Deno.test(
  "deno task train resolves relative paths against the folder it was run from",
  inTempDir(async (dir) => {
    await Deno.writeTextFile(join(dir, "names.txt"), "ana\nbo\nemma\n");
    await Deno.mkdir(join(dir, "out"));
    const name = `run-${crypto.randomUUID()}.json`; // a name nowhere else
    const { code, stderr } = await new Deno.Command(Deno.execPath(), {
      args: [
        ...["task", "-q", "--config", join(ROOT, "deno.json"), "train", "--engine", "fast"],
        ...["--steps", "3", "--data", "names.txt", "--json", `out/${name}`],
        ...["--save=out/ck.json"],
      ],
      cwd: dir,
      // as from a shell: `deno task` keeps an INIT_CWD it inherits (here, the test task's)
      clearEnv: true,
      env: Object.fromEntries(
        Object.entries(Deno.env.toObject()).filter(([k]) => k !== "INIT_CWD"),
      ),
      stdout: "null",
      stderr: "piped",
    }).output();
    assert.equal(code, 0, decoder.decode(stderr));
    assert.equal(JSON.parse(await Deno.readTextFile(join(dir, "out", name))).num_docs, 3);
    assert.ok((await Deno.stat(join(dir, "out", "ck.json"))).isFile);
    assert.equal(await Deno.stat(join(ROOT, "out", name)).catch(() => null), null);
  }),
);
