# gilsafe corpus 32: iteration (fixed)
import threading

latency = {}
latency_lock = threading.Lock()

def record(endpoint, ms):
    with latency_lock:
        latency[endpoint] = ms

def report():
    with latency_lock:
        snapshot = list(latency.values())
    return sum(snapshot)

threading.Thread(target=record, args=("/a", 3)).start()
threading.Thread(target=report).start()
