# gilsafe corpus 18: cache (racy)
from concurrent.futures import ThreadPoolExecutor

class Memo:
    def __init__(self, fn):
        self.fn = fn
        self.results = {}

    def __call__(self, arg):
        if arg not in self.results:  # expect: GS103
            self.results[arg] = self.fn(arg)
        return self.results[arg]

square = Memo(lambda x: x * x)
with ThreadPoolExecutor() as pool:
    pool.submit(square.__call__, 3)
