# gilsafe corpus 13: lost update (racy)
import functools
import threading

scores = {"a": 0}

def award(player, points):
    scores[player] += points  # expect: GS101

for _ in range(2):
    threading.Thread(target=functools.partial(award, "a", 3)).start()
