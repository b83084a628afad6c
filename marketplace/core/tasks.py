from celery import shared_task


@shared_task(bind=True)
def ping(self, value=None):
    """Diagnostics: proves which worker ran a task (and whether it ran eagerly)."""
    import os
    import threading

    return {
        "value": value,
        "hostname": self.request.hostname,
        "eager": bool(self.request.is_eager),
        "pid": os.getpid(),
        "thread": threading.current_thread().name,
    }
