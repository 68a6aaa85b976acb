# gilsafe corpus 16: lazy init (fixed)
import threading

_client = None
_client_lock = threading.Lock()

def make_client():
    return object()

def get_client():
    global _client
    if _client is None:
        with _client_lock:
            if _client is None:
                _client = make_client()
    return _client

for _ in range(2):
    threading.Thread(target=get_client).start()
