# gilsafe corpus 68: lost update (fixed)
import threading
from concurrent.futures import ThreadPoolExecutor

class Crawler:
    def __init__(self):
        self.pool = ThreadPoolExecutor(4)
        self.fetched = 0
        self.lock = threading.Lock()

    def fetch(self, url):
        with self.lock:
            self.fetched += 1
        return url

    def crawl(self, urls):
        return [self.pool.submit(self.fetch, u) for u in urls]
