"""`radar mask` over standard input, end to end: sources, options, errors, streaming, memory."""

from __future__ import annotations

import signal
import subprocess
import sys

import pytest

from radar_cli import (
    RADAR, SECRET, WAIT, assert_one_line_error, clean_env, radar, read_until, secret_file,
    without_file_access_override,
)

LOG = b"login with secret-value-1 ok\n"
MASKED_LOG = b"login with [MASKED] ok\n"


# --- where secrets come from -----------------------------------------------------------------

def test_secret_file_is_masked_in_standard_input(tmp_path):
    result = radar("mask", "--secret-file", secret_file(tmp_path), input=LOG)
    assert (result.returncode, result.stdout, result.stderr) == (0, MASKED_LOG, b"")


def test_secret_file_whitespace_around_the_value_is_trimmed(tmp_path):
    path = secret_file(tmp_path, b"\n  " + SECRET + b"\r\n")
    assert radar("mask", "--secret-file", path, input=LOG).stdout == MASKED_LOG


def test_secret_env_value_is_masked():
    result = radar("mask", "--secret-env", "DEPLOY_KEY", input=LOG,
                   env=clean_env(DEPLOY_KEY=SECRET.decode()))
    assert result.stdout == MASKED_LOG


def test_secret_env_file_type_variable_masks_the_file_content(tmp_path):
    path = secret_file(tmp_path)
    result = radar("mask", "--secret-env", "DEPLOY_KEY", input=LOG + str(path).encode(),
                   env=clean_env(DEPLOY_KEY=str(path)))
    assert result.stdout == MASKED_LOG + str(path).encode()


def test_without_sources_variables_named_like_secrets_are_masked():
    result = radar("mask", input=LOG, env=clean_env(DB_PASSWORD=SECRET.decode()))
    assert result.stdout == MASKED_LOG


def test_without_sources_a_bare_api_key_variable_is_masked():
    result = radar("mask", input=LOG, env=clean_env(API_KEY=SECRET.decode()))
    assert result.stdout == MASKED_LOG


def test_without_sources_radar_mask_vars_adds_variables():
    env = clean_env(RADAR_MASK_VARS="LICENSE_ID", LICENSE_ID=SECRET.decode())
    assert radar("mask", input=LOG, env=env).stdout == MASKED_LOG


def test_env_glob_replaces_the_default_globs():
    env = clean_env(LICENSE_ID=SECRET.decode(), DB_PASSWORD="other-password-1")
    result = radar("mask", "--env-glob", "license_*", input=LOG + b"other-password-1\n", env=env)
    assert result.stdout == MASKED_LOG + b"other-password-1\n"


def test_env_glob_adds_the_environment_to_explicit_sources(tmp_path):
    path = secret_file(tmp_path, b"file-secret-2")
    env = clean_env(LICENSE_ID=SECRET.decode())
    result = radar("mask", "--secret-file", path, "--env-glob", "LICENSE_*",
                   input=LOG + b"file-secret-2\n", env=env)
    assert result.stdout == MASKED_LOG + b"[MASKED]\n"


def test_explicit_sources_replace_the_environment_scan(tmp_path):
    env = clean_env(DB_PASSWORD="other-password-1")
    result = radar("mask", "--secret-file", secret_file(tmp_path), input=b"other-password-1\n", env=env)
    assert result.stdout == b"other-password-1\n"


# --- options ---------------------------------------------------------------------------------

def test_marker_replaces_the_default(tmp_path):
    result = radar("mask", "--secret-file", secret_file(tmp_path), "--marker", "***", input=LOG)
    assert result.stdout == b"login with *** ok\n"


def test_short_secret_is_refused_with_a_warning_naming_its_source_not_its_value(tmp_path):
    path = secret_file(tmp_path, b"short7!")
    result = radar("mask", "--secret-file", path, input=b"short7! stays\n")
    assert result.returncode == 0
    assert result.stdout == b"short7! stays\n"
    [warning] = result.stderr.decode().splitlines()
    assert warning.startswith(f"radar: warning: file {path} ")
    assert "short7!" not in warning


def test_min_length_lowers_the_floor(tmp_path):
    path = secret_file(tmp_path, b"short7!")
    result = radar("mask", "--secret-file", path, "--min-length", "4", input=b"short7! gone\n")
    assert (result.stdout, result.stderr) == (b"[MASKED] gone\n", b"")


def test_each_refused_source_gets_its_own_warning():
    env = clean_env(A_TOKEN="abc", B_TOKEN="defg")
    lines = radar("mask", input=b"", env=env).stderr.decode().splitlines()
    assert [line.split()[2:4] for line in lines] == [["variable", "A_TOKEN"], ["variable", "B_TOKEN"]]


def test_token_prefix_masks_bodies_of_unregistered_tokens():
    result = radar("mask", "--token-prefix", "acme_", input=b"key acme_9f8e7d6c5b4a done\n")
    assert result.stdout == b"key acme_[MASKED] done\n"


