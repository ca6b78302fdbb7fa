#!/usr/bin/env python3
"""PyTorch reference of dfer's GCA + IAL network, for the throughput comparison in bench/throughput.ts.

The same network as src/model/network.ts (read both beside /work/shared/reference/MODEL.md), written for speed
comparison only: the same layer shapes, the same parameter count and the same FLOPs, so that clips/s here and in
dfer measure the same work. Top to bottom in the order data flows: stem -> layer1..3 (BasicBlocks, GCA in layer2/3)
-> dynamic-static fusion (layer4 on frame differences + patch embedding and spatial transformer) -> temporal
transformer -> mean token -> fc_f.

  /usr/bin/python3 bench/torch_ref.py --preset small --mode train --batch 8 --steps 5

prints ONE JSON line: {"backend": "pytorch", "preset", "mode", "batch", "clips_per_s", "median_s", "steps",
"step_seconds", "max_rss_mib", "torch", "threads", ...}. `--device cuda` runs it on the GPU in float32 (TF32 off;
`--tf32` allows it) and adds "gpu" and "gpu_peak_mib". `--count-params` prints the parameter counts and exits.

Training step = forward in train mode, loss (CE + lambda * IAL + aux, src/model/losses.ts), backward, SGD with
momentum 0.9 and weight decay 0.1 (src/train/optim.ts). Inference = forward in eval mode under torch.no_grad().

Differences from the official code, on purpose:
- its transformer Residual wrapper evaluates each sub-layer twice; dfer evaluates it once, and so does this file
  (same FLOPs as dfer). `--official-residual` evaluates it twice, for information.
- tensors are NCHW (PyTorch's native layout) or channels_last (`--memory-format`); dfer is NHWC. Layout changes
  the speed, not the arithmetic.
"""
import os

# OpenBLAS' own thread pool fights PyTorch's OpenMP threads (50% slower and noisy): one BLAS thread, set before
# torch (and with it OpenBLAS) is loaded. bench/throughput.ts also sets it when it spawns this script.
os.environ["OPENBLAS_NUM_THREADS"] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import resource  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

# ---------------------------------------------------------------------------------------------------------------
# Presets: a mirror of PRESETS in src/config.ts (GCA attention with its aux head, as both presets have).
# THEY MUST MATCH src/config.ts: bench/throughput.ts passes only the preset name, and before it runs a pytorch cell it
# compares `--print-presets` with src/config.ts and refuses to run when they differ. `--count-params` gives the
# parameter counts to compare with dfer's (bench/README.md).

PRESETS = {
    # Exactly the official network (final_model.GenerateModel).
    "paper": dict(
        image_size=112, frames=16, stem_width=64, widths=(64, 128, 256, 256), dynamic_depth=3,
        reduction=16, aux_weights=(0.05, 0.0), patch_dim=256,
        spatial=dict(depth=2, heads=4, dim_head=32, mlp_dim=256),
        temporal=dict(depth=2, heads=4, dim_head=32, mlp_dim=512),
        num_classes=7,
    ),
    # The same architecture sized for CPU work (token dim 128 x 2 x 2 = 512).
    "small": dict(
        image_size=64, frames=16, stem_width=32, widths=(32, 64, 128, 128), dynamic_depth=3,
        reduction=16, aux_weights=(0.05, 0.0), patch_dim=128,
        spatial=dict(depth=2, heads=4, dim_head=16, mlp_dim=128),
        temporal=dict(depth=2, heads=4, dim_head=16, mlp_dim=256),
        num_classes=7,
    ),
}

# Loss and optimiser of the official code (src/model/losses.ts, src/train/optim.ts OFFICIAL_SGD).
IAL_LAMBDA = 0.1
SGD = dict(lr=0.001, momentum=0.9, weight_decay=0.1)


def down(n, k=3, s=2, p=1):
    return (n + 2 * p - k) // s + 1


def derive_shapes(c):
    """Spatial sizes the official code hard-codes (src/config.ts deriveShapes)."""
    stem = down(c["image_size"])
    layer1 = down(stem)
    layer2 = down(layer1)
    layer3 = down(layer2)
    fused = down(layer3)
    return dict(stem=stem, layer1=layer1, layer2=layer2, layer3=layer3, fused=fused,
                spatial_tokens=fused * fused, temporal_tokens=c["frames"] - 1,
                temporal_dim=c["patch_dim"] * fused * fused)


