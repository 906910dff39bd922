"""PyTorch side of scripts/bench/dist_comm.ts: the same bucketed gradient all-reduce through
torch.distributed (Gloo), one rank of two (RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT set by the caller).
Argument: JSON {"buckets": [elements per bucket], "steps": n}. Prints {"gradMs": median ms per step}."""
import json, os, statistics, sys, time
import torch
import torch.distributed as dist

cfg = json.loads(sys.argv[1])
torch.set_num_threads(1)
dist.init_process_group("gloo", init_method=f"tcp://{os.environ['MASTER_ADDR']}:{os.environ['MASTER_PORT']}",
                        rank=int(os.environ["RANK"]), world_size=int(os.environ["WORLD_SIZE"]))
world = dist.get_world_size()
grads = [torch.randn(n) for n in cfg["buckets"]]  # one flat buffer per bucket, as DDP's


def step():
    for g in grads:
        dist.all_reduce(g)
        g.div_(world)


step()
times = []
for _ in range(cfg["steps"]):
    t0 = time.perf_counter()
    step()
    times.append((time.perf_counter() - t0) * 1000)
print(json.dumps({"gradMs": statistics.median(times)}))
dist.destroy_process_group()
