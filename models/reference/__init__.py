"""Reference networks: architectures kept to measure ours against, never shipped or exported.

``paper_mobileiqa.PaperMobileIQANet`` is the MobileIQA authors' network at their published
dimensions (~81 M parameters, the ``paper`` config). Build it with ``models.create_model("paper")``;
nothing outside ``models/`` imports this package.
"""
