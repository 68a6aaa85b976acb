# gilsafe corpus 05: lost update (racy)
import threading

class Account:
    def __init__(self, balance):
        self.balance = balance

    def withdraw(self, amount):
        if amount <= 0:
            raise ValueError(amount)
        self.balance -= amount  # expect: GS101

account = Account(100)
for _ in range(2):
    threading.Thread(target=account.withdraw, args=(10,)).start()
