"""Synthetic datasets written in the real raw formats (ScanNet v2, SUN RGB-D).

Import the submodules directly (``data_prep.synthetic.scannet``); nothing heavy (open3d) is
imported until frames are rendered.
"""
