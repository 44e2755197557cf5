"""Shared by the escape programs: each does a control action that must work, then an
attack that must fail. Exit 0: the sandbox held. Exit 1: the attack worked (escape).
Exit 2: the control failed (the test would prove nothing)."""
import os
import sys

WORK = os.environ["WORK"]


def control(what, fn):
    try:
        fn()
    except OSError as e:
        print(f"control failed: {what}: {e}")
        sys.exit(2)


def attack(what, fn):
    try:
        r = fn()
    except OSError as e:
        print(f"held: {what}: {e}")
        return
    print(f"ESCAPED: {what}: {r!r}")
    sys.exit(1)


def read(path, **kw):
    with open(path, **kw) as f:
        return f.read()
