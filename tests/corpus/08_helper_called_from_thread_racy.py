# gilsafe corpus 08: lost update (racy)
import threading

class Metrics:
    def __init__(self):
        self.requests = 0

    def handle(self):
        self._count()
        return "ok"

    def _count(self):
        self.requests += 1  # expect: GS101

metrics = Metrics()
for _ in range(2):
    threading.Thread(target=metrics.handle).start()
