// Builds the web edition into a folder any static host serves (web/dist by default): the page
// and its style sheet, its three scripts bundled for the browser by `deno bundle` (main.ts, the
// page; worker.ts, which trains, with the lesson and the fast engine straight from lib/ and its
// WebAssembly inside; ladder_worker.ts, the count models), names.txt, and plotly.js. `deno task web:build`; `--out DIR` builds elsewhere (the tests build in a temp
// folder).

import { basename, join, relative, resolve } from "node:path";

/** The repository's root. */
export const ROOT: string = resolve(import.meta.dirname!, "..");
/** Where the page is built by default. */
export const DIST: string = join(ROOT, "web", "dist");

const NAMES = join(ROOT, "data", "names.txt");
// plotly.js's smallest distribution with line charts first (`deno install` puts it there once
// deno.json's imports list it); the full one, ten times its size, as a fallback.
const PLOTLY_CANDIDATES = [
  join(ROOT, "node_modules", "plotly.js-basic-dist-min", "plotly-basic.min.js"),
  join(ROOT, "node_modules", "plotly.js-dist", "plotly.js"),
];
// The scripts bundled, web/<name>.ts to <name>.js.
const SCRIPTS = ["main", "worker", "ladder_worker"];
// Marks a folder as a build, so a rebuild may empty it.
const MARKER = ".microgpt-web-build";

/** A mistake the person building can fix: said in one line, without a stack trace. */
export class BuildError extends Error {
  /**
   * Creates the error.
   *
   * @param message `Cannot build the web page: ...`.
   */
  constructor(message: string) {
    super(message);
    this.name = "BuildError";
  }
}

/** A file of the build. */
export interface BuiltFile {
  /** Its name in the output folder. */
  name: string;
  /** Its size. */
  bytes: number;
  /** Its size gzipped (what a host that compresses sends). */
  gzipBytes: number;
}

/** What a build made. */
export interface Build {
  /** The output folder. */
  out: string;
  /** The files a browser loads, in the order listed (source maps excluded). */
  files: BuiltFile[];
  /** Which plotly.js went in. */
  plotly: string;
}

/**
 * Builds the page.
 *
 * @param options `out`, the folder to build in (emptied first if it holds an earlier build),
 *   and `warn`, where notices go.
 * @returns The files made.
 */
export async function build(
  options: { out?: string; warn?: (message: string) => void } = {},
): Promise<Build> {
  const out = resolve(options.out ?? DIST);
  const warn = options.warn ?? ((m: string) => console.warn(m));
  if (!exists(NAMES)) {
    throw new BuildError(
      "Cannot build the web page: data/names.txt is missing; run deno task train once, or copy " +
        "names.txt into data/",
    );
  }
  const plotly = PLOTLY_CANDIDATES.find(exists);
  if (!plotly) {
    throw new BuildError(
      "Cannot build the web page: plotly.js is not in node_modules/; run deno install",
    );
  }
  if (plotly !== PLOTLY_CANDIDATES[0]) {
    warn(
      `note: using ${basename(plotly)} (${mib(Deno.statSync(plotly).size)}); list ` +
        '"plotly.js-basic-dist-min": "npm:plotly.js-basic-dist-min@4.1.1" in deno.json\'s ' +
        "imports and run deno install for the 1.2 MB basic bundle",
    );
  }
  await emptyOutput(out);
  await Promise.all(SCRIPTS.map((name) => bundle(name, out)));
  const copies: [string, string][] = [
    [join(ROOT, "web", "index.html"), "index.html"],
    [join(ROOT, "web", "style.css"), "style.css"],
    [NAMES, "names.txt"],
    [plotly, "plotly.js"],
  ];
  for (const [from, to] of copies) await Deno.copyFile(from, join(out, to));
  await Deno.writeTextFile(join(out, MARKER), "built by web/build.ts\n");
  const names = [
    "index.html",
    "style.css",
    ...SCRIPTS.map((name) => `${name}.js`),
    "plotly.js",
    "names.txt",
  ];
  const files = await Promise.all(names.map(async (name) => {
    const bytes = await Deno.readFile(join(out, name));
    return { name, bytes: bytes.length, gzipBytes: await gzipSize(bytes) };
  }));
  return { out, files, plotly: basename(plotly) };
}

function exists(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

// Empties the output folder, if it is an earlier build (or empty), or makes it.
async function emptyOutput(out: string): Promise<void> {
  let entries: string[];
  try {
    entries = [...Deno.readDirSync(out)].map((e) => e.name);
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
    await Deno.mkdir(out, { recursive: true });
    return;
  }
  if (entries.length > 0 && !entries.includes(MARKER)) {
    throw new BuildError(
      `Cannot build the web page: ${out} holds files that are not an earlier build; ` +
        "remove them or give another --out",
    );
  }
  for (const name of entries) await Deno.remove(join(out, name), { recursive: true });
}

// Bundles web/<name>.ts into <out>/<name>.js, refusing a bundle that calls Deno's APIs (a lib/
// module that does cannot run in a browser).
async function bundle(name: string, out: string): Promise<void> {
  const target = join(out, `${name}.js`);
  const { code, stderr } = await new Deno.Command("deno", {
    args: [
      "bundle",
      "--quiet",
      "--platform",
      "browser",
      "--minify",
      "--sourcemap",
      "linked",
      "--config",
      join(ROOT, "deno.json"),
      "-o",
      target,
      join(ROOT, "web", `${name}.ts`),
    ],
    stdout: "null",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  if (code !== 0) {
    throw new Error(`deno bundle web/${name}.ts failed:\n${new TextDecoder().decode(stderr)}`);
  }
  const text = await Deno.readTextFile(target);
  const deno = /\bDeno\.[a-zA-Z]+/.exec(text);
  if (deno) {
    throw new Error(
      `web/${name}.ts bundles a module that uses ${deno[0]}, which a browser does not have: ` +
        "import only lib/ modules that use no Deno API",
    );
  }
}

async function gzipSize(bytes: Uint8Array): Promise<number> {
  const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream().pipeThrough(
    new CompressionStream("gzip"),
  );
  return (await new Response(stream).arrayBuffer()).byteLength;
}

/**
 * The build's files as a table: sizes raw and gzipped.
 *
 * @param result The build.
 * @returns The table's lines.
 */
export function sizeTable(result: Build): string {
  const kb = (n: number) => `${(n / 1000).toFixed(1)} KB`.padStart(10);
  const lines = result.files.map((f) =>
    `  ${f.name.padEnd(17)} ${kb(f.bytes)} ${kb(f.gzipBytes)} gzipped`
  );
  return lines.join("\n");
}

if (import.meta.main) {
  const args = Deno.args;
  const at = args.indexOf("--out");
  const out = at === -1 ? undefined : args[at + 1];
  if (at !== -1 && !out) {
    console.error("error: Cannot build the web page: --out needs a folder");
    Deno.exit(2);
  }
  try {
    const result = await build({ out });
    console.log(`built ${relative(Deno.cwd(), result.out) || "."} (plotly.js: ${result.plotly})`);
    console.log(sizeTable(result));
  } catch (err) {
    if (!(err instanceof BuildError)) throw err;
    console.error(`error: ${err.message}`);
    Deno.exit(2);
  }
}
