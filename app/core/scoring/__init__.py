"""Scoring a photo: how a model reads it, the ONNX pass, native-resolution maps, overlays, the
site calibration of the score, the verdict from thresholds, and one photo scored into the catalogue."""
