"""What the bench ran on: recorded in the JSON so a figure can be read in context."""

from __future__ import annotations

import os
import platform
import sys
from pathlib import Path


def cpu_model(cpuinfo: Path = Path("/proc/cpuinfo")) -> str:
    """The CPU's model name, from /proc/cpuinfo where there is one."""
    try:
        for line in cpuinfo.read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith("model name"):
                return line.partition(":")[2].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def load_average() -> list[float] | None:
    """The 1, 5 and 15 minute load averages, or None where the OS has none."""
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def cpu_flags(cpuinfo: Path = Path("/proc/cpuinfo")) -> list[str]:
    """The vector-instruction flags that decide int8 speed (AVX2, AVX512, VNNI)."""
    try:
        text = cpuinfo.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    for line in text.splitlines():
        if line.startswith("flags"):
            flags = line.partition(":")[2].split()
            return sorted(f for f in flags if f.startswith(("avx", "amx")) or "vnni" in f)
    return []


def memory_total_mb(meminfo: Path = Path("/proc/meminfo")) -> int | None:
    """Physical memory in MB, from /proc/meminfo."""
    try:
        for line in meminfo.read_text(encoding="utf-8").splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) // 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def describe_host() -> dict[str, object]:
    """CPU model and flags, cores, memory, OS and the Python running the bench."""
    return {
        "cpu_model": cpu_model(),
        "cpu_flags": cpu_flags(),
        "cores": os.cpu_count(),
        "memory_mb": memory_total_mb(),
        "os": f"{platform.system()} {platform.release()}",
        "machine": platform.machine(),
        "host_python": platform.python_version(),
        "host_python_executable": sys.executable,
    }
