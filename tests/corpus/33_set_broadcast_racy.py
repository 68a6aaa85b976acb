# gilsafe corpus 33: iteration (racy)
from concurrent.futures import ThreadPoolExecutor

class Room:
    def __init__(self):
        self.members = set()

    def join(self, name):
        self.members.add(name)

    def broadcast(self, text):
        for member in self.members:  # expect: GS104
            print(member, text)

room = Room()
with ThreadPoolExecutor() as pool:
    pool.submit(room.join, "ann")
    pool.submit(room.broadcast, "hi")
