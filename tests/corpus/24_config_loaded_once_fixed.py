# gilsafe corpus 24: lazy init (fixed)
import functools
import threading

@functools.cache
def config():
    return {"debug": False}

threading.Thread(target=config).start()