def test_gitlab_tokens_are_masked_without_any_registration():
    result = radar("mask", input=b"see glpat-abcdef1234567890 now\n")
    assert result.stdout == b"see glpat-[MASKED] now\n"


def test_allow_add_mask_registers_the_value_and_hides_the_line():
    stream = b"start\n::add-mask::added-value-9\nuse added-value-9 here\n"
    result = radar("mask", "--allow-add-mask", input=stream)
    assert result.stdout == b"start\nuse [MASKED] here\n"


def test_a_value_longer_than_hyperscan_takes_registered_mid_stream_is_masked():
    value = bytes(range(48, 58)) * 900  # its hex form (18,000 characters) is over Hyperscan's limit
    stream = b"before\n::add-mask::" + value + b"\nafter " + value + b" end\n"
    result = radar("mask", "--engine", "hyperscan", "--allow-add-mask", input=stream)
    assert (result.returncode, result.stdout, result.stderr) == (0, b"before\nafter [MASKED] end\n", b"")


def test_an_add_mask_line_too_long_is_refused_with_a_warning_that_names_no_value():
    value = b"0123456789" * 7000  # 70,000 bytes: over the 64 KiB a registration line may have
    stream = b"before\n::add-mask::" + value + b"\nafter\n"
    result = radar("mask", "--allow-add-mask", input=stream)
    assert (result.returncode, result.stdout) == (0, b"before\nafter\n")
    assert result.stderr == (b"radar: warning: ::add-mask:: line 1 of the stream is longer than 64 KiB "
                             b"and was not registered (nor written)\n")


def test_add_mask_lines_are_ordinary_output_without_the_option():
    stream = b"::add-mask::added-value-9\n"
    assert radar("mask", input=stream).stdout == stream


def test_both_engines_give_identical_output(tmp_path):
    path = secret_file(tmp_path, b"Pass word 123!")
    stream = (b"raw Pass word 123! b64 UGFzcyB3b3JkIDEyMyE= url Pass%20word%20123%21 "
              b"https://u:pw-123456@h/x?private_token=abc \xff\xfe\r\n") * 50
    outputs = {engine: radar("mask", "--engine", engine, "--secret-file", path, input=stream)
               for engine in ("hyperscan", "ahocorasick")}
    assert outputs["hyperscan"].stdout == outputs["ahocorasick"].stdout
    assert b"Pass" not in outputs["hyperscan"].stdout


# --- input and output ------------------------------------------------------------------------

def test_empty_input_gives_empty_output(tmp_path):
    result = radar("mask", "--secret-file", secret_file(tmp_path), input=b"")
    assert (result.returncode, result.stdout, result.stderr) == (0, b"", b"")


def test_bytes_outside_secrets_pass_through_unchanged(tmp_path):
    path = secret_file(tmp_path, b"secret-bin-1")
    result = radar("mask", "--secret-file", path, input=b"a\xffsecret-bin-1\xfe\x00\r")
    assert result.stdout == b"a\xff[MASKED]\xfe\x00\r"


