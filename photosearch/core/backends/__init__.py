"""Inference backends behind one protocol (backends.base.Backend): torch, ONNX Runtime, OpenVINO.

Backends import from photosearch.core (models, devices, paths) and from each other's shared
modules (base, export); nothing in here imports photosearch.core.encoder, which picks one.
"""
