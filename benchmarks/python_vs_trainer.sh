#!/usr/bin/env bash
# The TorchSharp trainer against Debian's Python PyTorch hand loop (/work/shared/bench/ref_pytorch.py, copied as
# ref_pytorch.py next to this script when given), alternating in ONE script run: each round runs Python (with the
# allocator settings of Lightning's KeepHeap through MALLOC_*), then the trainer, on Fashion-MNIST, same model, batch
# sizes and threads; prints per-round ms/step and the median ratio trainer / Python. Needs python3-torch.
# Usage: bash benchmarks/python_vs_trainer.sh [ROUNDS (3)] [PATH/TO/ref_pytorch.py]
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
ref=${2:-/work/shared/bench/ref_pytorch.py}
B=benchmarks/Lightning.Benchmarks/bin/Release/net10.0/Lightning.Benchmarks.dll
[ -f "$B" ] || dotnet build -c Release benchmarks/Lightning.Benchmarks/Lightning.Benchmarks.csproj -nologo -v quiet
/usr/bin/python3 -c 'import torch' 2>/dev/null || { echo "python3-torch is missing: sudo apt-get install -y python3-torch"; exit 1; }
out=$(mktemp -d)
for r in $(seq 1 "$rounds"); do
  env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=2147483647 MALLOC_TOP_PAD_=268435456 \
    /usr/bin/python3 "$ref" --skip-fit --bs 64 256 --steps 100 > "$out/py$r.txt"
  dotnet "$B" --bs 64 256 --rounds 1 --data fashion > "$out/net$r.txt"
  py_c64=$(awk '/^cnn_ms_per_step_b64/ {print $2}' "$out/py$r.txt"); py_c256=$(awk '/^cnn_ms_per_step_b256/ {print $2}' "$out/py$r.txt")
  py_m64=$(awk '/^mlp_ms_per_step_b64/ {print $2}' "$out/py$r.txt")
  net_c64=$(awk '/^cnn_b64 hand/ {v = $6} END {print v}' "$out/net$r.txt"); net_c256=$(awk '/^cnn_b256 hand/ {v = $6} END {print v}' "$out/net$r.txt")
  net_m64=$(awk '/^mlp_b64 hand/ {v = $6} END {print v}' "$out/net$r.txt")
  echo "round $r python cnn_b64 $py_c64 cnn_b256 $py_c256 mlp_b64 $py_m64 | trainer cnn_b64 $net_c64 cnn_b256 $net_c256 mlp_b64 $net_m64" |
    tee -a "$out/rounds.txt"
done
awk '{ c64[NR] = $13 / $5; c256[NR] = $15 / $7; m64[NR] = $17 / $9 }
  function median(a, n,   i, j, t) { for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
                                     return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2 }
  END { printf "median trainer/python: cnn_b64 %.3f cnn_b256 %.3f mlp_b64 %.3f (rounds %d)\n", median(c64, NR), median(c256, NR), median(m64, NR), NR }' "$out/rounds.txt"
