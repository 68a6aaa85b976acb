# gilsafe corpus 11: lost update (fixed)
import threading

class Worker(threading.Thread):
    def __init__(self, items):
        super().__init__()
        self.items = items
        self.mine = 0

    def run(self):
        for _ in self.items:
            self.mine += 1

workers = [Worker([1, 2]), Worker([3])]
for w in workers:
    w.start()
for w in workers:
    w.join()
processed = sum(w.mine for w in workers)
