# gilsafe corpus 24: lazy init (racy)
import threading

_config = {}

def load():
    return {"debug": False}

def config():
    if not _config:  # expect: GS103
        _config.update(load())
    return _config

for _ in range(2):
    threading.Thread(target=config).start()
