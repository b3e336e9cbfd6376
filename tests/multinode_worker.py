"""torchrun entry point for tests/test_distributed.py: tools/train.py's own runner, then each rank
writes its parameters (before and after training) so the test can compare ranks.

    torchrun ... tests/multinode_worker.py OUT_DIR CONFIG --launcher pytorch [train.py options]
"""
import os
import sys

import torch
import torch.distributed as dist

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
import train  # noqa: E402


def _params(model):
    model = getattr(model, "module", model)  # MMDistributedDataParallel
    return {n: p.detach().cpu().clone() for n, p in model.named_parameters()}


def main():
    out, argv = sys.argv[1], sys.argv[2:]
    runner = train.build_runner(train.parse_args(argv))
    before = _params(runner.model)
    runner.train()
    rank = dist.get_rank()
    torch.save({"before": before, "after": _params(runner.model), "world_size": dist.get_world_size(),
                "lr": runner.optim_wrapper.param_groups[0]["initial_lr"]
                if "initial_lr" in runner.optim_wrapper.param_groups[0] else None},
               os.path.join(out, f"rank{rank}.pt"))
    train.finish_distributed()


if __name__ == "__main__":
    main()