def conv3x3(cin, cout, stride=1):
    return nn.Conv2d(cin, cout, 3, stride, 1, bias=False)


# ---------------------------------------------------------------------------------------------------------------
# GCA: global convolution -> excitation -> S = sqrt(s * GAP_t(s) + 1e-5), plus the auxiliary classifier on Z


class GCA(nn.Module):
    def __init__(self, channels, spatial, reduction, num_classes, frames):
        super().__init__()
        self.frames = frames
        # depthwise Conv2d(C, C, kernel = H x W, groups = C): one weight per channel and location
        self.gc = nn.Conv2d(channels, channels, spatial, groups=channels, bias=False)
        self.fc1 = nn.Conv2d(channels, channels // reduction, 1, bias=False)
        self.fc2 = nn.Conv2d(channels // reduction, channels, 1, bias=False)
        self.aux_fc = nn.Sequential(nn.Linear(channels, 2 * channels, bias=False),
                                    nn.Linear(2 * channels, num_classes, bias=False))

    def forward(self, x):
        n, c = x.shape[:2]
        # Z_c = sum_ij x_c(i, j) * Wgc_c(i, j): written as dfer writes it (multiply, sum); the same FLOPs as the
        # kernel-covers-the-map depthwise conv F.conv2d(x, w, groups=C), which PyTorch runs no faster (measured).
        z = (x * self.gc.weight.view(1, c, x.shape[2], x.shape[3])).sum((2, 3))  # (B*T, C)
        s = 2 * torch.sigmoid(self.fc2(F.relu(self.fc1(z.view(n, c, 1, 1)))).view(-1, self.frames, c))
        S = torch.sqrt(s * s.mean(1, keepdim=True) + 1e-5).view(n, c, 1, 1)
        aux = self.aux_fc(z.view(-1, self.frames, c).mean(1))
        return x * S, aux


# ---------------------------------------------------------------------------------------------------------------
# BasicBlock: conv3x3(stride) -> BN -> ReLU -> conv3x3 -> BN -> [GCA] -> + identity -> ReLU


class BasicBlock(nn.Module):
    def __init__(self, cin, planes, stride, gca=None):
        super().__init__()
        self.conv1 = conv3x3(cin, planes, stride)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = conv3x3(planes, planes)
        self.bn2 = nn.BatchNorm2d(planes)
        self.gca = gca
        self.downsample = None
        if stride != 1 or cin != planes:
            self.downsample = nn.Sequential(nn.Conv2d(cin, planes, 1, stride, bias=False), nn.BatchNorm2d(planes))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        aux = None
        if self.gca is not None:
            out, aux = self.gca(out)
        identity = x if self.downsample is None else self.downsample(x)
        return F.relu(out + identity), aux


# ---------------------------------------------------------------------------------------------------------------
# Pre-norm transformer (Former-DFER): x = Attn(LN(x)) + x; x = FF(LN(x)) + x; no final norm, dropout 0


class Attention(nn.Module):
    def __init__(self, dim, heads, dim_head):
        super().__init__()
        self.heads, self.dim_head = heads, dim_head
        self.to_qkv = nn.Linear(dim, 3 * heads * dim_head, bias=False)
        self.to_out = nn.Linear(heads * dim_head, dim)

    def forward(self, x):
        b, n, _ = x.shape
        # q, k, v in that order along the last axis, heads split as (h d) with h outer
        q, k, v = (t.view(b, n, self.heads, self.dim_head).transpose(1, 2) for t in self.to_qkv(x).chunk(3, -1))
        attn = torch.softmax(q @ k.transpose(-1, -2) * self.dim_head ** -0.5, -1)
        return self.to_out((attn @ v).transpose(1, 2).reshape(b, n, -1))


class FeedForward(nn.Module):
    def __init__(self, dim, mlp_dim):
        super().__init__()
        self.net0 = nn.Linear(dim, mlp_dim)
        self.net3 = nn.Linear(mlp_dim, dim)

    def forward(self, x):
        return self.net3(F.gelu(self.net0(x), approximate="tanh"))


class PreNormResidual(nn.Module):
    """x + fn(LN(x)). official=True mimics the official Residual wrapper, which evaluates fn twice (the first result
    is discarded, so it costs forward time only: its autograd graph is freed at once)."""

    def __init__(self, dim, fn, official=False):
        super().__init__()
        self.norm = nn.LayerNorm(dim, eps=1e-5)
        self.fn = fn
        self.official = official

    def forward(self, x):
        if self.official:
            self.fn(self.norm(x))
        return self.fn(self.norm(x)) + x


class Transformer(nn.Module):
    def __init__(self, dim, depth, heads, dim_head, mlp_dim, official_residual=False):
        super().__init__()
        self.layers = nn.Sequential(*[
            nn.Sequential(PreNormResidual(dim, Attention(dim, heads, dim_head), official_residual),
                          PreNormResidual(dim, FeedForward(dim, mlp_dim), official_residual))
            for _ in range(depth)
        ])

    def forward(self, x):
        return self.layers(x)


# ---------------------------------------------------------------------------------------------------------------
# The network


class Network(nn.Module):
    def __init__(self, c, official_residual=False, memory_format=torch.contiguous_format):
        super().__init__()
        sh = derive_shapes(c)
        self.c, self.sh = c, sh
        self.memory_format = memory_format  # of the conv activations: NCHW or channels_last (NHWC in memory)
        T, K = c["frames"], c["num_classes"]
        w1, w2, w3, w4 = c["widths"]
        r = c["reduction"]
        # Stem: 3x3/2 conv -> BN -> ReLU -> 3x3 conv -> BN -> ReLU -> 3x3/2 max-pool
        self.stem = nn.Sequential(
            conv3x3(3, c["stem_width"], 2), nn.BatchNorm2d(c["stem_width"]), nn.ReLU(inplace=True),
            conv3x3(c["stem_width"], c["stem_width"]), nn.BatchNorm2d(c["stem_width"]), nn.ReLU(inplace=True),
            nn.MaxPool2d(3, 2, 1),
        )
        # Frame-level residual stages; GCA (and its aux head) in layer2 and layer3
        self.layer1 = BasicBlock(c["stem_width"], w1, 1)
        self.layer2 = BasicBlock(w1, w2, 2, GCA(w2, sh["layer2"], r, K, T))
        self.layer3 = BasicBlock(w2, w3, 2, GCA(w3, sh["layer3"], r, K, T))
        # Dynamic branch: frame differences through layer4 (no attention)
        self.layer4 = nn.ModuleList([BasicBlock(w3 if i == 0 else w4, w4, 2 if i == 0 else 1)
                                     for i in range(c["dynamic_depth"])])
        # Static branch: patch embedding -> spatial transformer over the fused x fused patches
        self.patch_embedding = nn.Sequential(conv3x3(w3, c["patch_dim"], 2), nn.BatchNorm2d(c["patch_dim"]),
                                             nn.ReLU(inplace=True))
        self.pos_embedding_pos = nn.Parameter(torch.randn(1, sh["spatial_tokens"], c["patch_dim"]))
        s = c["spatial"]
        self.pos_transformer = Transformer(c["patch_dim"], s["depth"], s["heads"], s["dim_head"], s["mlp_dim"],
                                           official_residual)
        # Temporal transformer over the T-1 fused maps, then the classifier on the mean token
        self.pos_embedding = nn.Parameter(torch.randn(1, T, sh["temporal_dim"]))
        t = c["temporal"]
        self.temporal_transformer = Transformer(sh["temporal_dim"], t["depth"], t["heads"], t["dim_head"],
                                                t["mlp_dim"], official_residual)
        self.fc_f = nn.Linear(sh["temporal_dim"], K)
        for m in self.modules():  # the official ResNet's conv init
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, clips):
        """clips (B, T, 3, H, W) in [0, 1] -> logits (B, K), aux logits of layer2 and layer3."""
        B, T = clips.shape[:2]
        tm1 = T - 1
        x = clips.reshape(B * T, *clips.shape[2:]).contiguous(memory_format=self.memory_format)
        x = self.stem(x)
        x, _ = self.layer1(x)
        x, aux2 = self.layer2(x)
        x, aux3 = self.layer3(x)
        per_clip = x.reshape(B, T, *x.shape[1:])  # (B, T, C3, h3, w3)

        dynamic = (per_clip[:, 1:] - per_clip[:, :-1]).reshape(B * tm1, *x.shape[1:])
        for blk in self.layer4:
            dynamic, _ = blk(dynamic)

        static = per_clip[:, :-1].reshape(B * tm1, *x.shape[1:])
        patches = self.patch_embedding(static)  # (B*15, C, hf, wf)
        n, cf, hf, wf = patches.shape
        tokens = patches.reshape(n, cf, hf * wf).transpose(1, 2) + self.pos_embedding_pos
        tokens = self.pos_transformer(tokens)
        fused = tokens.transpose(1, 2).reshape(n, cf, hf, wf) + dynamic

        flat = fused.reshape(B, tm1, -1)  # each map flattened in (C, H, W) order
        temporal = self.temporal_transformer(flat + self.pos_embedding[:, :tm1])
        return self.fc_f(temporal.mean(1)), aux2, aux3


# ---------------------------------------------------------------------------------------------------------------
# Loss (src/model/losses.ts): L = CE + aux + lambda * IAL


def intensity_aware_loss(logits, labels):
    """-log(e^x_t / (e^x_t + e^x_max)) = softplus(x_max - x_t), x_max the largest non-target logit."""
    target = F.one_hot(labels, logits.shape[1]).to(logits.dtype)
    x_t = (logits * target).sum(1)
    x_max = logits.gather(1, (logits - 9999 * target).argmax(1, keepdim=True)).squeeze(1)
    return F.softplus(x_max - x_t).mean()


def total_loss(logits, aux2, aux3, labels, c):
    aux = c["aux_weights"][0] * F.cross_entropy(aux2, labels) + c["aux_weights"][1] * F.cross_entropy(aux3, labels)
    return F.cross_entropy(logits, labels) + aux + IAL_LAMBDA * intensity_aware_loss(logits, labels)


# ---------------------------------------------------------------------------------------------------------------
# Parameter counts, as dfer's ParamStore.size() counts them


def count_params(model):
    trainable = sum(p.numel() for p in model.parameters())
    buffers = sum(b.numel() for name, b in model.named_buffers() if not name.endswith("num_batches_tracked"))
    return dict(trainable=trainable, buffers=buffers)


# ---------------------------------------------------------------------------------------------------------------
# Benchmark


def max_rss_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def blas_library():
    """Which BLAS torch's Linear layers and matmuls run on. Debian's torch links libblas.so.3, whatever the
    alternatives system points it to: OpenBLAS, or the slow reference (netlib) BLAS of libblas3."""
    try:
        with open("/proc/self/maps") as f:
            paths = {line.split()[-1] for line in f if "blas" in line or "libmkl" in line}
    except OSError:
        return None
    real = sorted({os.path.realpath(p) for p in paths if p.startswith("/")})
    for p in real:
        if "openblas" in p:
            return f"OpenBLAS ({p})"
        if "mkl" in p:
            return f"MKL ({p})"
        if "/blas/libblas" in p:
            return f"reference netlib BLAS ({p})"
    return ", ".join(real) or "none found (torch's own or static)"


def sgemm_gflops(n=512, reps=3):
    """Single-call float32 matmul speed, after the measured steps: shows a slow BLAS at a glance."""
    a, b = torch.rand(n, n), torch.rand(n, n)
    a @ b
    t0 = time.perf_counter()
    for _ in range(reps):
        a @ b
    return 2 * n ** 3 * reps / (time.perf_counter() - t0) / 1e9


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--preset", choices=sorted(PRESETS), default="small")
    p.add_argument("--mode", choices=["train", "infer"], default="train")
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--steps", type=int, default=5, help="measured steps (at most)")
    p.add_argument("--warmup", type=int, default=1, help="unmeasured steps first")
    p.add_argument("--budget", type=float, default=0,
                   help="no new measured step starts after this many measured seconds (0 = off)")
    p.add_argument("--threads", type=int, default=2, help="torch.set_num_threads (intra-op threads)")
    p.add_argument("--memory-format", choices=["channels_last", "contiguous"], default="channels_last",
                   help="layout of the conv activations (channels_last measured 7-17%% faster, see bench/README.md)")
    p.add_argument("--official-residual", action="store_true",
                   help="evaluate each transformer sub-layer twice, as the official Residual wrapper does")
    p.add_argument("--count-params", action="store_true", help="print the parameter counts of both presets and exit")
    p.add_argument("--print-presets", action="store_true", help="print PRESETS as JSON and exit")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", choices=["cpu", "cuda"], default="cpu",
                   help="cuda: the GPU, float32, timed with torch.cuda.synchronize(); peak GPU memory reported")
    p.add_argument("--tf32", action="store_true",
                   help="cuda: allow TF32 in matmuls and convolutions (off by default: strict float32 like dfer)")
    return p.parse_args(argv)


