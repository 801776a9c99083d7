"""`radar mask -- CMD`, end to end: both streams masked, status and signals passed on, no deadlock."""

from __future__ import annotations

import signal
import subprocess

import pytest

from radar_cli import (
    RADAR, SECRET, WAIT, assert_one_line_error, clean_env, python, radar, read_until, secret_file,
    wait_for_file,
)


def mask_cmd(tmp_path, *cmd: str) -> list[str]:
    return [*RADAR, "mask", "--secret-file", str(secret_file(tmp_path)), "--", *cmd]


# --- output ----------------------------------------------------------------------------------

def test_stdout_and_stderr_are_masked_separately(tmp_path):
    code = ("import sys; print('out secret-value-1', flush=True); "
            "print('err secret-value-1', file=sys.stderr)")
    result = radar("mask", "--secret-file", secret_file(tmp_path), "--", *python(code))
    assert (result.stdout, result.stderr) == (b"out [MASKED]\n", b"err [MASKED]\n")


def test_stdin_is_passed_to_the_command(tmp_path):
    result = radar("mask", "--secret-file", secret_file(tmp_path), "--", "cat",
                   input=b"from stdin secret-value-1\n")
    assert result.stdout == b"from stdin [MASKED]\n"


def test_options_after_dash_dash_belong_to_the_command(tmp_path):
    result = radar("mask", "--secret-file", secret_file(tmp_path), "--",
                   "sh", "-c", 'echo "$@"', "sh", "--marker", "--secret-file", "secret-value-1")
    assert result.stdout == b"--marker --secret-file [MASKED]\n"


def test_environment_is_passed_to_the_command():
    env = clean_env(APP_PASSWORD="env-password-5")
    result = radar("mask", "--", "sh", "-c", 'echo "pw=$APP_PASSWORD"', env=env)
    assert result.stdout == b"pw=[MASKED]\n"


def test_megabytes_on_both_streams_do_not_deadlock(tmp_path):
    # 10 MB on stderr, 20 MB on stdout, 10 MB on stderr: a reader that drains one pipe to its
    # end before the other blocks forever, whichever pipe it starts with.
    code = """
import sys
line = b"x" * 1000 + b" secret-value-1\\n"
def write(stream, mb):
    for _ in range(mb * 1000):
        stream.write(line)
    stream.flush()
write(sys.stderr.buffer, 10)
write(sys.stdout.buffer, 20)
write(sys.stderr.buffer, 10)
"""
    proc = subprocess.Popen(mask_cmd(tmp_path, *python(code)), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=clean_env())
    try:
        out, err = proc.communicate(timeout=300)
    finally:
        proc.kill()
    assert proc.returncode == 0
    masked_line = b"x" * 1000 + b" [MASKED]\n"
    assert out == masked_line * 20_000
    assert err == masked_line * 20_000


def test_output_that_cannot_start_a_secret_is_written_before_the_command_goes_on(tmp_path):
    go = tmp_path / "go"
    code = """
import os, sys, time
sys.stdout.write("hello wor")
sys.stdout.flush()
while not os.path.exists(sys.argv[1]):
    time.sleep(0.01)
print("ld secret-value-1")
"""
    proc = subprocess.Popen(mask_cmd(tmp_path, *python(code, go)), stdout=subprocess.PIPE,
                            env=clean_env())
    try:
        assert read_until(proc.stdout.fileno(), b"hello wor") == b"hello wor"
        go.touch()
        assert proc.stdout.read() == b"ld [MASKED]\n"
        assert proc.wait(WAIT) == 0
    finally:
        proc.kill()


def test_closed_standard_output_closes_the_commands_pipe_quietly(tmp_path):
    # `radar mask -- yes | head -c 10`: yes gets SIGPIPE as it would without radar.
    proc = subprocess.Popen(mask_cmd(tmp_path, "yes", "secret-value-1"), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=clean_env())
    try:
        assert proc.stdout.read(10) == b"[MASKED]\n["
        proc.stdout.close()
        assert proc.wait(WAIT) == 128 + signal.SIGPIPE
        assert proc.stderr.read() == b""
    finally:
        proc.kill()


