"""Headless pictures and .ply exports of scenes, boxes, segmentations, PR curves and training logs."""
from .colors import class_colors, label_colors
from .hook import ShowResultsHook
from .instances import render_instances
from .ply import write_scene_ply
from .pr_sheet import figure_pr_sheet, save_pr_sheet
from .render import render_detection, render_segmentation
from .scene import BoxSet, SceneView, figure_bev, figure_perspective, figure_segmentation, save_scene_views

__all__ = ["class_colors", "label_colors", "ShowResultsHook", "render_instances", "write_scene_ply", "figure_pr_sheet",
           "save_pr_sheet", "render_detection", "render_segmentation", "BoxSet", "SceneView", "figure_bev",
           "figure_perspective", "figure_segmentation", "save_scene_views"]
