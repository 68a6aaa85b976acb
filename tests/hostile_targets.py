"""Targets for `gilsafe stress` that misbehave in every way a user's code can: each must still be a
row of the run, and the run must still print its summary."""

import ctypes
import os
import shutil
import subprocess
import sys
import threading
import time

# A sleep nobody else runs, so a test can tell whether the one a target started is still alive.
SLEEPER_SECONDS = "60.4242"


def exits_via_sys_exit(state=None):
    sys.exit(3)


def exits_via_os_exit(state=None):
    os._exit(7)


def forks_a_long_lived_child(state=None):
    if os.fork() == 0:  # the child keeps every descriptor the worker had
        time.sleep(60)
        os._exit(0)


def spawns_a_sleeper(state=None):
    subprocess.Popen(["sleep", SLEEPER_SECONDS])  # inherits the worker's stdout and stderr


def prints_without_newline(state=None):
    print(".", end="", flush=True)


def recurses_forever(state=None):
    return recurses_forever(state)


def leaks_a_thread(state=None):
    threading.Thread(target=time.sleep, args=(60,)).start()  # not a daemon: exit would wait for it


def segfaults(state=None):
    ctypes.string_at(0)


def hangs(state=None):
    time.sleep(3600)


def removes_the_output_folder(state=None):
    """The --json folder vanishes during the run (a cleanup job, a full disk, an unmounted share)."""
    shutil.rmtree(os.environ["GILSAFE_TEST_OUTPUT_FOLDER"], ignore_errors=True)
