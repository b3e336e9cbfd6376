"""Glue between voxclip and mmengine's Runner: atomic checkpoints, config preparation, reports."""
from .atomic_backend import AtomicLocalBackend, register_atomic_backend
from .setup import finish_distributed, import_all_modules, prepare_config
from .report import format_detection_table, format_expected, format_results_table, format_segmentation_table
from .checkpoint_io import CheckpointError, load_checkpoint_file, set_unsafe_load
from .config_load import load_config
from .rng_hook import RNGStateHook
from .class_names_hook import ClassNamesFromDataset
from .runner import VoxclipRunner

__all__ = [
    "AtomicLocalBackend", "register_atomic_backend", "import_all_modules",
    "prepare_config", "finish_distributed", "format_detection_table", "format_expected", "format_results_table", "format_segmentation_table",
    "CheckpointError", "load_checkpoint_file", "set_unsafe_load", "load_config", "RNGStateHook", "VoxclipRunner",
    "ClassNamesFromDataset",
]
