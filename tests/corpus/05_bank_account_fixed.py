# gilsafe corpus 05: lost update (fixed)
import threading

class Account:
    def __init__(self, balance):
        self.balance = balance
        self._lock = threading.Lock()

    def withdraw(self, amount):
        if amount <= 0:
            raise ValueError(amount)
        with self._lock:
            self.balance -= amount

account = Account(100)
for _ in range(2):
    threading.Thread(target=account.withdraw, args=(10,)).start()
