"""Soak an artifact on the local function URL and report each process's memory.

    python tests/perf/soak.py dist/minilm-l6-v2-py312-x86_64.zip --requests 5000

Starts ``coldbrew serve ARTIFACT`` on 127.0.0.1 (a real serve process, as a
user runs it), sends ``--requests`` requests from ``--concurrency`` keep-alive
connections, a fixed mix of valid and malformed ones (every valid text is new,
so the function's cache never answers), and reads the resident memory of the
serve process and of each sandbox process (its children) from
``/proc/<pid>/status`` (VmRSS, and VmHWM, the kernel's high-water mark) every
``--sample-every`` requests. It ends with each process's start, peak and end
RSS and its growth per 1,000 requests, as a table and as JSON (``--json``).
The start is read after ``--warmup`` requests, once the model is loaded.

A benchmark, not a test: it never judges its figures. It is bounded in count
and time (``--max-seconds``), sends only to loopback, and stops the serve
process it started. Linux only (/proc).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

_SERVING = re.compile(r"Serving .* at (http://127\.0\.0\.1:(\d+))")
_HOST = "127.0.0.1"


@dataclass(frozen=True)
class Memory:
    """One read of ``/proc/<pid>/status``, in kB."""

    rss_kb: int  # VmRSS: resident now
    hwm_kb: int  # VmHWM: the most it was ever resident


def read_memory(pid: int, proc: Path = Path("/proc")) -> Memory | None:
    """VmRSS and VmHWM of ``pid``; None if the process is gone."""
    try:
        status = (proc / str(pid) / "status").read_text()
    except OSError:
        return None
    fields = dict(re.findall(r"^(VmRSS|VmHWM):\s+(\d+) kB$", status, re.MULTILINE))
    if "VmRSS" not in fields:
        return None  # a zombie: no memory left to read
    return Memory(int(fields["VmRSS"]), int(fields["VmHWM"]))


def children(pid: int, proc: Path = Path("/proc")) -> list[int]:
    """The processes whose parent is ``pid`` (the serve process's sandboxes)."""
    found = []
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # "pid (comm) state ppid ...": comm may hold spaces and parentheses.
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry.name))
    return sorted(found)


# (kind, method, path, body, expected status)
def request_mix(
    rng: random.Random, serial: int, valid_share: float = 0.55
) -> tuple[str, str, str, bytes | None, int]:
    """The ``serial``-th request: mostly valid embeds, every kind of refusal between."""
    roll = rng.random()
    if roll < valid_share:
        texts = [
            f"soak request {serial} sentence {i} {rng.random()}" for i in range(rng.randint(1, 4))
        ]
        return "embed", "POST", "/embed", json.dumps({"inputs": texts}).encode(), 200
    malformed: list[tuple[str, str, str, bytes | None, int]] = [
        ("health", "GET", "/health", None, 200),
        ("invalid JSON", "POST", "/embed", b'{"inputs": [', 400),
        ("wrong type", "POST", "/embed", b'{"inputs": [42]}', 400),
        ("empty inputs", "POST", "/embed", b'{"inputs": []}', 400),
        ("too many inputs", "POST", "/embed", json.dumps({"inputs": ["x"] * 65}).encode(), 413),
        ("input too long", "POST", "/embed", json.dumps({"inputs": ["y" * 10_001]}).encode(), 413),
        ("unknown path", "GET", "/nope", None, 404),
        ("wrong method", "GET", "/embed", None, 405),
        ("not JSON at all", "POST", "/embed", bytes(rng.randrange(256) for _ in range(64)), 400),
    ]
    return malformed[int((roll - valid_share) / (1 - valid_share) * len(malformed))]


@dataclass
class Load:
    """Shared by the client threads: what to send and what came back."""

    total: int
    deadline: float
    valid_share: float
    sent: int = 0
    done: int = 0
    statuses: Counter[str] = field(default_factory=Counter)
    unexpected: Counter[str] = field(default_factory=Counter)  # "kind: got N"
    lock: threading.Lock = field(default_factory=threading.Lock)

    def take(self) -> int | None:
        with self.lock:
            if self.sent >= self.total or time.monotonic() > self.deadline:
                return None
            self.sent += 1
            return self.sent

    def record(self, kind: str, status: int | str, expected: int) -> None:
        with self.lock:
            self.done += 1
            self.statuses[str(status)] += 1
            if status != expected:
                self.unexpected[f"{kind}: got {status}, expected {expected}"] += 1