def test_bytes_that_cannot_start_a_secret_are_written_before_more_input_arrives(tmp_path):
    proc = subprocess.Popen([*RADAR, "mask", "--secret-file", secret_file(tmp_path)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=clean_env())
    try:
        proc.stdin.write(b"hello wor")
        proc.stdin.flush()
        assert read_until(proc.stdout.fileno(), b"hello wor") == b"hello wor"
        proc.stdin.write(b"ld secret-value-1\n")
        proc.stdin.close()
        assert proc.stdout.read() == b"ld [MASKED]\n"
        assert proc.wait(WAIT) == 0
    finally:
        proc.kill()


# Reports the peak RSS of the largest process it ran. It is a fresh, small process on purpose:
# Linux counts a parent's resident size at fork in the child's maximum, so measuring from
# pytest itself would report pytest's size.
PEAK_RSS = ("import resource, subprocess, sys; status = subprocess.call(sys.argv[1:]); "
            "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr); "
            "sys.exit(status)")


def test_a_1gb_stream_without_newlines_keeps_memory_flat(tmp_path):
    # The stream comes from head|tr, never from Python memory.
    path = secret_file(tmp_path)
    pipeline = (
        "set -o pipefail; "
        "{ head -c 1G /dev/zero | tr '\\0' a; printf ' secret-value-1'; } "
        f"| {' '.join(RADAR)} mask --secret-file {path} | tail -c 24"
    )
    result = subprocess.run([sys.executable, "-c", PEAK_RSS, "timeout", "600", "bash", "-c", pipeline],
                            capture_output=True, env=clean_env(), timeout=660)
    assert result.returncode == 0, result.stderr
    assert result.stdout == b"a" * 15 + b" [MASKED]"
    peak_mb = int(result.stderr.split()[-1]) / 1024
    assert peak_mb < 150, f"peak RSS {peak_mb:.0f} MB"


def test_closed_standard_output_ends_radar_quietly_with_status_141(tmp_path):
    yes = subprocess.Popen(["yes", "secret-value-1"], stdout=subprocess.PIPE)
    proc = subprocess.Popen([*RADAR, "mask", "--secret-file", secret_file(tmp_path)],
                            stdin=yes.stdout, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=clean_env())
    yes.stdout.close()
    try:
        assert proc.stdout.read(10) == b"[MASKED]\n["
        proc.stdout.close()
        assert proc.wait(WAIT) == 141
        assert proc.stderr.read() == b""
    finally:
        proc.kill()
        yes.kill()
        yes.wait()


def test_ctrl_c_ends_radar_quietly_with_status_130(tmp_path):
    proc = subprocess.Popen([*RADAR, "mask", "--secret-file", secret_file(tmp_path)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=clean_env(), start_new_session=True)
    try:
        proc.stdin.write(b"ready ")
        proc.stdin.flush()
        read_until(proc.stdout.fileno(), b"ready ")  # radar is in its copy loop now
        proc.send_signal(signal.SIGINT)
        assert proc.wait(WAIT) == 130
        assert proc.stderr.read() == b""
    finally:
        proc.kill()


# --- errors ----------------------------------------------------------------------------------

def test_missing_secret_file_is_one_line_naming_it_and_status_2(tmp_path):
    result = radar("mask", "--secret-file", tmp_path / "nope", input=LOG)
    message = assert_one_line_error(result)
    assert result.returncode == 2
    assert str(tmp_path / "nope") in message
    assert result.stdout == b""


def test_directory_given_as_secret_file_is_one_line_and_status_2(tmp_path):
    result = radar("mask", "--secret-file", tmp_path, input=LOG)
    assert "is a directory" in assert_one_line_error(result)
    assert result.returncode == 2


def test_unreadable_secret_file_is_one_line_without_the_secret_and_status_2(tmp_path):
    path = secret_file(tmp_path, b"unreadable-secret-3")
    path.chmod(0)
    result = radar("mask", "--secret-file", path, input=b"x",
                   prefix=without_file_access_override())
    message = assert_one_line_error(result, b"unreadable-secret-3")
    assert "permission denied" in message and str(path) in message
    assert result.returncode == 2


def test_missing_variable_is_one_line_naming_it_and_status_2():
    result = radar("mask", "--secret-env", "NOT_SET_ANYWHERE", input=LOG)
    assert "variable NOT_SET_ANYWHERE is not set" in assert_one_line_error(result)
    assert result.returncode == 2


def test_unknown_option_is_a_usage_error_with_status_2():
    result = radar("mask", "--no-such-option", input=b"")
    assert result.returncode == 2
    assert b"Traceback" not in result.stderr


def test_dash_dash_without_a_command_is_a_usage_error_and_status_2(tmp_path):
    result = radar("mask", "--secret-file", secret_file(tmp_path), "--", input=b"")
    lines = result.stderr.decode().splitlines()
    assert lines[0].startswith("usage: radar mask ") and lines[-1].startswith("radar mask: error: nothing to run")
    if SECRET in result.stderr:
        pytest.fail("the secret reached stderr")
    assert b"Traceback" not in result.stderr and result.returncode == 2


def test_a_pem_key_file_is_one_secret(tmp_path):
    body = b"".join(b"MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC%02d\n" % i for i in range(25))
    pem = b"-----BEGIN PRIVATE KEY-----\n" + body + b"-----END PRIVATE KEY-----\n"
    result = radar("mask", "--secret-file", secret_file(tmp_path, pem), input=b"key: " + pem)
    assert result.stdout == b"key: [MASKED]\n"


def test_full_disk_on_standard_output_is_one_line_and_status_2(tmp_path):
    with open("/dev/full", "wb") as full:
        result = subprocess.run([*RADAR, "mask", "--secret-file", secret_file(tmp_path)], input=LOG,
                                stdout=full, stderr=subprocess.PIPE, env=clean_env(), timeout=WAIT)
    assert "cannot write standard output: No space left on device" in assert_one_line_error(result)
    assert result.returncode == 2


def test_output_handed_over_in_non_blocking_mode_is_waited_for_not_lost():
    """A parent may leave radar's stdout non-blocking: a full pipe then refuses a write
    (EAGAIN), and radar waits until the reader drains it rather than dropping output."""
    import os
    import threading

    from radar.mask.wrap import _write_all

    read_end, write_end = os.pipe()
    os.set_blocking(write_end, False)
    parts = [bytes([65 + i % 26]) * 100_000 for i in range(40)]  # 4 MB: many times a pipe's capacity
    received = bytearray()

    def drain() -> None:
        while chunk := os.read(read_end, 1 << 16):
            received.extend(chunk)

    reader = threading.Thread(target=drain)
    reader.start()
    try:
        _write_all(write_end, parts)
    finally:
        os.close(write_end)
        reader.join()
        os.close(read_end)
    assert bytes(received) == b"".join(parts)
