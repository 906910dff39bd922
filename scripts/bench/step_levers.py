"""How far each lever on the training step can get, measured inside PyTorch on the same libtorch.

The step benchmark (scripts/bench/train_step.ts) puts ours and PyTorch's step side by side; this script
answers the question behind its ratio: how much of a PyTorch step is libtorch's own kernel time (which
no caller can remove), and what each lever an SSL step could pull is worth at most:

- profile: the step under torch.profiler; the share of its wall time inside ATen operators (self CPU
  time summed over aten:: ops) and the heaviest operators. 1 / (that share) bounds the speed-up any
  caller gains by removing the interpreter, the optimizer loop and every other overhead.
- target-batched: the momentum encoder over both views as one 2N batch instead of two N batches
  (an upper bound: the per-view BN statistics it needs would cost extra copies).
- online-batched: the same for the online forward + backward.
- target-no-running-stats: the target's BN without running-statistic updates.
- weights-channels-last: channels_last weights (model.to(memory_format=...)) against NCHW weights
  with a channels_last input (what a caller that converts only the input runs).
- inference-mode: the target under torch.inference_mode() instead of torch.no_grad().

Every lever is timed as A/B pairs that alternate call by call; the figure is the median over pairs of
time(A) / time(B), above 1 = the lever saves time. Usage:
  python3 scripts/bench/step_levers.py [--threads 1] [--pairs 12] [--precision bf16] [--nchw]
"""
import argparse
import contextlib
import time

import torch
import torch.nn.functional as F

from torch_unigrad import Encoder, UniGradStep

ap = argparse.ArgumentParser()
ap.add_argument("--threads", type=int, default=1)
ap.add_argument("--pairs", type=int, default=12)
ap.add_argument("--batch", type=int, default=256)
ap.add_argument("--precision", default="bf16", choices=["fp32", "bf16"])
ap.add_argument("--nchw", action="store_true", help="NCHW instead of channels_last")
ap.add_argument("--profile-steps", type=int, default=4)
args = ap.parse_args()
torch.set_num_threads(args.threads)
torch.manual_seed(0)

N, CL, BF16 = args.batch, not args.nchw, args.precision == "bf16"
fmt = torch.channels_last if CL else torch.contiguous_format


def build(weights_cl=CL):
    m = Encoder("resnet20", 1, 512, 128, 2)
    return m.to(memory_format=torch.channels_last) if weights_cl else m


online, target = build(), build()
target.load_state_dict(online.state_dict())
for p in target.parameters():
    p.requires_grad_(False)
opt = torch.optim.SGD(online.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4)
x1 = torch.rand(N, 1, 28, 28).contiguous(memory_format=fmt)
x2 = torch.rand(N, 1, 28, 28).contiguous(memory_format=fmt)
x12 = torch.cat([x1, x2]).contiguous(memory_format=fmt)


def autocast():
    return torch.autocast("cpu", dtype=torch.bfloat16) if BF16 else contextlib.nullcontext()


unigrad_step = UniGradStep(online, target, opt, 6.25, bf16=BF16)


def step(k=0, total=100):
    unigrad_step(x1, x2, k, total)


def timed(fn):
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def ab(name, a, b, note):
    """Alternates a and b (who goes first alternates too); prints the median of time(a)/time(b)."""
    a(), b()
    ratios, ta, tb = [], [], []
    for i in range(args.pairs):
        if i % 2 == 0:
            x, y = timed(a), timed(b)
        else:
            y, x = timed(b), timed(a)
        ratios.append(x / y)
        ta.append(x)
        tb.append(y)
    med = lambda v: sorted(v)[len(v) // 2]
    print(f"{name:26} {med(ta) * 1e3:9.1f} {med(tb) * 1e3:9.1f} {med(ratios):8.3f}×  {note}")


def profile():
    for k in range(2):
        step(k)
    plain = sorted(timed(lambda: step(2)) for _ in range(args.profile_steps))[args.profile_steps // 2] * 1e6
    t0 = time.perf_counter()
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as prof:
        for k in range(args.profile_steps):
            step(k)
    wall = (time.perf_counter() - t0) * 1e6
    ev = [e for e in prof.key_averages() if e.key.startswith("aten::")]
    aten = sum(e.self_cpu_time_total for e in ev)
    per = aten / args.profile_steps
    print(f"step: {plain / 1e3:.1f} ms without the profiler (median of {args.profile_steps}), {wall / 1e3 / args.profile_steps:.1f} ms with it")
    print(f"  inside aten:: operators (self CPU time): {per / 1e3:.1f} ms/step = {100 * per / plain:.1f} % of the plain step")
    print(f"  bound on any caller's speed-up from removing everything else: {plain / per:.3f}× (the profiler inflates the operators' time a little, so a little more)")
    print("  heaviest operators (self CPU ms/step, % of the plain step, calls/step):")
    for e in sorted(ev, key=lambda e: -e.self_cpu_time_total)[:14]:
        print(f"    {e.key:44} {e.self_cpu_time_total / 1e3 / args.profile_steps:8.1f} {100 * e.self_cpu_time_total / args.profile_steps / plain:5.1f} %  {e.count // args.profile_steps:4d}")


print(f"PyTorch {torch.__version__}, {args.threads} threads, batch {N} pairs, {args.precision}, {'channels_last' if CL else 'NCHW'}, {args.pairs} alternating pairs per lever")
profile()
print(f"{'lever':26} {'A ms':>9} {'B ms':>9} {'A/B':>9}  (A: without the lever, B: with it; above 1 = B saves time)")


def target_two():
    with torch.no_grad(), autocast():
        target(x1), target(x2)


def target_one():
    with torch.no_grad(), autocast():
        target(x12)


ab("target-batched", target_two, target_one, "upper bound: one 2N batch has no per-view BN statistics")


def online_two():
    with autocast():
        z = online(x1).float().sum() + online(x2).float().sum()
    z.backward()


def online_one():
    with autocast():
        z = online(x12).float().sum()
    z.backward()


ab("online-batched", online_two, online_one, "upper bound, forward + backward")

target_nostats = build()
target_nostats.load_state_dict(target.state_dict())
for mod in target_nostats.modules():
    if isinstance(mod, torch.nn.modules.batchnorm._BatchNorm):
        mod.track_running_stats = False
        mod.running_mean = mod.running_var = None


def target_nostats_fwd():
    with torch.no_grad(), autocast():
        target_nostats(x1), target_nostats(x2)


ab("target-no-running-stats", target_two, target_nostats_fwd, "batch statistics without the running update")

if CL:
    online_nchw_w = build(weights_cl=False)
    online_nchw_w.load_state_dict(online.state_dict())

    def fwd_bwd(net):
        def run():
            with autocast():
                z = net(x1).float().sum()
            z.backward()

        return run

    ab("weights-channels-last", fwd_bwd(online_nchw_w), fwd_bwd(online), "channels_last input either way")


def target_inference():
    with torch.inference_mode(), autocast():
        target(x1), target(x2)


ab("inference-mode", target_two, target_inference, "target forward under inference_mode instead of no_grad")
