# gilsafe corpus 61: annotation (racy)
import threading

class Ledger:
    def __init__(self):
        self._lock = threading.Lock()
        self._audit_lock = threading.Lock()
        self.total = 0  # gilsafe: guarded-by=_lock

    def post(self, key, value):
        with self._audit_lock:
            self.total += value  # expect: GS101

ledger = Ledger()
threading.Thread(target=ledger.post, args=("a", 1)).start()
