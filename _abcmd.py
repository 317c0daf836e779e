import subprocess, sys, time, statistics, json
cmds = json.loads(sys.argv[1]); n = int(sys.argv[2])
res = {k: [] for k in cmds}
for k, c in cmds.items(): subprocess.run(c, shell=True, capture_output=True)
for i in range(n):
    for k, c in cmds.items():
        t = time.perf_counter(); subprocess.run(c, shell=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL); res[k].append((time.perf_counter() - t) * 1000)
for k, v in res.items():
    v.sort(); print(f"{k:12} median {statistics.median(v):7.1f}  q1 {v[len(v)//4]:7.1f}  q3 {v[3*len(v)//4]:7.1f}")
