#!/bin/sh
# test_exec_forked.sh - test_exec with commands forked (no dmf-exec-gate):
# the path a worker takes when the gate program is not installed.
DMF_EXEC_GATE= exec "${abs_top_builddir:-.}/tests/unit/test_exec"
