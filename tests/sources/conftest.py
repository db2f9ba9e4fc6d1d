import pytest


class FakeClock:
    """A monotonic clock the test moves by hand (set ``t``)."""

    def __init__(self):
        self.t = 0.0

    def __call__(self):
        return self.t


@pytest.fixture
def clock():
    return FakeClock()
