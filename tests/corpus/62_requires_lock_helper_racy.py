# gilsafe corpus 62: annotation (racy)
import threading

from myapp.locking import held

TOTALS = {"n": 0}

def _bump():
    TOTALS["n"] += 1  # expect: GS101

def worker():
    with held("totals"):
        _bump()

for _ in range(2):
    threading.Thread(target=worker).start()
