"""People's opinions of photos: labeling sessions, MOS, rater screening, the P.913 subject model,
and ratings in and out as CSV. Knows nothing of models or scoring."""