# --- exit status -----------------------------------------------------------------------------

@pytest.mark.parametrize("status", [0, 1, 3, 255])
def test_exit_status_is_the_commands(tmp_path, status):
    result = radar("mask", "--secret-file", secret_file(tmp_path), "--", "sh", "-c", f"exit {status}")
    assert result.returncode == status


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGUSR1, signal.SIGTERM])
def test_death_by_signal_n_gives_128_plus_n(tmp_path, sig):
    code = f"import os; os.kill(os.getpid(), {int(sig)})"
    result = radar("mask", "--secret-file", secret_file(tmp_path), "--", *python(code))
    assert result.returncode == 128 + sig
    assert b"Traceback" not in result.stderr


def test_command_not_found_is_one_line_and_status_127(tmp_path):
    result = radar("mask", "--secret-file", secret_file(tmp_path), "--", "no-such-command-xyz")
    assert "command not found: no-such-command-xyz" in assert_one_line_error(result, SECRET)
    assert result.returncode == 127


@pytest.mark.parametrize(
    "content, mode, message",
    [
        pytest.param("echo hi\n", 0o644, "cannot execute", id="not-executable"),
        pytest.param("#!/no/such/interpreter\necho hi\n", 0o755, "interpreter", id="missing-interpreter"),
    ],
)
def test_script_that_cannot_run_is_one_line_and_status_126(tmp_path, content, mode, message):
    script = tmp_path / "deploy.sh"
    script.write_text(content)
    script.chmod(mode)
    result = radar("mask", "--secret-file", secret_file(tmp_path), "--", str(script))
    assert message in assert_one_line_error(result, SECRET)
    assert result.returncode == 126


def test_a_missing_secret_source_stops_radar_before_the_command_runs(tmp_path):
    ran = tmp_path / "ran"
    result = radar("mask", "--secret-env", "NOT_SET_ANYWHERE", "--", "touch", str(ran))
    assert_one_line_error(result)
    assert result.returncode == 2
    assert not ran.exists()


# --- signals ---------------------------------------------------------------------------------

@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGQUIT])
def test_signals_sent_to_radar_reach_the_command(tmp_path, sig):
    # The command traps the signal, writes which one it got, prints a secret while shutting down
    # (still masked), and exits 7; radar waits for it and exits 7 too.
    ready, got = tmp_path / "ready", tmp_path / "got"
    code = f"""
import pathlib, signal, sys
def stop(signum, frame):
    pathlib.Path(sys.argv[2]).write_text(signal.Signals(signum).name)
    print("bye secret-value-1", flush=True)
    sys.exit(7)
signal.signal({int(sig)}, stop)
pathlib.Path(sys.argv[1]).touch()
while True:
    signal.pause()
"""
    # A session of its own: no terminal, as in CI, and the test's own signals stay its own.
    proc = subprocess.Popen(mask_cmd(tmp_path, *python(code, ready, got)), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=clean_env(), start_new_session=True)
    try:
        wait_for_file(ready, proc)
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=WAIT)
    finally:
        proc.kill()
    assert got.read_text() == sig.name
    assert proc.returncode == 7
    assert (out, err) == (b"bye [MASKED]\n", b"")


def test_full_disk_on_standard_output_is_one_line_after_the_command_ends(tmp_path):
    with open("/dev/full", "wb") as full:
        result = subprocess.run(mask_cmd(tmp_path, "echo", "hello"), stdout=full,
                                stderr=subprocess.PIPE, env=clean_env(), timeout=WAIT)
    assert "cannot write standard output: No space left on device" in assert_one_line_error(result)
    assert result.returncode == 2
