import subprocess, json, sys, os, statistics
variants = json.loads(sys.argv[1]); rounds = int(sys.argv[2])
res = {k: [] for k in variants}
for r in range(rounds):
    for name, flags in variants.items():
        env = dict(os.environ, DENO_DIR=f"/tmp/dd_{abs(hash(name))}")
        out = subprocess.run(["deno", "run", "--v8-flags=--expose-gc,--max-semi-space-size=24,--minor-ms" + flags, "--allow-read", "--allow-env", "--allow-net", "--allow-write=data", "tests/_phases.ts"], capture_output=True, text=True, env=env)
        if r > 0: res[name].append(json.loads(out.stdout))
for name, rs in res.items():
    keys = rs[0].keys()
    print(name.ljust(20), " ".join(f"{k}={statistics.median([x[k] for x in rs]):.1f}" for k in keys))