def run(a):
    c = PRESETS[a.preset]
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    fmt = torch.channels_last if a.memory_format == "channels_last" else torch.contiguous_format
    dev = torch.device(a.device)
    if a.device == "cuda":
        # TF32 rounds matmul and conv inputs to 10 mantissa bits: faster on Ampere and later, not float32 arithmetic.
        torch.backends.cuda.matmul.allow_tf32 = a.tf32
        torch.backends.cudnn.allow_tf32 = a.tf32
        torch.backends.cudnn.benchmark = True
    model = Network(c, a.official_residual, fmt).to(device=dev, memory_format=fmt)
    opt = torch.optim.SGD(model.parameters(), **SGD)
    S = c["image_size"]
    clips = torch.rand(a.batch, c["frames"], 3, S, S, device=dev)  # dfer's default input layout (B, T, 3, H, W)
    labels = torch.randint(0, c["num_classes"], (a.batch,), device=dev)
    last = {}
    # A CUDA step is queued, not done, when Python returns: wait for the GPU before reading the clock.
    sync = torch.cuda.synchronize if a.device == "cuda" else (lambda: None)

    def step():
        if a.mode == "train":
            model.train()
            logits, aux2, aux3 = model(clips)
            loss = total_loss(logits, aux2, aux3, labels, c)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            last["loss"] = loss.item()
        else:
            model.eval()
            with torch.no_grad():
                last["loss"] = model(clips)[0][0, 0].item()

    warmup = []
    for i in range(a.warmup):
        t0 = time.perf_counter()
        step()
        sync()
        warmup.append(time.perf_counter() - t0)
        print(f"bench:   warm-up {i + 1}/{a.warmup}: {warmup[-1]:.2f} s", file=sys.stderr, flush=True)
    seconds = []
    for i in range(a.steps):
        if i > 0 and a.budget > 0 and sum(seconds) >= a.budget:
            break
        t0 = time.perf_counter()
        step()
        sync()
        seconds.append(time.perf_counter() - t0)
        print(f"bench:   step {i + 1}/{a.steps}: {seconds[-1]:.2f} s", file=sys.stderr, flush=True)
    med = statistics.median(seconds)
    out = dict(clips_per_s=a.batch / med, median_s=med, steps=len(seconds), step_seconds=seconds,
               warmup_seconds=warmup, last_loss=last.get("loss"), params=count_params(model))
    if a.device == "cuda":
        out.update(gpu=torch.cuda.get_device_name(), gpu_peak_mib=torch.cuda.max_memory_allocated() / 2 ** 20,
                   tf32=a.tf32, cudnn=torch.backends.cudnn.version())
    else:
        out.update(blas=blas_library(), sgemm_gflops=sgemm_gflops())
    return out


