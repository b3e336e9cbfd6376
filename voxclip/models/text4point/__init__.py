"""Text4Point: correspondences, losses, Text Querying Module, the TQM backbone, the 2D decoder and
the pretraining model; importing registers them."""
from .backbone import Text4PointOutput, Text4PointSRUNet
from .correspondence import project_points, voxel_pixel_correspondences
from .losses import (depth_l1_loss, neighbour_mode_labels, pixel_voxel_contrastive_loss,
                     text_auxiliary_loss)
from .decoder2d import Text4PointDecoder2D, Text4PointDepthHead
from .pretrain import Text4PointPretrainer
from .tqm import TextQueryingModule

__all__ = ["project_points", "voxel_pixel_correspondences", "depth_l1_loss",
           "neighbour_mode_labels", "pixel_voxel_contrastive_loss", "text_auxiliary_loss",
           "TextQueryingModule", "Text4PointSRUNet", "Text4PointOutput",
           "Text4PointDecoder2D", "Text4PointDepthHead", "Text4PointPretrainer"]
