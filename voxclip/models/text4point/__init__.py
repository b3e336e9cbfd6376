"""Text4Point building blocks: correspondences, losses, Text Querying Module."""
from .backbone import Text4PointOutput, Text4PointSRUNet
from .correspondence import project_points, voxel_pixel_correspondences
from .losses import (depth_l1_loss, neighbour_mode_labels, pixel_voxel_contrastive_loss,
                     text_auxiliary_loss)
from .tqm import TextQueryingModule

__all__ = ["project_points", "voxel_pixel_correspondences", "depth_l1_loss",
           "neighbour_mode_labels", "pixel_voxel_contrastive_loss", "text_auxiliary_loss",
           "TextQueryingModule", "Text4PointSRUNet", "Text4PointOutput"]
