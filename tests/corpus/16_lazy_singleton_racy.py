# gilsafe corpus 16: lazy init (racy)
import threading

_client = None

def make_client():
    return object()

def get_client():
    global _client
    if _client is None:  # expect: GS103
        _client = make_client()
    return _client

for _ in range(2):
    threading.Thread(target=get_client).start()
