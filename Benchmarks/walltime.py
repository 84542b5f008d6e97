#!/usr/bin/env python3
"""Wall-clock times of short commands, interleaved: Benchmarks/walltime.py ROUNDS RUNS COMMAND...

Each COMMAND is one string, split on spaces (no shell: its start-up would count). In each of ROUNDS rounds every
command runs RUNS times in turn, spawned directly and waited for, its output to /dev/null; the commands take their
turns in an order shuffled afresh each round (with a fixed seed), as a command's place in the round was seen to
weigh on its time. Prints one line per
command: the median and the mean wall-clock milliseconds of all its runs, and the median user + system CPU
milliseconds, tab-separated after the command.

Why not `perf stat`: with its counters inherited by every thread of the command, a program whose threads sleep
and wake each other (ckpt-validate's read-ahead) runs measurably slower under it (here 9.3 to 11 ms against
7.2 to 7.3 ms with this timer or hyperfine, for the same binary and archive), while a single-threaded one such as
`tar -tf` hardly changes (6.0 to 6.2 against 5.9). Benchmarks/validate.sh keeps perf stat for CPU time and page
faults only.
"""
import os
import random
import statistics
import sys
import time


def main():
    rounds, runs = int(sys.argv[1]), int(sys.argv[2])
    commands = sys.argv[3:]
    wall = {c: [] for c in commands}
    cpu = {c: [] for c in commands}
    null = os.open(os.devnull, os.O_WRONLY)
    actions = [(os.POSIX_SPAWN_DUP2, null, 1), (os.POSIX_SPAWN_DUP2, null, 2)]
    shuffler = random.Random(20261130)
    for _ in range(rounds):
        order = list(commands)
        shuffler.shuffle(order)
        for c in order:
            argv = c.split()
            for _ in range(runs):
                start = time.perf_counter()
                pid = os.posix_spawnp(argv[0], argv, os.environ, file_actions=actions)
                _, _, usage = os.wait4(pid, 0)
                wall[c].append((time.perf_counter() - start) * 1000)
                cpu[c].append((usage.ru_utime + usage.ru_stime) * 1000)
    for c in commands:
        print(f"{c}\t{statistics.median(wall[c]):.3f}\t{statistics.mean(wall[c]):.3f}\t{statistics.median(cpu[c]):.3f}")


if __name__ == "__main__":
    main()
