#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Where a guest scenario's time went, from its timeline.txt (scenario.sh's stamps):
each step since the previous stamp, then the totals that matter for the budget
(daemon start-ups, the SIGKILL phase, the drain and dump waits).

    phases.py <results dir>      prints the table; run.sh saves it as phases.txt
"""
import re
import sys


def main(results):
    marks = []
    for line in open(f"{results}/timeline.txt"):
        f = line.split()
        if len(f) == 2 and f[1].isdigit():
            marks.append((f[0], int(f[1])))
    if not marks:
        print("no timeline")
        return
    t0 = marks[0][1]
    print(f"{'step (ends at the stamp)':<36} {'took s':>8} {'at s':>8}")
    for (_, prev), (name, t) in zip(marks, marks[1:]):
        print(f"{name:<36} {(t - prev) / 1e9:8.1f} {(t - t0) / 1e9:8.1f}")
    at = dict(marks)
    starts = []
    for name, t in marks:
        m = re.fullmatch(r"daemon-(.+)-start", name)
        if m and f"daemon-{m[1]}-ready" in at:
            starts.append(at[f"daemon-{m[1]}-ready"] - t)
    total = (marks[-1][1] - t0) / 1e9
    sum_starts = sum(starts) / 1e9
    print(f"daemon start-ups: {len(starts)}, {sum_starts:.1f} s in all"
          f" ({sum_starts / max(len(starts), 1):.1f} s each; {100 * sum_starts / max(total, 1e-9):.0f} % of the scenario)")
    for a, b, what in (("scenario-start", "daemon-guest-a-ready", "set-up: broker, first daemon"),
                       ("daemon-guest-a-ready", "dumped-a", "phases A/B: six channels, hostile input, sensors, commands, drain, dump"),
                       ("kill-phase-start", "kill-phase-end", "SIGKILL stress"),
                       ("kill-phase-end", "dumped-b", "last drain and dump")):
        if a in at and b in at:
            print(f"{what}: {(at[b] - at[a]) / 1e9:.1f} s")
    print(f"scenario: {total:.1f} s")


if __name__ == "__main__":
    main(sys.argv[1])
