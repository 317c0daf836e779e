// `deno task bench`: times whole `deno task train` runs (median of 5) and prints the figures.
// Not a test: speed targets are read off this output, never asserted.

const RUNS = Number(Deno.env.get("BENCH_RUNS") ?? 5);
const ROOT = new URL("../", import.meta.url);

interface Figure {
  label: string;
  args: string[];
  wallMs: number[];
  peakRssMiB: number[];
}

// Peak resident memory of a finished child, from GNU time when it is installed.
async function timed(args: string[]): Promise<{ ms: number; rssMiB: number }> {
  const haveTime = await Deno.stat("/usr/bin/time").then(() => true, () => false);
  const cmd = haveTime
    ? ["/usr/bin/time", "-f", "%M", Deno.execPath(), "task", "-q", "train", ...args]
    : [Deno.execPath(), "task", "-q", "train", ...args];
  const start = performance.now();
  const out = await new Deno.Command(cmd[0]!, {
    args: cmd.slice(1),
    cwd: ROOT,
    stdout: "null",
    stderr: "piped",
  }).output();
  const ms = performance.now() - start;
  if (!out.success) throw new Error(new TextDecoder().decode(out.stderr));
  const lines = new TextDecoder().decode(out.stderr).trim().split("\n");
  const rssKiB = haveTime ? Number(lines.at(-1)) : NaN;
  return { ms, rssMiB: rssKiB / 1024 };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const figures: Figure[] = [
  {
    label: "value engine, default config, 1000 steps + 20 samples",
    args: [],
    wallMs: [],
    peakRssMiB: [],
  },
];
for (const f of figures) {
  for (let i = 0; i < RUNS; i++) {
    const { ms, rssMiB } = await timed(f.args);
    f.wallMs.push(ms);
    f.peakRssMiB.push(rssMiB);
  }
}

console.log(`| run | wall (median of ${RUNS}) | steps/s | ms/step | peak RSS |`);
console.log("| --- | --- | --- | --- | --- |");
for (const f of figures) {
  const wall = median(f.wallMs);
  console.log(
    `| ${f.label} | ${(wall / 1000).toFixed(2)} s | ${(1000 / (wall / 1000)).toFixed(0)} | ` +
      `${(wall / 1000).toFixed(2)} | ${median(f.peakRssMiB).toFixed(0)} MiB |`,
  );
}
