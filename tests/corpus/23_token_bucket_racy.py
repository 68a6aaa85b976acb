# gilsafe corpus 23: check-then-act (racy)
import threading

class Bucket:
    def __init__(self, n):
        self.tokens = list(range(n))

    def take(self):
        if len(self.tokens) > 0:  # expect: GS103
            return self.tokens.pop()
        return None

bucket = Bucket(5)
for _ in range(8):
    threading.Thread(target=bucket.take).start()
