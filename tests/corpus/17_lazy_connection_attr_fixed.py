# gilsafe corpus 17: lazy init (fixed)
import threading
from concurrent.futures import ThreadPoolExecutor

class Repository:
    def __init__(self):
        self._conn = None
        self._lock = threading.Lock()

    def connection(self):
        with self._lock:
            if self._conn is None:
                self._conn = {"open": True}
            return self._conn

    def fetch(self, key):
        return self.connection(), key

repo = Repository()
with ThreadPoolExecutor() as pool:
    pool.map(repo.fetch, ["a", "b"])
