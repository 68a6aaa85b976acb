# gilsafe corpus 23: check-then-act (fixed)
import threading

class Bucket:
    def __init__(self, n):
        self.tokens = list(range(n))
        self.lock = threading.Lock()

    def take(self):
        with self.lock:
            if len(self.tokens) > 0:
                return self.tokens.pop()
        return None

bucket = Bucket(5)
for _ in range(8):
    threading.Thread(target=bucket.take).start()
