"""RQ jobs and the worker entry point; the model is loaded once per worker process."""
