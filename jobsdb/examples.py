"""A stand-in GPU job for `jobsdb worker POOL jobsdb.examples:render`.

It "renders" for a moment and returns fake asset paths in the job's output bucket (nothing is
uploaded). A job's metadata can steer it, for demos and tests:

  fake_seconds: float   how long to "render" (default 0.2)
  fake_fail: "once" | "always" | "permanent"   raise JobFailed on the first attempt, on every
                        attempt, or PermanentJobFailure
  fake_hang: true       never return (the worker's --job-timeout stops it)
  fake_path: str        report this asset path instead of <user_id>/<job_id>.png
  fake_nan: true        return metadata holding NaN (not JSON: the worker fails the job for good)
"""

from __future__ import annotations

import time
from typing import Any

from jobsdb.jobproc import JobFailed, PermanentJobFailure


def render(job: dict[str, Any]) -> dict[str, Any]:
    meta = job.get("metadata") or {}
    if meta.get("fake_hang"):
        while True:
            time.sleep(1)
    fail = meta.get("fake_fail")
    if fail == "permanent":
        raise PermanentJobFailure("the prompt cannot be rendered (fake)")
    if fail == "always" or (fail == "once" and job["attempt"] == 1):
        raise JobFailed(f"CUDA out of memory (fake, attempt {job['attempt']})")
    time.sleep(float(meta.get("fake_seconds", 0.2)))
    video = job["job_type"].startswith(("video", "wan_video"))
    path = meta.get("fake_path") or f"{job['user_id']}/{job['job_id']}.{'mp4' if video else 'png'}"
    return {
        "assets": [{
            "type": "video" if video else "image", "url": path,
            "thumbnail_url": f"{path}.thumb.png", "metadata": {"seed": 42},
        }],
        "metadata": {"enhanced_prompt": f"{job.get('prompt') or ''}, highly detailed",
                     "enhancement_time_ms": 12,
                     "quality_rating": float("nan") if meta.get("fake_nan") else 80},
    }
