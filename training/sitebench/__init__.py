"""A real-ratings site benchmark (issue 24 item 1): a site's rated photos that the base model never
trained on, votes drawn around their laboratory MOS, imported through ``ratings import`` into a fresh
station, then the fine-tune and the calibration judged on the same fixed test photos at several
numbers of rated photos. ``scripts/site_benchmark.py`` is the command; each module does one step:

- ``votes``: the simulated raters (bias and noise around each photo's MOS, seeded);
- ``sites``: which photos make a site, and their MOS;
- ``plan``: the fixed test photos and the nested sets of n rated photos;
- ``station``: a fresh home, the photos scored there, the votes imported through the CLI;
- ``children``: a child process timed, with its peak memory;
- ``calibrate``: the calibration child (fitted on train + validation, judged on test);
- ``report``: the markdown tables.
"""
