#!/usr/bin/env bash
# Train with torchrun on one node or several (docs/gpu.md).
#
#   tools/dist_train.sh CONFIG GPUS_PER_NODE [tools/train.py options ...]
#
# One node:   tools/dist_train.sh configs/votenet/votenet_srunet34c_scannet.py 4
# Two nodes:  run the same command on both, with the node's rank and node 0's address:
#   NNODES=2 NODE_RANK=0 MASTER_ADDR=10.0.0.1 MASTER_PORT=29500 tools/dist_train.sh CONFIG 8 --sync-bn --auto-scale-lr
#   NNODES=2 NODE_RANK=1 MASTER_ADDR=10.0.0.1 MASTER_PORT=29500 tools/dist_train.sh CONFIG 8 --sync-bn --auto-scale-lr
# Environment: NNODES (1), NODE_RANK (0), MASTER_ADDR (127.0.0.1), MASTER_PORT (29500),
# PYTHON (python3). DRY_RUN=1 prints the torchrun command instead of running it.
set -euo pipefail
if [ $# -lt 2 ]; then
    echo "usage: $0 CONFIG GPUS_PER_NODE [tools/train.py options ...]" >&2
    exit 2
fi
CONFIG=$1
GPUS=$2
shift 2
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
MASTER_ADDR=${MASTER_ADDR:-127.0.0.1}
MASTER_PORT=${MASTER_PORT:-29500}
PYTHON=${PYTHON:-python3}
for pair in "GPUS_PER_NODE=$GPUS" "NNODES=$NNODES" "NODE_RANK=$NODE_RANK" "MASTER_PORT=$MASTER_PORT"; do
    if ! [[ ${pair#*=} =~ ^[0-9]+$ ]]; then
        echo "error: ${pair%%=*} must be a non-negative integer, got '${pair#*=}'" >&2
        exit 2
    fi
done
if [ "$NODE_RANK" -ge "$NNODES" ]; then
    echo "error: NODE_RANK=$NODE_RANK must be below NNODES=$NNODES" >&2
    exit 2
fi
if [ ! -f "$CONFIG" ]; then
    echo "error: $CONFIG: config file not found" >&2
    exit 2
fi
TOOLS=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cmd=("$PYTHON" -m torch.distributed.run --nnodes "$NNODES" --node-rank "$NODE_RANK" --nproc-per-node "$GPUS"
     --master-addr "$MASTER_ADDR" --master-port "$MASTER_PORT"
     "$TOOLS/train.py" "$CONFIG" --launcher pytorch "$@")
if [ "${DRY_RUN:-0}" = 1 ]; then
    printf '%q ' "${cmd[@]}"
    echo
    exit 0
fi
export PYTHONPATH="$(dirname "$TOOLS")${PYTHONPATH:+:$PYTHONPATH}"
exec "${cmd[@]}"