def client(port: int, load: Load, seed: int) -> None:
    """Send requests over one keep-alive connection (reopened after a close) until done."""
    rng = random.Random(seed)
    connection = http.client.HTTPConnection(_HOST, port, timeout=60)
    while (serial := load.take()) is not None:
        kind, method, path, body, expected = request_mix(rng, serial, load.valid_share)
        headers = {"Content-Type": "application/json"} if body is not None else {}
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            response.read()
            status: int | str = response.status
            if response.getheader("Connection", "").lower() == "close":
                connection.close()
        except (OSError, http.client.HTTPException) as exc:
            status = type(exc).__name__
            connection.close()
        load.record(kind, status, expected)
    connection.close()


def start_serve(
    artifact: Path, concurrency: int, timeout_s: float
) -> tuple[subprocess.Popen[str], int]:
    """``coldbrew serve ARTIFACT`` on a free loopback port; (process, port) once it serves."""
    command = [
        sys.executable, "-c", "import sys; from coldbrew.cli import main; sys.exit(main())",
        "serve", str(artifact), "--host", _HOST, "--port", "0",
        "--max-concurrency", str(concurrency),
    ]  # fmt: skip
    serve = subprocess.Popen(
        command,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert serve.stderr is not None
    found: list[int] = []
    seen: list[str] = []

    def pump() -> None:  # read the log to its end, or serve blocks on a full pipe
        assert serve.stderr is not None
        for line in serve.stderr:
            if not found:
                seen.append(line)
                if match := _SERVING.search(line):
                    found.append(int(match.group(2)))

    threading.Thread(target=pump, name="serve-log", daemon=True).start()
    deadline = time.monotonic() + timeout_s
    while not found and serve.poll() is None and time.monotonic() < deadline:
        time.sleep(0.1)
    if not found:
        code = serve.poll()
        stop_serve(serve)
        why = (
            f"exited with code {code}" if code is not None else f"not serving after {timeout_s:g} s"
        )
        sys.exit(f"coldbrew serve {why}:\n{''.join(seen[-20:])}")
    return serve, found[0]


def stop_serve(serve: subprocess.Popen[str]) -> None:
    """SIGTERM (serve stops its sandboxes on the way out), then SIGKILL after 30 s."""
    if serve.poll() is None:
        serve.send_signal(signal.SIGTERM)
        try:
            serve.wait(30)
        except subprocess.TimeoutExpired:
            serve.kill()
            serve.wait()


def sample(serve_pid: int, requests: int, started: float) -> dict[str, Any]:
    """One read of every process: the serve process and each of its sandboxes."""
    processes = {}
    for pid in (serve_pid, *children(serve_pid)):
        memory = read_memory(pid)
        if memory is not None:
            role = "serve" if pid == serve_pid else "sandbox"
            processes[str(pid)] = {"role": role, **asdict(memory)}
    return {
        "requests": requests,
        "elapsed_s": round(time.monotonic() - started, 3),
        "processes": processes,
    }


def summarize(samples: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per process: start (first read), peak (VmHWM), end (last read), and its growth per
    1,000 requests, from start to end and over the second half of the reads."""
    seen: dict[str, list[tuple[int, dict[str, Any]]]] = {}
    for s in samples:
        for pid, read in s["processes"].items():
            seen.setdefault(pid, []).append((s["requests"], read))
    summary = []
    for pid, reads in seen.items():
        (first_at, first), (last_at, last) = reads[0], reads[-1]
        # The second half shows a steady state: bounded caches and logs fill early.
        middle_at, middle = min(reads, key=lambda r: abs(r[0] - (first_at + last_at) / 2))
        summary.append({
            "pid": int(pid), "role": first["role"], "reads": len(reads),
            "first_read_at_requests": first_at, "last_read_at_requests": last_at,
            "start_rss_kb": first["rss_kb"], "end_rss_kb": last["rss_kb"],
            "peak_rss_kb": max(max(r["rss_kb"], r["hwm_kb"]) for _, r in reads),
            "growth_kb_per_1000_requests": _growth(first_at, first, last_at, last),
            "second_half_growth_kb_per_1000_requests": _growth(middle_at, middle, last_at, last),
            "alive_at_end": last_at == samples[-1]["requests"] and pid in samples[-1]["processes"],
        })  # fmt: skip
    return sorted(summary, key=lambda p: (p["role"] != "serve", p["pid"]))


def _growth(start_at: int, start: dict[str, Any], end_at: int, end: dict[str, Any]) -> float | None:
    span = end_at - start_at
    return None if span <= 0 else round((end["rss_kb"] - start["rss_kb"]) * 1000 / span, 1)


def table(summary: list[dict[str, Any]]) -> str:
    """The summary as a plain-text table (MB, and kB per 1,000 requests)."""
    rows = [("pid", "role", "reads", "start MB", "peak MB", "end MB", "kB/1k req", "2nd half")]
    for p in summary:
        growth = [p["growth_kb_per_1000_requests"], p["second_half_growth_kb_per_1000_requests"]]
        rows.append((
            str(p["pid"]), p["role"] + ("" if p["alive_at_end"] else " (gone)"), str(p["reads"]),
            f"{p['start_rss_kb'] / 1024:.1f}", f"{p['peak_rss_kb'] / 1024:.1f}",
            f"{p['end_rss_kb'] / 1024:.1f}", *("-" if g is None else f"{g:+.1f}" for g in growth),
        ))  # fmt: skip
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(c.rjust(w) for c, w in zip(r, widths, strict=True)) for r in rows)


def soak(args: argparse.Namespace) -> dict[str, Any]:
    """Serve, load, sample, stop; the report."""
    serve, port = start_serve(args.artifact, args.concurrency, args.start_timeout)
    try:
        started = time.monotonic()
        load = Load(args.warmup + args.requests, started + args.max_seconds, args.valid_share)
        threads = [
            threading.Thread(target=client, args=(port, load, seed), name=f"soak-client-{seed}")
            for seed in range(args.concurrency)
        ]
        for thread in threads:
            thread.start()
        samples = []
        next_read = args.warmup
        while any(t.is_alive() for t in threads):
            if load.done >= next_read:
                samples.append(sample(serve.pid, load.done - args.warmup, started))
                next_read += args.sample_every
            time.sleep(0.02)
        for thread in threads:
            thread.join()
        samples.append(sample(serve.pid, load.done - args.warmup, started))
        elapsed = time.monotonic() - started
    finally:
        stop_serve(serve)
    measured = [s for s in samples if s["requests"] >= 0]
    return {
        "artifact": str(args.artifact),
        "serve_pid": serve.pid,
        "requests": {
            "warmup": min(load.done, args.warmup),
            "measured": max(0, load.done - args.warmup),
        },
        "concurrency": args.concurrency,
        "valid_share": args.valid_share,
        "elapsed_s": round(elapsed, 2),
        "stopped_by_time": load.sent < load.total,
        "statuses": dict(sorted(load.statuses.items())),
        "server_errors": sum(n for s, n in load.statuses.items() if s.startswith("5")),
        "unexpected": dict(load.unexpected),
        "processes": summarize(measured),
        "samples": measured,
    }


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("artifact", type=Path, help="a Lambda zip (or layer part, or build report)")
    parser.add_argument(
        "--requests", type=int, default=2000, help="requests measured (after warm-up)"
    )
    parser.add_argument("--warmup", type=int, default=100, help="requests before the first read")
    parser.add_argument("--concurrency", type=int, default=2, help="connections (and sandboxes)")
    parser.add_argument(
        "--valid-share", type=float, default=0.55, help="share of valid embeds in the mix (0-1)"
    )
    parser.add_argument("--sample-every", type=int, default=250, help="requests between reads")
    parser.add_argument("--max-seconds", type=float, default=900, help="stop sending after this")
    parser.add_argument(
        "--start-timeout", type=float, default=300, help="seconds for serve to start"
    )
    parser.add_argument("--json", type=Path, help="also write the report here")
    args = parser.parse_args(argv)
    limits = {
        "requests": (1, 1_000_000),
        "warmup": (0, 100_000),
        "concurrency": (1, 16),
        "sample_every": (1, 1_000_000),
    }
    for name, (low, high) in limits.items():
        if not low <= getattr(args, name) <= high:
            parser.error(f"--{name.replace('_', '-')} must be between {low:,} and {high:,}")
    if not 0 <= args.valid_share <= 1:
        parser.error("--valid-share must be between 0 and 1")
    if not args.artifact.is_file():
        parser.error(f"{args.artifact}: no such file (build one with 'coldbrew build')")
    if not Path("/proc/self/status").exists():
        parser.error("needs Linux's /proc to read memory")
    return args


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the soak from the command line; returns the report (for tests)."""
    args = parse_args(argv)
    report = soak(args)
    print(table(report["processes"]))
    counts = report["requests"]
    print(
        f"{counts['measured']:,} requests (+{counts['warmup']} warm-up) "
        f"in {report['elapsed_s']} s, "
        f"{report['concurrency']} connections; statuses {report['statuses']}; "
        f"5xx: {report['server_errors']}; unexpected: {sum(report['unexpected'].values())}"
    )
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2) + "\n")
        print(f"JSON: {args.json}")
    return report


if __name__ == "__main__":
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    main()
