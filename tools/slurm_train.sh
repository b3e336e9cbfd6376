#!/usr/bin/env bash
# Train under Slurm: one task per GPU, srun starts them, torch.distributed reads the rank from
# Slurm's variables through torchrun-style environment set below (docs/gpu.md).
#
#   tools/slurm_train.sh PARTITION JOB_NAME CONFIG [tools/train.py options ...]
#
# Environment: GPUS (total, 8), GPUS_PER_NODE (8), CPUS_PER_TASK (8), MASTER_PORT (29500),
# SRUN_ARGS (extra srun options), PYTHON (python3). DRY_RUN=1 prints the srun command.
# Two nodes of 8 GPUs: GPUS=16 tools/slurm_train.sh gpu votenet configs/votenet/votenet_srunet34c_scannet.py --sync-bn
set -euo pipefail
if [ $# -lt 3 ]; then
    echo "usage: $0 PARTITION JOB_NAME CONFIG [tools/train.py options ...]" >&2
    exit 2
fi
PARTITION=$1
JOB_NAME=$2
CONFIG=$3
shift 3
GPUS=${GPUS:-8}
GPUS_PER_NODE=${GPUS_PER_NODE:-8}
CPUS_PER_TASK=${CPUS_PER_TASK:-8}
MASTER_PORT=${MASTER_PORT:-29500}
PYTHON=${PYTHON:-python3}
for pair in "GPUS=$GPUS" "GPUS_PER_NODE=$GPUS_PER_NODE" "CPUS_PER_TASK=$CPUS_PER_TASK" "MASTER_PORT=$MASTER_PORT"; do
    if ! [[ ${pair#*=} =~ ^[1-9][0-9]*$ ]]; then
        echo "error: ${pair%%=*} must be a positive integer, got '${pair#*=}'" >&2
        exit 2
    fi
done
if [ $((GPUS % GPUS_PER_NODE)) -ne 0 ] && [ "$GPUS" -gt "$GPUS_PER_NODE" ]; then
    echo "error: GPUS=$GPUS is not a multiple of GPUS_PER_NODE=$GPUS_PER_NODE" >&2
    exit 2
fi
if [ ! -f "$CONFIG" ]; then
    echo "error: $CONFIG: config file not found" >&2
    exit 2
fi
TOOLS=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# Each task maps Slurm's ids to the variables torch.distributed's env:// init reads
# (mmengine's --launcher pytorch); node 0 of the allocation hosts the rendezvous.
inner='export RANK=$SLURM_PROCID LOCAL_RANK=$SLURM_LOCALID WORLD_SIZE=$SLURM_NTASKS
export MASTER_ADDR=$(scontrol show hostnames "$SLURM_JOB_NODELIST" | head -n 1)
exec "$0" "$@"'
cmd=(srun -p "$PARTITION" --job-name="$JOB_NAME" --gres="gpu:$((GPUS < GPUS_PER_NODE ? GPUS : GPUS_PER_NODE))"
     --ntasks="$GPUS" --ntasks-per-node="$((GPUS < GPUS_PER_NODE ? GPUS : GPUS_PER_NODE))"
     --cpus-per-task="$CPUS_PER_TASK" --kill-on-bad-exit=1 ${SRUN_ARGS:-}
     env MASTER_PORT="$MASTER_PORT" PYTHONPATH="$(dirname "$TOOLS")${PYTHONPATH:+:$PYTHONPATH}"
     bash -c "$inner" "$PYTHON" "$TOOLS/train.py" "$CONFIG" --launcher pytorch "$@")
if [ "${DRY_RUN:-0}" = 1 ]; then
    printf '%q ' "${cmd[@]}"
    echo
    exit 0
fi
exec "${cmd[@]}"
