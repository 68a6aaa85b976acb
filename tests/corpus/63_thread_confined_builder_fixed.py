# gilsafe corpus 63: annotation (fixed)
import threading

import gilsafe

parts = []

@gilsafe.thread_confined
def build(n):
    for i in range(n):
        parts.insert(0, i)  # only the one builder thread ever touches parts

threading.Thread(target=build, args=(3,)).start()
