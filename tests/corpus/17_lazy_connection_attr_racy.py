# gilsafe corpus 17: lazy init (racy)
from concurrent.futures import ThreadPoolExecutor

class Repository:
    def __init__(self):
        self._conn = None

    def connection(self):
        if self._conn is None:  # expect: GS103
            self._conn = {"open": True}
        return self._conn

    def fetch(self, key):
        return self.connection(), key

repo = Repository()
with ThreadPoolExecutor() as pool:
    pool.map(repo.fetch, ["a", "b"])
