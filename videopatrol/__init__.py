"""Video patrol (视频巡查, issue #18): plans of cameras to walk through, the rounds operators make, their marks."""
