# gilsafe corpus 68: lost update (racy)
from concurrent.futures import ThreadPoolExecutor

class Crawler:
    def __init__(self):
        self.pool = ThreadPoolExecutor(4)
        self.fetched = 0

    def fetch(self, url):
        self.fetched += 1  # expect: GS101
        return url

    def crawl(self, urls):
        return [self.pool.submit(self.fetch, u) for u in urls]
