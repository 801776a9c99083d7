"""Reading GitLab projects several at once (`sources.gitlab._read_ahead`): answers in the order
the projects were listed, an error at its project, a bounded number asked for ahead, and a scan
interrupted while GitLab is slow to answer ends at once."""

from __future__ import annotations

import signal
import subprocess
import threading
import time

from hypothesis import given, settings, strategies as st

from gitlab_fake import TOKEN, Group, Project, gitlab_server, variable  # noqa: F401
from radar.scan.sources.gitlab import _read_ahead
from radar_cli import RADAR, clean_env


class Boom(Exception):
    pass


@settings(max_examples=150, deadline=None)
@given(delays=st.lists(st.integers(0, 3), max_size=30), threads=st.integers(1, 6),
       failing=st.none() | st.integers(0, 29), stop_after=st.none() | st.integers(1, 30))
def test_answers_come_in_order_an_error_at_its_item_and_few_are_read_ahead(delays, threads, failing, stop_after):
    lock = threading.Lock()
    started: list[int] = []
    given_out = [0]
    most_ahead = [0]

    def read(item: int) -> int:
        with lock:
            started.append(item)
            most_ahead[0] = max(most_ahead[0], len(started) - given_out[0])
        time.sleep(delays[item] / 1000)
        if item == failing:
            raise Boom(item)
        return item * 2

    items = list(range(len(delays)))
    got = []
    stream = _read_ahead(read, items, threads)
    try:
        for item, value in stream:
            got.append((item, value))
            with lock:
                given_out[0] += 1
            if stop_after is not None and len(got) >= stop_after:
                break
        raised = None
    except Boom as error:
        raised = error.args[0]
    finally:
        stream.close()
    expected = [(i, i * 2) for i in items]
    if failing is not None and failing < len(items) and (stop_after is None or stop_after > failing):
        assert raised == failing and got == expected[:failing]
    else:
        assert raised is None and got == expected[:len(got)]
        assert len(got) == (len(items) if stop_after is None else min(stop_after, len(items)))
    # One given out, twice the threads asked for behind it, and those the threads had taken meanwhile.
    assert most_ahead[0] <= 2 * threads + 1 + threads
    time.sleep(0.01)  # what was in flight when the consumer stopped ends; nothing queued starts after it
    assert len(started) <= len(got) + 3 * threads + 1


def test_one_thread_reads_in_the_caller_one_at_a_time():
    seen = []
    assert list(_read_ahead(lambda i: seen.append(threading.current_thread()) or i, [1, 2, 3], 1)) == [
        (1, 1), (2, 2), (3, 3)]
    assert set(seen) == {threading.current_thread()}


def test_a_scan_interrupted_while_gitlab_is_slow_ends_without_waiting_for_it(gitlab_server):
    gitlab_server.groups = [Group(1, "slow", [])]
    gitlab_server.projects = [Project(100 + i, f"slow/p{i}", variables=[variable("V", "on")]) for i in range(400)]
    env = clean_env(RADAR_FINGERPRINT_KEY="test-key", GITLAB_TOKEN=TOKEN)
    proc = subprocess.Popen([*RADAR, "scan", "gitlab", "--url", gitlab_server.url, "--group", "slow",
                             "--format", "json"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        # Once the projects are being listed, every answer takes longer than this test waits.
        deadline = time.monotonic() + 20
        while not any("/groups/1/projects" in r for r in gitlab_server.requests):
            assert time.monotonic() < deadline and proc.poll() is None, "radar never listed the projects"
            time.sleep(0.001)
        gitlab_server.latency = 30.0
        while gitlab_server.in_flight < 2:  # the reading threads (and the listing) wait on GitLab
            assert time.monotonic() < deadline and proc.poll() is None, "radar asked nothing more"
            time.sleep(0.01)
        proc.send_signal(signal.SIGINT)
        status = proc.wait(timeout=10)  # not the 30 s GitLab takes to answer
    finally:
        gitlab_server.latency = 0.0
        proc.kill()
        proc.wait()
    assert status == 130
    assert b"Traceback" not in proc.stderr.read()
