"""Child registries of mmengine's roots; every voxclip component registers here.

Configs name components by type string; `locations` lets mmengine import the module that
registers a type on first use, so a config never needs an explicit import.
"""
from mmengine.registry import DATASETS as MMENGINE_DATASETS
from mmengine.registry import HOOKS as MMENGINE_HOOKS
from mmengine.registry import METRICS as MMENGINE_METRICS
from mmengine.registry import MODELS as MMENGINE_MODELS
from mmengine.registry import TRANSFORMS as MMENGINE_TRANSFORMS
from mmengine.registry import Registry

MODELS = Registry("model", parent=MMENGINE_MODELS, locations=["voxclip.models"])
DATASETS = Registry("dataset", parent=MMENGINE_DATASETS, locations=["voxclip.datasets", "voxclip.interop"])
TRANSFORMS = Registry("transform", parent=MMENGINE_TRANSFORMS, locations=["voxclip.datasets.transforms"])
METRICS = Registry("metric", parent=MMENGINE_METRICS, locations=["voxclip.evaluation"])
HOOKS = Registry("hook", parent=MMENGINE_HOOKS, locations=["voxclip.engine", "voxclip.visualization"])


# Empty 'voxclip' children of the other mmengine roots the Runner builds from (loops, optimizers,
# schedulers, samplers, visualisers ...): with `default_scope='voxclip'` mmengine otherwise warns
# "Failed to search registry with scope voxclip" once per registry at every start. Lookups fall
# through to mmengine's own registries.
def _scope_children():
    import mmengine.registry as roots

    names = ("DATA_SAMPLERS", "EVALUATOR", "LOG_PROCESSORS", "LOOPS", "MODEL_WRAPPERS", "OPTIMIZERS",
             "OPTIM_WRAPPERS", "OPTIM_WRAPPER_CONSTRUCTORS", "PARAM_SCHEDULERS", "RUNNERS", "RUNNER_CONSTRUCTORS",
             "VISBACKENDS", "VISUALIZERS", "WEIGHT_INITIALIZERS", "FUNCTIONS", "TASK_UTILS", "INFERENCERS",
             "STRATEGIES")
    out = {}
    for name in names:
        root = getattr(roots, name, None)
        if root is not None and "voxclip" not in root.children:
            out[name] = Registry(root.name, parent=root, scope="voxclip")
    return out


SCOPE_CHILDREN = _scope_children()
