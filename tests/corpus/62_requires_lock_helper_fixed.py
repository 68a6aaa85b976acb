# gilsafe corpus 62: annotation (fixed)
import threading

import gilsafe
from myapp.locking import held

TOTALS = {"n": 0}

@gilsafe.requires_lock("TOTALS_LOCK")
def _bump():
    TOTALS["n"] += 1

def worker():
    with held("totals"):  # takes TOTALS_LOCK, which gilsafe cannot see
        _bump()

for _ in range(2):
    threading.Thread(target=worker).start()
