# gilsafe corpus 62: annotation (racy)
import threading

from myapp.locking import held

TOTALS = {"n": 0}

def _bump():
    TOTALS["n"] += 1  # expect: GS101

def worker():
    with held("totals"):
        _bump()

threading.Thread(target=worker).start()
