# gilsafe corpus 36: iteration (fixed)
import threading

class Inventory:
    def __init__(self):
        self.stock = {}
        self.lock = threading.Lock()

    def restock(self, item):
        with self.lock:
            self.stock[item] = 10

    def low(self):
        with self.lock:
            return [k for k in self.stock if self.stock[k] < 3]

inv = Inventory()
threading.Thread(target=inv.restock, args=("x",)).start()
threading.Thread(target=inv.low).start()
