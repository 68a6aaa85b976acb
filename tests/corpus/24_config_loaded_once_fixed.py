# gilsafe corpus 24: lazy init (fixed)
import functools
import threading

@functools.cache
def config():
    return {"debug": False}

for _ in range(2):
    threading.Thread(target=config).start()
