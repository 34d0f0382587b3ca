#!/usr/bin/python3
"""Waits until a store being written has at least K sequences done (or T seconds pass), so a
test can interrupt a run at a chosen point of its progress rather than after a guessed time.

usage: wait_progress.py STORE K TIMEOUT_SECONDS    exit 0: reached; 1: timed out"""
import os
import sys
import time

import h5py

path, k, timeout = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
end = time.time() + timeout
while time.time() < end:
    if os.path.exists(path):
        try:
            with h5py.File(path, "r", locking=False) as f:
                if int(f["sequences/done"][()].sum()) >= k:
                    sys.exit(0)
        except (OSError, KeyError):
            pass  # being created or renamed right now
    time.sleep(0.01)
sys.exit(1)
