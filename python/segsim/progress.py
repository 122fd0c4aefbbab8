"""A one-line text progress bar on stderr, fed by the kernel's progress callback."""

import sys


def format_ns(ns):
    for unit, scale in (("s", 1e9), ("ms", 1e6), ("us", 1e3)):
        if abs(ns) >= scale:
            return f"{ns / scale:.4g}{unit}"
    return f"{ns}ns"


class ProgressBar:
    def __init__(self, start_ns, end_ns, stream=None, width=30):
        self.start_ns = start_ns
        self.end_ns = end_ns
        self.stream = stream if stream is not None else sys.stderr
        self.width = width
        self.last = (0, 0.0, 0.0)  # events, wall seconds, events per second at the last update

    def __call__(self, now_ns, end_ns, events, wall_seconds, events_per_second):
        span = max(1, self.end_ns - self.start_ns)
        fraction = min(1.0, max(0.0, (now_ns - self.start_ns) / span))
        filled = int(fraction * self.width)
        bar = "#" * filled + "-" * (self.width - filled)
        self.stream.write(f"\r[{bar}] {fraction * 100:5.1f}% {format_ns(now_ns)} of {format_ns(self.end_ns)}, "
                          f"{events_per_second / 1e6:.2f} M events/s, {wall_seconds:.1f} s wall ")
        self.stream.flush()
        self.last = (events, wall_seconds, events_per_second)

    def close(self, now_ns):
        self(now_ns, self.end_ns, *self.last)
        self.stream.write("\n")
        self.stream.flush()
