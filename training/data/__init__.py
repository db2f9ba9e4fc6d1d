"""Datasets for the training stages: MOS-rated photos, synthetic distortions, unlabeled folders."""
