# gilsafe corpus 33: iteration (fixed)
import threading
from concurrent.futures import ThreadPoolExecutor

class Room:
    def __init__(self):
        self.members = set()
        self.lock = threading.Lock()

    def join(self, name):
        with self.lock:
            self.members.add(name)

    def broadcast(self, text):
        with self.lock:
            members = list(self.members)
        for member in members:
            print(member, text)

room = Room()
with ThreadPoolExecutor() as pool:
    pool.submit(room.join, "ann")
    pool.submit(room.broadcast, "hi")
