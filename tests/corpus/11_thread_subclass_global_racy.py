# gilsafe corpus 11: lost update (racy)
import threading

processed = 0

class Worker(threading.Thread):
    def __init__(self, items):
        super().__init__()
        self.items = items
        self.mine = 0

    def run(self):
        global processed
        for _ in self.items:
            self.mine += 1
            processed += 1  # expect: GS101

Worker([1, 2]).start()
Worker([3]).start()
