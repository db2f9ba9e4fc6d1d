"""The viewer's jobs on their own: decoded, scored and mapped on the pool's thread, their results
delivered on the GUI thread (the caches and the newest-request check live there)."""
import pytest
from PySide6.QtCore import QCoreApplication, Qt, QThread

from app.core.model.loader import load_model
from app.core.scoring.engine import Engine
from app.ui.tasks import TaskOwner
from app.ui.viewer_jobs import ViewerJobs

pytestmark = pytest.mark.gui


@pytest.fixture
def engine(exported_student):
    return Engine(load_model(exported_student[1]))


def test_a_jobs_results_arrive_on_the_gui_thread(qtbot, engine, photo_folder):
    tasks = TaskOwner()
    jobs = ViewerJobs(tasks)
    heard = []  # (signal, the thread its receiver ran in): a direct connection runs where ViewerJobs emits

    def record(name):
        return lambda *args: heard.append((name, QThread.currentThread()))

    for name in ("scored", "progress", "mapped"):
        getattr(jobs, name).connect(record(name), Qt.DirectConnection)
    first, second = str(photo_folder / "p0.png"), str(photo_folder / "p1.png")
    jobs.request(engine, first)
    qtbot.waitUntil(lambda: ("mapped" in {n for n, _ in heard}), timeout=20000)
    jobs.prefetch(engine, second)  # shows nothing, but its end is handled on the GUI thread too
    assert jobs.wait(20000)
    qtbot.waitUntil(lambda: not jobs.busy(), timeout=5000)
    jobs.request(engine, str(photo_folder / "broken.jpg"))  # a photo that fails ends as 'mapped' too
    qtbot.waitUntil(lambda: [n for n, _ in heard].count("mapped") == 2, timeout=20000)

    names = [n for n, _ in heard]
    assert names[0] == "scored" and "progress" in names and names.count("mapped") == 2
    gui = QCoreApplication.instance().thread()
    assert all(thread is gui for _, thread in heard), [n for n, t in heard if t is not gui]
    assert jobs.cached_maps == 1
    assert tasks.drain(5000)


def test_a_photo_scored_while_its_scores_changed_is_scored_again_when_shown_next(qtbot, engine, photo_folder,
                                                                                monkeypatch):
    """A calibration applied while the viewer's job was scoring the shown photo: the job's old
    score must not be cached, or showing the photo again shows the score from before."""
    import threading

    from app.ui import viewer_jobs

    release, started, scored_with = threading.Event(), threading.Event(), []
    real = viewer_jobs.score_photo

    def slow_score(engine_, path, *args, **kwargs):
        scored_with.append(path)
        if len(scored_with) == 1:
            started.set()
            release.wait(10)
        return real(engine_, path, *args, **kwargs)

    monkeypatch.setattr(viewer_jobs, "score_photo", slow_score)
    tasks = TaskOwner()
    jobs = ViewerJobs(tasks)
    photo = str(photo_folder / "p0.png")
    jobs.request(engine, photo)
    assert started.wait(10)
    jobs.forget()  # the scores changed while the job scored
    jobs.request(engine, photo)
    release.set()
    assert jobs.wait(20000)
    qtbot.waitUntil(lambda: not jobs.busy(), timeout=5000)
    assert len(scored_with) == 2  # scored again, not shown from the job that started before the change
    assert tasks.drain(5000)