def main(argv):
    a = parse_args(argv)
    if a.print_presets:
        print(json.dumps(PRESETS))
        return 0
    if a.count_params:
        for name, c in PRESETS.items():
            print(json.dumps({"preset": name, **count_params(Network(c))}))
        return 0
    backend = "pytorch" if a.device == "cpu" else ("pytorch-cuda-tf32" if a.tf32 else "pytorch-cuda")
    out = dict(backend=backend, device=a.device, preset=a.preset, mode=a.mode, batch=a.batch, status="ok", clips_per_s=None,
               median_s=None, steps=0, step_seconds=[], torch=torch.__version__, threads=a.threads,
               memory_format=a.memory_format, official_residual=a.official_residual,
               openblas_num_threads=os.environ.get("OPENBLAS_NUM_THREADS"))
    t0 = time.perf_counter()
    code = 0
    try:
        out.update(run(a))
    except (MemoryError, RuntimeError) as e:
        msg = str(e).split("\n")[0][:300]
        oom = isinstance(e, MemoryError) or "alloc" in msg.lower() or "out of memory" in msg.lower()
        out["status"] = "oom" if oom else "error"
        out["error"] = msg
        code = 1
    out["max_rss_mib"] = max_rss_mib()
    out["wall_s"] = time.perf_counter() - t0
    print(json.dumps(out), flush=True)
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
