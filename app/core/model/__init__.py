"""A model as the station knows it: the contract with training, loading and verifying the files,
which execution provider runs it, and which models the station trusts."""
