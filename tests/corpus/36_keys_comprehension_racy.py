# gilsafe corpus 36: iteration (racy)
import threading

class Inventory:
    def __init__(self):
        self.stock = {}

    def restock(self, item):
        self.stock[item] = 10

    def low(self):
        return [k for k in self.stock if self.stock[k] < 3]  # expect: GS104

inv = Inventory()
threading.Thread(target=inv.restock, args=("x",)).start()
threading.Thread(target=inv.low).start()
