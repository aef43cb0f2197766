"""Public result downloads: ``GET /public/results/{job_id}``."""
