# gilsafe corpus 08: lost update (fixed)
import threading

class Metrics:
    def __init__(self):
        self.requests = 0
        self._lock = threading.Lock()

    def handle(self):
        with self._lock:
            self._count()
        return "ok"

    def _count(self):
        self.requests += 1

metrics = Metrics()
for _ in range(2):
    threading.Thread(target=metrics.handle).start()
