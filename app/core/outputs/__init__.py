"""What leaves the station as files: the scores CSV, the HTML report, atomic writes, and the
inspectors' review decisions exported beside them."""
