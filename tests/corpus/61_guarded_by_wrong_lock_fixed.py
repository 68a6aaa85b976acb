# gilsafe corpus 61: annotation (fixed)
import threading

class Ledger:
    def __init__(self):
        self._lock = threading.Lock()
        self._audit_lock = threading.Lock()
        self.total = 0  # gilsafe: guarded-by=_lock

    def post(self, key, value):
        with self._lock:
            self.total += value

ledger = Ledger()
threading.Thread(target=ledger.post, args=("a", 1)).start()
