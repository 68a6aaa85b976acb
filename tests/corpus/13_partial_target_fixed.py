# gilsafe corpus 13: lost update (fixed)
import functools
import threading

scores = {"a": 0}
scores_lock = threading.Lock()

def award(player, points):
    with scores_lock:
        scores[player] += points

for _ in range(2):
    threading.Thread(target=functools.partial(award, "a", 3)).start()
